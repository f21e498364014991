"""The sandbox answers the real client libraries the way the platforms do."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from config.roles import ADMIN, COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER
from listening.connectors import get_connector
from listening.connectors.base import ConnectorError
from listening.models import Channel, Platform
from sandbox import generator
from sandbox.management.commands.demo_setup import _demo_channels
from sandbox.models import SandboxPost, SandboxReply
from tests.factories import BrandFactory, role_groups

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rate_windows():
    # The sandbox counts X calls per 15-minute window in the cache; every test starts a new one.
    cache.clear()


@pytest.fixture
def demo_channels(live_server, settings) -> dict[str, Channel]:
    settings.SITE_URL = live_server.url
    _demo_channels(BrandFactory(name="Acme", slug="acme"))
    return {c.platform: c for c in Channel.objects.filter(brand__slug="acme")}


@pytest.mark.django_db
def test_demo_setup_creates_six_sandbox_channels_and_seeds_a_week(settings):
    # Transactional tests before this one may have flushed the groups the data migration made.
    role_groups([ADMIN, COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER])
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("demo_setup", stdout=StringIO())
    channels = {c.platform: c for c in Channel.objects.filter(brand__slug="acme")}
    assert set(channels) == {
        Platform.X,
        Platform.FACEBOOK,
        Platform.INSTAGRAM,
        Platform.YOUTUBE,
        Platform.LINKEDIN,
        Platform.FEED,
    }
    assert all(c.poll_interval_seconds == 15 for c in channels.values())
    assert channels[Platform.X].api_base_url == "http://127.0.0.1:8123/sandbox/x"
    assert SandboxPost.objects.count() >= 60
    oldest = SandboxPost.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timedelta(days=3)
    # Running it again changes nothing: no new channels, no second seed.
    count = SandboxPost.objects.count()
    call_command("demo_setup", stdout=StringIO())
    assert Channel.objects.filter(brand__slug="acme").count() == 6
    assert SandboxPost.objects.count() == count
    # Served on another port: the sandbox channels follow; an address a person set is kept.
    Channel.objects.filter(platform=Platform.FEED).update(api_base_url="https://alerts.example.com/acme.rss")
    settings.SITE_URL = "http://127.0.0.1:9001"
    call_command("demo_setup", stdout=StringIO())
    channels = {c.platform: c for c in Channel.objects.filter(brand__slug="acme")}
    assert channels[Platform.X].api_base_url == "http://127.0.0.1:9001/sandbox/x"
    assert channels[Platform.FEED].api_base_url == "https://alerts.example.com/acme.rss"


def test_instagram_tags_come_by_poll_and_mentions_by_webhook_each_once(demo_channels):
    """The sandbox tells @mentions as Instagram does, by a signed ``mentions`` delivery only: they
    are in before any poll, read back from the sandbox; the media tagging the account come by poll."""
    from listening.polling import channel_poll

    channel = demo_channels[Platform.INSTAGRAM]
    posts = SandboxPost.objects.filter(platform="instagram")
    told = posts.filter(payload__has_key="mention")
    tagged = posts.filter(kind="tagged").exclude(payload__has_key="mention")
    # Each kind is a draw among the sandbox's items: draw until there is one of each.
    for seed in range(11, 31):
        generator.generate(300, spread=timedelta(hours=6), seed=seed)
        if told.filter(kind="comment").exists() and told.filter(kind="tagged").exists() and tagged.exists():
            break
    assert told.filter(kind="comment").exists() and told.filter(kind="tagged").exists()
    assert set(channel.mentions.values_list("external_id", flat=True)) == set(
        told.values_list("external_id", flat=True)
    )

    channel_poll(channel=channel)
    assert tagged.exists()
    assert set(channel.mentions.values_list("external_id", flat=True)) == set(
        posts.values_list("external_id", flat=True)
    )
    comment = told.filter(kind="comment").first()
    stored = channel.mentions.get(external_id=comment.external_id)
    assert (stored.kind, stored.text, stored.url) == ("mention", comment.text, comment.payload["permalink"])
    assert channel.mentions.get(external_id=tagged.first().external_id).kind == "mention"
    # Delivered again (Meta repeats a delivery it doubts): nothing stored twice.
    from sandbox.instagram import deliver_mentions

    assert deliver_mentions(list(told)) == told.count()
    assert channel.mentions.count() == posts.count()


@pytest.mark.parametrize(
    "platform", [Platform.X, Platform.FACEBOOK, Platform.INSTAGRAM, Platform.YOUTUBE, Platform.LINKEDIN, Platform.FEED]
)
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


def test_every_facebook_item_the_sandbox_posts_is_read_comments_included(demo_channels):
    """The soak found 60 Facebook comments never stored: the sandbox answered the poll's newest-first
    comment reads with the Page's own answers only."""
    generator.generate(60, spread=timedelta(hours=6), seed=5)
    posted = set(
        SandboxPost.objects.filter(platform="facebook").exclude(kind="page_post").values_list("external_id", flat=True)
    )
    assert SandboxPost.objects.filter(platform="facebook", kind__in=("comment", "reply")).exists()
    connector = get_connector(demo_channels[Platform.FACEBOOK])
    result = connector.fetch({})
    read = {i.external_id for i in result.items}
    while result.has_more:
        result = connector.fetch(result.cursor)
        read |= {i.external_id for i in result.items}
    assert posted <= read, f"not read: {sorted(posted - read)}"


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


def test_instagram_comments_arrive_threaded_and_a_reply_lands_once_in_the_thread(demo_channels):
    from listening.polling import channel_poll

    posts = SandboxPost.objects.filter(platform="instagram")
    # A customer's reply is a draw among comments the demo already holds, which are random: draw
    # until the sandbox holds one.
    for seed in range(7, 27):
        generator.generate(120, spread=timedelta(hours=6), seed=seed)
        if posts.filter(kind="reply").exists():
            break
    assert posts.filter(kind="reply").exists()
    channel = demo_channels[Platform.INSTAGRAM]
    channel_poll(channel=channel)
    # every comment and reply the sandbox holds came in, replies under their comment
    assert set(channel.mentions.values_list("external_id", flat=True)) == set(
        posts.values_list("external_id", flat=True)
    )
    reply = posts.filter(kind="reply").first()
    assert channel.mentions.get(external_id=reply.external_id).parent_external_id == reply.parent_external_id

    comment = posts.filter(kind="comment").first()
    connector = get_connector(channel)
    posted = connector.post_reply(comment.external_id, "¡Gracias! Te escribimos por DM.")
    (answer,) = SandboxReply.objects.filter(platform="instagram", in_reply_to=comment.external_id)
    assert answer.external_id == posted.external_id and answer.text == "¡Gracias! Te escribimos por DM."
    # the account's own answer shows in the thread but is never read back as a mention
    channel.refresh_from_db()
    channel.cursor = {}
    channel.save(update_fields=["cursor"])
    assert channel_poll(channel=channel).created == 0
    # a lost delivery outcome is settled by reading the answer back, not by posting again
    found = connector.find_reply(comment.external_id, "¡Gracias! Te escribimos por DM.", since=answer.created_at)
    assert found is not None and found.external_id == posted.external_id


def test_feed_cannot_be_answered(demo_channels):
    with pytest.raises(ConnectorError) as error:
        get_connector(demo_channels[Platform.FEED]).post_reply("x", "hi")
    assert error.value.permanent


def test_sandbox_generate_command_and_task(db):
    call_command("sandbox_generate", "--count", "15", "--seed", "1", stdout=StringIO())
    assert SandboxPost.objects.count() >= 15
    from sandbox.tasks import sandbox_generate

    before = SandboxPost.objects.count()
    sandbox_generate.delay(2)
    assert SandboxPost.objects.count() >= before + 2


def test_sandbox_x_pages_with_next_token_and_sends_rate_limit_headers(client, db):
    generator.generate(80, spread=timedelta(hours=3), seed=5)  # enough for two pages of X mentions
    mentions = f"/sandbox/x/2/users/{generator.X_BRAND_USER_ID}/mentions"
    first = client.get(mentions, {"max_results": 5})
    assert first.status_code == 200
    assert int(first["x-rate-limit-remaining"]) < int(first["x-rate-limit-limit"])
    assert int(first["x-rate-limit-reset"]) > 0
    body = first.json()
    assert len(body["data"]) == 5
    second = client.get(mentions, {"max_results": 5, "pagination_token": body["meta"]["next_token"]})
    newer_first = [t["id"] for t in body["data"]] + [t["id"] for t in second.json()["data"]]
    assert len(set(newer_first)) == 10
    assert [int(i) for i in newer_first] == sorted((int(i) for i in newer_first), reverse=True)
    since = client.get(mentions, {"since_id": body["meta"]["newest_id"]}).json()
    assert since["meta"]["result_count"] == 0


def test_sandbox_x_answers_429_when_the_window_is_spent(client, db, settings, monkeypatch):
    from sandbox import x

    monkeypatch.setattr(x, "X_LIMIT", 0)
    response = client.get(f"/sandbox/x/2/users/{generator.X_BRAND_USER_ID}/mentions")
    assert response.status_code == 429
    assert response["x-rate-limit-remaining"] == "0"


def test_sandbox_rss_honours_etag(client, db):
    generator.generate(40, spread=timedelta(days=1), seed=9)
    first = client.get("/sandbox/feed/rss.xml")
    assert first.status_code == 200
    assert b"<rss" in first.content
    again = client.get("/sandbox/feed/rss.xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_sandbox_text_is_escaped_in_rss(client, db):
    SandboxPost.objects.create(
        platform="feed", external_id="evil", kind="article", sort_key=1, text="<script>alert(1)</script>",
        payload={"title": "</title><script>", "link": "https://evil.example/"},
    )  # fmt: skip
    body = client.get("/sandbox/feed/rss.xml").content
    assert b"<script>" not in body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_generator_task_does_nothing_when_the_sandbox_is_off(db, settings):
    from sandbox.tasks import sandbox_generate

    settings.SANDBOX_ENABLED = False
    sandbox_generate.delay(3)
    assert SandboxPost.objects.count() == 0


@pytest.mark.parametrize(("flag", "scheduled"), [("true", True), ("false", False)])
def test_beat_schedules_the_generator_only_with_the_sandbox(flag, scheduled):
    import os
    import subprocess
    import sys

    code = "import config.settings as s; print('listening.sandbox_generate' in {e['task'] for e in s.CELERY_BEAT_SCHEDULE.values()})"
    env = {**os.environ, "SANDBOX_ENABLED": flag, "DEMO_GENERATOR_INTERVAL": "7"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(scheduled)


@pytest.mark.parametrize(
    "platform", [Platform.X, Platform.FACEBOOK, Platform.INSTAGRAM, Platform.YOUTUBE, Platform.LINKEDIN, Platform.FEED]
)
@pytest.mark.parametrize("rate_limited", [True, False], ids=["rate-limit", "server-error"])
def test_injected_faults_reach_each_connector_as_that_platforms_own_errors(
    demo_channels, settings, monkeypatch, platform, rate_limited
):
    from listening.connectors import RateLimited
    from sandbox import common

    generator.generate(5, seed=3)
    settings.SANDBOX_FAULT_RATE = 1
    monkeypatch.setattr(common.FAULT_RNG, "random", lambda: 0.0 if rate_limited else 0.99)
    with pytest.raises(ConnectorError) as error:
        get_connector(demo_channels[platform]).fetch({})
    assert isinstance(error.value, RateLimited) == rate_limited
    # Transient either way: the channel waits and comes back by itself, no person needed.
    assert not error.value.permanent and not error.value.reconnect
    if rate_limited:
        assert 0 < error.value.retry_after <= 15 * 60


def test_an_injected_fault_on_a_reply_posts_nothing(demo_channels, settings):
    settings.SANDBOX_FAULT_RATE = 1
    with pytest.raises(ConnectorError):
        get_connector(demo_channels[Platform.X]).post_reply("1599999999999999999", "Thanks!")
    assert not SandboxReply.objects.exists()


def test_a_reply_posted_to_the_sandbox_is_found_again_by_its_lookup(demo_channels):
    """What an interrupted delivery reads back: the brand's answers to one item, from X's user timeline
    and from the Graph API's comments of the item."""
    since = timezone.now() - timedelta(minutes=2)
    x = get_connector(demo_channels[Platform.X])
    fb = get_connector(demo_channels[Platform.FACEBOOK])
    assert x.find_reply("1599999999999999999", "Thanks! DM us 🙏", since=since) is None
    assert fb.find_reply("111_222", "Gracias por escribirnos", since=since) is None

    posted_x = x.post_reply("1599999999999999999", "Thanks! DM us 🙏")
    posted_fb = fb.post_reply("111_222", "Gracias por escribirnos")
    assert x.find_reply("1599999999999999999", "Thanks! DM us 🙏", since=since) == posted_x
    assert fb.find_reply("111_222", "Gracias por escribirnos", since=since) == posted_fb
    assert x.find_reply("1588888888888888888", "Thanks! DM us 🙏", since=since) is None  # another item


def test_linkedin_comments_replies_and_mentions_arrive_and_a_reply_lands_once_in_the_thread(demo_channels):
    from listening.polling import channel_poll

    # The generator draws a reply only when it picks a recent comment to answer, which depends on
    # the clock as well as the seed: a round without one of each kind is drawn again.
    kept = set(SandboxPost.objects.values_list("pk", flat=True))
    posts = SandboxPost.objects.filter(platform="linkedin")
    for seed in range(11, 31):
        generator.generate(160, spread=timedelta(hours=6), seed=seed)
        if {"comment", "reply", "tagged"} <= set(posts.values_list("kind", flat=True)):
            break
        SandboxPost.objects.exclude(pk__in=kept).delete()
    assert {"comment", "reply", "tagged"} <= set(posts.values_list("kind", flat=True))
    channel = demo_channels[Platform.LINKEDIN]
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK, channel.last_error
    # every comment, reply and mention the sandbox holds came in, replies under their comment
    assert set(channel.mentions.values_list("external_id", flat=True)) == set(
        posts.values_list("external_id", flat=True)
    )
    reply = posts.filter(kind="reply").first()
    assert channel.mentions.get(external_id=reply.external_id).parent_external_id == reply.parent_external_id
    tagged = posts.filter(kind="tagged").first()
    stored = channel.mentions.get(external_id=tagged.external_id)
    assert (stored.kind, stored.text) == ("mention", tagged.text)  # read back from LinkedIn's little text

    comment = posts.filter(kind="comment").first()
    connector = get_connector(channel)
    posted = connector.post_reply(comment.external_id, "¡Gracias! Te escribimos por mensaje.")
    (answer,) = SandboxReply.objects.filter(platform="linkedin", in_reply_to=comment.external_id)
    assert answer.external_id == posted.external_id and answer.text == "¡Gracias! Te escribimos por mensaje."
    # the organization's own answer is in the thread but is never read back as a mention
    channel.refresh_from_db()
    channel.cursor = {}
    channel.save(update_fields=["cursor"])
    assert channel_poll(channel=channel).created == 0
    # a lost delivery outcome is settled by reading the answer back, not by posting again
    found = connector.find_reply(comment.external_id, "¡Gracias! Te escribimos por mensaje.", since=answer.created_at)
    assert found is not None and found.external_id == posted.external_id


def test_the_generator_task_deletes_a_persons_item_now_and_then(db, settings, monkeypatch):
    from sandbox import deletions, tasks

    generator.generate(30, seed=3)
    before = set(SandboxPost.objects.values_list("external_id", flat=True))
    settings.SANDBOX_DELETE_SHARE = 1.0  # every run, for the test
    # What the task deleted, as it said: the item drawn may be the one the same run just posted.
    deleted: list[SandboxPost] = []
    monkeypatch.setattr(tasks, "delete_some", lambda count: deleted.extend(deletions.delete_some(count)))
    tasks.sandbox_generate.delay(1)
    assert deleted, "nothing was deleted"
    drawn = deleted[-1]  # a Facebook post's or YouTube comment's thread goes with it, listed first
    assert drawn.kind in deletions.DELETABLE[drawn.platform]
    assert not SandboxPost.objects.filter(external_id__in=[post.external_id for post in deleted]).exists()
    assert not SandboxPost.objects.filter(kind="page_post").exclude(external_id__in=before).exists()


def test_posts_published_through_the_connectors_land_on_the_sandbox_and_are_found_and_counted(demo_channels, client):
    x, page = demo_channels[Platform.X], demo_channels[Platform.FACEBOOK]
    before = timezone.now() - timedelta(minutes=1)
    tweet = get_connector(x).publish_post("Summer sale <b>&</b> more", "https://shop.acme.com/summer")
    page_post = get_connector(page).publish_post("Summer sale on the Page", "https://shop.acme.com/summer")

    on_x = SandboxPost.objects.get(platform="x", external_id=tweet.external_id)
    assert on_x.text == "Summer sale <b>&</b> more https://shop.acme.com/summer"
    assert on_x.author["id"] == generator.X_BRAND_USER_ID and on_x.kind == "tweet"
    on_page = SandboxPost.objects.get(platform="facebook", external_id=page_post.external_id)
    assert (on_page.kind, on_page.payload["link"]) == ("page_post", "https://shop.acme.com/summer")
    # Looked up again as an interrupted publication would be: each found, by its own id.
    assert (
        get_connector(x).find_post("Summer sale <b>&</b> more", "https://shop.acme.com/summer", since=before) == tweet
    )
    assert get_connector(page).find_post("Summer sale on the Page", since=before) == page_post
    assert get_connector(x).find_post("Never posted", since=before) is None
    # Their public counts, read as the platforms give them.
    SandboxPost.objects.create(
        platform="facebook", external_id="1_2", kind="comment", text="Nice", sort_key=1,
        parent_external_id=page_post.external_id, thread_external_id=page_post.external_id,
    )  # fmt: skip
    assert get_connector(page).post_metrics([page_post.external_id]) == {
        page_post.external_id: {"reactions": 0, "comments": 1, "shares": 0}
    }
    assert get_connector(x).post_metrics([tweet.external_id])[tweet.external_id]["like_count"] == 0

    page_html = client.get("/sandbox/published/").content.decode()
    assert tweet.external_id in page_html and page_post.external_id in page_html
    assert "Summer sale &lt;b&gt;&amp;&lt;/b&gt; more" in page_html  # shown as written, never as markup


def test_instagram_comments_hidden_are_flagged_and_deleted_ones_are_gone(demo_channels):
    generator.generate(60, spread=timedelta(hours=6), seed=7)
    channel = demo_channels[Platform.INSTAGRAM]
    posts = SandboxPost.objects.filter(platform="instagram")
    comment = (
        posts.filter(
            kind="comment", thread_external_id__in=posts.filter(kind="reply").values("thread_external_id")
        ).first()
        or posts.filter(kind="comment").first()
    )
    other = posts.filter(kind="comment").exclude(pk=comment.pk).first()
    connector = get_connector(channel)
    connector.hide_comment(other.external_id, True)
    other.refresh_from_db()
    assert other.payload["hidden"] is True
    connector.hide_comment(other.external_id, False)
    other.refresh_from_db()
    assert other.payload["hidden"] is False

    connector.delete_comment(comment.external_id)
    assert not posts.filter(external_id=comment.external_id).exists()
    assert not posts.filter(thread_external_id=comment.external_id, kind="reply").exists()
    # Deleting it twice is Graph's "does not exist": a permanent error.
    with pytest.raises(ConnectorError) as error:
        connector.delete_comment(comment.external_id)
    assert error.value.permanent


def test_facebook_comments_hide_and_delete_in_the_sandbox_as_on_instagram(demo_channels):
    generator.generate(60, spread=timedelta(hours=6), seed=7)
    posts = SandboxPost.objects.filter(platform="facebook", kind="comment")
    comment, other = posts[0], posts[1]
    connector = get_connector(demo_channels[Platform.FACEBOOK])
    connector.hide_comment(other.external_id, True)
    other.refresh_from_db()
    assert other.payload["hidden"] is True
    connector.delete_comment(comment.external_id)
    assert not posts.filter(external_id=comment.external_id).exists()
    assert not SandboxPost.objects.filter(platform="facebook", parent_external_id=comment.external_id).exists()


def test_instagram_hashtag_media_arrive_and_a_mention_is_answered_through_the_mentions_edge(demo_channels):
    """The demo follows a hashtag: people's posts with it come by poll. A comment @mentioning the
    account on someone else's post is answered once, where Instagram allows it."""
    from listening.models import HashtagSearch
    from listening.polling import channel_poll

    channel = demo_channels[Platform.INSTAGRAM]
    assert channel.settings["hashtags"] == [generator.IG_HASHTAG]
    posts = SandboxPost.objects.filter(platform="instagram")
    with_hashtag = posts.filter(payload__hashtag=generator.IG_HASHTAG)
    # Hashtag posts and @mentions in comments are draws among the sandbox's items: draw until both.
    for seed in range(11, 31):
        generator.generate(300, spread=timedelta(hours=6), seed=seed)
        if with_hashtag.exists() and posts.filter(kind="comment", payload__mention="comment").exists():
            break
    assert with_hashtag.exists()
    channel_poll(channel=channel)
    channel_poll(channel=channel)
    assert set(with_hashtag.values_list("external_id", flat=True)) <= set(
        channel.mentions.values_list("external_id", flat=True)
    )
    assert HashtagSearch.objects.filter(name=generator.IG_HASHTAG).count() == 1  # looked up once

    comment = posts.filter(kind="comment", payload__mention="comment").first()
    stored = channel.mentions.get(external_id=comment.external_id)
    assert stored.reply_route == "mentions"
    connector = get_connector(channel)
    posted = connector.post_reply(comment.external_id, "¡Lo vemos ya! Te escribimos por DM.")
    (answer,) = SandboxReply.objects.filter(platform="instagram", in_reply_to=comment.external_id)
    assert answer.external_id == posted.external_id
    found = connector.find_reply(comment.external_id, "¡Lo vemos ya! Te escribimos por DM.", since=answer.created_at)
    assert found is not None and found.external_id == posted.external_id


def test_the_demo_competitors_public_accounts_are_read_from_the_sandbox(demo_channels):
    from publishing.competitors import competitors_read_due
    from publishing.models import CompetitorAccount, CompetitorDay
    from sandbox.management.commands.demo_setup import _demo_competitors

    brand = demo_channels[Platform.X].brand
    _demo_competitors(brand)
    assert competitors_read_due() == 4  # Globex and Initech, each on X and on its Page
    assert not CompetitorAccount.objects.exclude(last_error="").exists()
    assert CompetitorDay.objects.filter(account__competitor="Globex", posts__gt=0, engagement__gt=0).exists()
    # Each account's posts by day: Initech has the same handle on X and on Facebook.
    days = CompetitorDay.objects.values_list("account__platform", "account__handle", "day", "posts")
    first = {(platform, handle, day): posts for platform, handle, day, posts in days}
    CompetitorAccount.objects.update(next_read_at=timezone.now())
    assert competitors_read_due() == 4
    again = {(platform, handle, day): posts for platform, handle, day, posts in days.all()}
    assert again == first  # the same posts for the same account and day: the demo is stable


def test_a_post_for_the_linkedin_page_is_published_once_found_again_and_counted(live_server, settings, team, client):
    from publishing import services
    from publishing.models import PostTarget
    from publishing.services import post_create, post_schedule, post_submit, posts_read_metrics, target_publish

    settings.SITE_URL = live_server.url
    _demo_channels(team.brand)
    channel = Channel.objects.get(brand=team.brand, platform=Platform.LINKEDIN)
    text, link = "Summer (finally) is here: #AcmeSummer 15% off_everything", "https://shop.acme.com/summer?a_b=1"
    post = post_create(brand=team.brand, author=team.cm, text=text, link=link, channels=[channel])
    post_submit(post=post, user=team.cm)
    post_schedule(post=post, user=team.cm, at=timezone.now() - timedelta(seconds=1))
    row = post.targets.get()
    assert target_publish(target_id=row.pk).outcome == "published"
    row.refresh_from_db()
    on_li = SandboxPost.objects.get(platform="linkedin", kind="page_post")
    assert row.external_id == on_li.external_id and row.external_id.startswith("urn:li:share:")
    assert on_li.text == f"{text} {link}"  # read as written, the little text undone
    assert "{hashtag|\\#|AcmeSummer}" in on_li.payload["commentary"]

    # A worker died before recording it: the lookup finds it among the organization's posts, once.
    stale = timezone.now() - timedelta(seconds=services.PUBLISHING_STALE_SECONDS + 1)
    PostTarget.objects.filter(pk=row.pk).update(status=PostTarget.Status.PUBLISHING, claimed_at=stale, external_id="")
    assert target_publish(target_id=row.pk).outcome == "published"
    row.refresh_from_db()
    assert row.external_id == on_li.external_id
    assert SandboxPost.objects.filter(platform="linkedin", kind="page_post").count() == 1
    assert get_connector(channel).find_post("Never posted", since=timezone.now() - timedelta(minutes=5)) is None

    # Its counts after an hour: a comment and a like from people.
    SandboxPost.objects.create(
        platform="linkedin", external_id=f"urn:li:comment:({row.external_id},1)", kind="comment", text="Nice",
        sort_key=1, thread_external_id=row.external_id, payload={"activity": row.external_id},
    )  # fmt: skip
    on_li.payload["likes"] = 3
    on_li.save()
    PostTarget.objects.filter(pk=row.pk).update(published_at=timezone.now() - timedelta(hours=2))
    assert posts_read_metrics() == 1
    row.refresh_from_db()
    assert row.metrics == {"reactions": 3, "comments": 1, "impressions": 160, "shares": 0}

    page_html = client.get("/sandbox/published/").content.decode()
    assert row.external_id in page_html and "Summer (finally) is here" in page_html


@pytest.mark.parametrize(
    ("platform", "budget"), [(Platform.LINKEDIN, "max_comment_posts"), (Platform.INSTAGRAM, "max_media")]
)
def test_every_comment_on_older_posts_is_read_when_a_budget_cuts_the_poll(demo_channels, platform, budget):
    """With one post's comments read a poll, the others wait on the channel and the next polls
    read them: every comment and reply the sandbox posts is stored, once."""
    from listening.polling import channel_poll

    generator.generate(80, spread=timedelta(hours=6), seed=17)
    posted = set(
        SandboxPost.objects.filter(platform=platform, kind__in=("comment", "reply"))
        .exclude(payload__has_key="mention")
        .values_list("external_id", flat=True)
    )
    channel = demo_channels[platform]
    channel.settings = {**channel.settings, budget: 1}
    channel.save()
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK, channel.last_error
    assert channel.threads_deferred >= 1  # shown on the channel
    assert posted - set(channel.mentions.values_list("external_id", flat=True))  # some wait
    for _ in range(4):
        channel_poll(channel=channel)
    channel.refresh_from_db()
    stored = list(channel.mentions.values_list("external_id", flat=True))
    assert posted <= set(stored), f"not read: {sorted(posted - set(stored))}"
    assert len(stored) == len(set(stored))


def test_the_demo_seeding_gives_every_channel_something_to_show(db, monkeypatch) -> None:
    """Drawn by weight, the least likely platform was left out of one demo seeding in a few
    hundred, and the demo showed one of its channels empty: a platform the draw leaves out is
    given items of its own."""
    monkeypatch.setitem(generator.PLATFORM_WEIGHTS, "linkedin", 0)  # never drawn
    _demo_channels(BrandFactory())

    assert set(SandboxPost.objects.values_list("platform", flat=True)) == set(generator.PLATFORM_WEIGHTS)
