"""The sandbox answers the real client libraries the way the platforms do."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError
from listening.management.commands.demo_setup import _demo_channels
from listening.models import Channel, Platform
from listening.roles import ADMIN, COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER
from listening.sandbox import generator
from listening.sandbox.models import SandboxPost, SandboxReply
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_channels(live_server, settings) -> dict[str, Channel]:
    settings.SITE_URL = live_server.url
    _demo_channels(BrandFactory(name="Acme", slug="acme"))
    return {c.platform: c for c in Channel.objects.filter(brand__slug="acme")}


@pytest.mark.django_db
def test_demo_setup_creates_four_sandbox_channels_and_seeds_a_week(settings):
    # Transactional tests before this one may have flushed the groups the data migration made.
    for role in (ADMIN, COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER):
        Group.objects.get_or_create(name=role)
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("demo_setup", stdout=StringIO())
    channels = {c.platform: c for c in Channel.objects.filter(brand__slug="acme")}
    assert set(channels) == {Platform.X, Platform.FACEBOOK, Platform.YOUTUBE, Platform.FEED}
    assert all(c.poll_interval_seconds == 15 for c in channels.values())
    assert channels[Platform.X].api_base_url == "http://127.0.0.1:8123/sandbox/x"
    assert SandboxPost.objects.count() >= 60
    oldest = SandboxPost.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timedelta(days=3)
    # Running it again changes nothing: no new channels, no second seed.
    count = SandboxPost.objects.count()
    call_command("demo_setup", stdout=StringIO())
    assert Channel.objects.filter(brand__slug="acme").count() == 4
    assert SandboxPost.objects.count() == count


@pytest.mark.parametrize("platform", [Platform.X, Platform.FACEBOOK, Platform.YOUTUBE, Platform.FEED])
def test_each_demo_channel_polls_the_sandbox_and_gets_items(demo_channels, platform):
    generator.generate(40, spread=timedelta(hours=6), seed=7)
    connector = get_connector(demo_channels[platform])
    result = connector.fetch({})
    assert result.items, f"{platform} brought nothing from the sandbox"
    assert len({i.external_id for i in result.items}) == len(result.items)
    # A second poll from the returned cursor brings nothing new (after paging is done).
    cursor = result.cursor
    while result.has_more:
        result = connector.fetch(cursor)
        cursor = result.cursor
    again = connector.fetch(cursor)
    first_ids = {i.external_id for i in result.items}
    assert not ({i.external_id for i in again.items} - first_ids) or platform == Platform.FACEBOOK


def test_x_polls_mentions_and_search_drops_retweets_and_own_posts(demo_channels):
    generator.generate(120, spread=timedelta(days=2), seed=3)
    result = get_connector(demo_channels[Platform.X]).fetch({})
    retweets = set(
        SandboxPost.objects.filter(platform="x", payload__has_key="retweet_of").values_list("external_id", flat=True)
    )
    own = set(
        SandboxPost.objects.filter(platform="x", payload__author__id=generator.X_BRAND_USER_ID).values_list(
            "external_id", flat=True
        )
    )
    ids = {i.external_id for i in result.items}
    assert ids and not ids & retweets and not ids & own
    assert any(i.kind == "reply" and i.parent_external_id for i in result.items)
    assert set(result.cursor) == {"mentions", "search"}


def test_new_items_show_on_the_next_poll(demo_channels):
    connector = get_connector(demo_channels[Platform.X])
    result = connector.fetch({})
    while result.has_more:
        result = connector.fetch(result.cursor)
    posts = generator.generate(10, seed=11)
    new_x = {
        p.external_id
        for p in posts
        if p.platform == "x"
        and "@acme" in p.text.lower()
        and not p.payload.get("retweet_of")
        and p.author["id"] != generator.X_BRAND_USER_ID
    }
    assert new_x
    later = connector.fetch(result.cursor)
    assert new_x <= {i.external_id for i in later.items}


def test_reply_through_x_connector_lands_in_the_sandbox(demo_channels):
    posted = get_connector(demo_channels[Platform.X]).post_reply(
        "1599999999999999999", "Thanks! DM us your order number 🙏"
    )
    reply = SandboxReply.objects.get(external_id=posted.external_id)
    assert reply.platform == "x"
    assert reply.in_reply_to == "1599999999999999999"
    assert reply.text == "Thanks! DM us your order number 🙏"


def test_reply_through_facebook_and_youtube_lands_in_the_sandbox(demo_channels):
    fb = get_connector(demo_channels[Platform.FACEBOOK]).post_reply("111_222", "Gracias por escribirnos")
    yt = get_connector(demo_channels[Platform.YOUTUBE]).post_reply("UgzParent", "Thanks for watching!")
    assert SandboxReply.objects.get(external_id=fb.external_id).in_reply_to == "111_222"
    assert SandboxReply.objects.get(external_id=yt.external_id).in_reply_to == "UgzParent"


def test_feed_cannot_be_answered(demo_channels):
    with pytest.raises(ConnectorError) as error:
        get_connector(demo_channels[Platform.FEED]).post_reply("x", "hi")
    assert error.value.permanent


def test_sandbox_generate_command_and_task(db):
    call_command("sandbox_generate", "--count", "15", "--seed", "1", stdout=StringIO())
    assert SandboxPost.objects.count() >= 15
    from listening.sandbox.tasks import sandbox_generate

    before = SandboxPost.objects.count()
    sandbox_generate.delay(2)
    assert SandboxPost.objects.count() >= before + 2
