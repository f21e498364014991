"""Publishing on a LinkedIn organization page through linkedin-api-client's real RestliClient, against
recorded payloads of LinkedIn's versioned REST API: the post, its lookup after an interrupted send,
its counts, and LinkedIn's refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from listening.connectors import get_connector
from listening.models import Platform
from publishing import services
from publishing.models import Post, PostTarget, engagement
from publishing.services import (
    channel_can_publish,
    post_create,
    post_length,
    post_schedule,
    post_submit,
    posts_read_metrics,
    target_publish,
)
from publishing.tasks import publish_target
from tests.factories import ChannelFactory

Status = PostTarget.Status
ORG = "urn:li:organization:2414183"
POSTS = "/rest/posts"
POSTED = "urn:li:share:7267000000000000001"
STATISTICS = "/rest/organizationalEntityShareStatistics"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TEXT = "Summer is here: 15% off the Roadrunner Pro, this week only. #AcmeSummer"
LINK = "https://shop.acme.com/summer?utm_source=linkedin&ref=escucha"
# What LinkedIn keeps: the hashtag as a hashtag, the "_" of the link escaped as little text wants.
COMMENTARY = (
    "Summer is here: 15% off the Roadrunner Pro, this week only. {hashtag|\\#|AcmeSummer} "
    "https://shop.acme.com/summer?utm\\_source=linkedin&ref=escucha"
)


def metadata(urn: str) -> str:
    return f"/rest/socialMetadata/{quote(urn, safe='')}"


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def li_channel(team, wire):
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.LINKEDIN,
        name="Acme on LinkedIn",
        api_base_url=wire.url,
        settings={"organization_id": "2414183", "linkedin_version": "202610"},
        credentials={"access_token": "AQVaccess-token-0001"},
    )


def created(wire) -> None:
    """LinkedIn's answer to a new post: 201, no body, the post's URN in ``x-restli-id``."""
    wire.add("POST", POSTS, body=b"", status=201, headers={"x-restli-id": POSTED, "x-linkedin-id": POSTED})


def due_post(team, *channels, text: str = TEXT, link: str = LINK) -> Post:
    post = post_create(brand=team.brand, author=team.cm, text=text, link=link, channels=channels)
    post_submit(post=post, user=team.cm)
    post_schedule(post=post, user=team.cm, at=timezone.now() - timedelta(seconds=1))
    return post


def test_the_composer_offers_linkedin_and_counts_its_3000_characters(team, li_channel):
    assert channel_can_publish(li_channel)
    # The link travels in the text, so it counts.
    assert post_length(channel=li_channel, text=TEXT, link=LINK) == (len(TEXT) + 1 + len(LINK), 3000)
    with pytest.raises(ValidationError, match="3001 characters long as LinkedIn Page counts them; it allows 3000"):
        post_create(brand=team.brand, author=team.cm, text="a" * 3001, channels=[li_channel])
    post_create(brand=team.brand, author=team.cm, text="a" * 3000, channels=[li_channel])


def test_a_due_post_goes_out_once_as_the_organization(team, li_channel, wire):
    created(wire)
    post = due_post(team, li_channel)
    row = post.targets.get()
    assert publish_target(row.pk) == "published"
    assert publish_target(row.pk) == "skipped"  # a redelivered task publishes nothing more
    row.refresh_from_db()
    assert (row.status, row.external_id) == (Status.PUBLISHED, POSTED)
    assert row.external_url == f"https://www.linkedin.com/feed/update/{POSTED}/"
    [call] = wire.calls(POSTS)
    assert json.loads(call.body) == {
        "author": ORG,
        "commentary": COMMENTARY,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert call.headers["linkedin-version"] == "202610"
    assert call.headers["authorization"] == "Bearer AQVaccess-token-0001"


def test_text_that_looks_like_little_text_is_published_as_written(team, li_channel, wire):
    created(wire)
    text = "Prices (from 99€) for @everyone: *bold* ~maybe~ [here] <3 {x}|y \\ C# done"
    get_connector(li_channel).publish_post(text)
    [call] = wire.calls(POSTS)
    assert json.loads(call.body)["commentary"] == (
        "Prices \\(from 99€\\) for \\@everyone: \\*bold\\* \\~maybe\\~ \\[here\\] \\<3 \\{x\\}\\|y \\\\ C\\# done"
    )


def interrupted(post: Post) -> PostTarget:
    row = post.targets.get()
    stale = timezone.now() - timedelta(seconds=services.PUBLISHING_STALE_SECONDS + 1)
    PostTarget.objects.filter(pk=row.pk).update(status=Status.PUBLISHING, claimed_at=stale, attempts=1)
    return row


def test_an_interrupted_post_found_among_the_organizations_posts_is_recorded_not_posted_again(team, li_channel, wire):
    created(wire)
    # The organization's newest posts: another one after it, this one, and the same words days ago.
    wire.add("GET", POSTS, fixture="linkedin/posts_own_recent.json")
    row = interrupted(due_post(team, li_channel))
    assert publish_target(row.pk) == "published"  # the broker redelivered the dead worker's message
    row.refresh_from_db()
    assert (row.status, row.external_id) == (Status.PUBLISHED, POSTED)
    assert [call for call in wire.calls(POSTS) if call.method == "POST"] == []
    [lookup] = wire.calls(POSTS)
    assert (lookup.query["q"], lookup.query["author"], lookup.query["sortBy"]) == ("author", ORG, "CREATED")


def test_an_interrupted_post_linkedin_certainly_lacks_is_published_once(
    team, li_channel, wire, django_capture_on_commit_callbacks
):
    created(wire)
    # Only the same words of days ago, before the send was claimed: not this post.
    wire.add("GET", POSTS, fixture="linkedin/posts_own_none.json")
    row = interrupted(due_post(team, li_channel))
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_target(row.pk) == "requeued"
    row.refresh_from_db()
    assert (row.status, row.external_id) == (Status.PUBLISHED, POSTED)
    assert len([call for call in wire.calls(POSTS) if call.method == "POST"]) == 1


def test_an_interrupted_post_hidden_past_the_first_page_waits_for_a_person(team, li_channel, wire):
    created(wire)
    # One newer post of another text and more behind it, all since the claim: this one may be among them.
    wire.add("GET", POSTS, fixture="linkedin/posts_own_more.json")
    row = interrupted(due_post(team, li_channel))
    assert publish_target(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == Status.FAILED and "check on the platform" in row.error
    assert [call for call in wire.calls(POSTS) if call.method == "POST"] == []


def test_a_rate_limit_waits_for_linkedins_day_and_a_refusal_fails_with_its_message(team, li_channel, wire):
    wire.add("POST", POSTS, fixture="linkedin/error_429_day.json", status=429)
    row = due_post(team, li_channel).targets.get()
    attempt = target_publish(target_id=row.pk)
    assert attempt.outcome == "retry" and attempt.retry_in == pytest.approx(14 * 3600, abs=2)  # midnight UTC
    row.refresh_from_db()
    assert row.status == Status.SCHEDULED

    wire.routes.clear()
    wire.add("POST", POSTS, fixture="linkedin/error_422_post.json", status=422)
    assert target_publish(target_id=row.pk).outcome == "failed"
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "Commentary exceeds the maximum allowed length of 3000 characters" in row.error
    assert "AQVaccess-token-0001" not in row.error
    assert len(wire.calls(POSTS)) == 2


def test_an_expired_token_is_renewed_and_the_post_goes_out(team, li_channel, wire):
    li_channel.credentials = {
        "access_token": "AQVaccess-token-0001",
        "client_id": "86abcdefgh",
        "client_secret": "WPL_AP1.secret",
        "refresh_token": "AQXsame-refresh-token",
    }
    li_channel.save()
    wire.add("POST", POSTS, fixture="linkedin/error_401_expired.json", status=401)
    wire.add("POST", POSTS, body=b"", status=201, headers={"x-restli-id": POSTED})
    wire.add("POST", "/oauth/v2/accessToken", fixture="linkedin/token_refreshed.json")
    row = due_post(team, li_channel).targets.get()
    assert publish_target(row.pk) == "published"
    first, second = wire.calls(POSTS)
    assert first.headers["authorization"] != second.headers["authorization"]


def published(team, channel, urn: str, age: timedelta) -> PostTarget:
    post = Post.objects.create(brand=team.brand, author=team.cm, text="Summer")
    return PostTarget.objects.create(
        post=post,
        channel=channel,
        text="Summer",
        status=Status.PUBLISHED,
        external_id=urn,
        published_at=timezone.now() - age,
    )


def test_counts_are_reactions_and_comments_with_impressions_and_reshares_where_granted(team, li_channel, wire):
    wire.add("GET", metadata(POSTED), fixture="linkedin/social_metadata_post.json")
    wire.add("GET", metadata("urn:li:share:7260000000000000000"), fixture="linkedin/error_404_post.json", status=404)
    wire.add("GET", STATISTICS, fixture="linkedin/share_statistics_post.json")
    row = published(team, li_channel, POSTED, timedelta(hours=2))
    gone = published(team, li_channel, "urn:li:share:7260000000000000000", timedelta(hours=3))  # deleted since
    assert posts_read_metrics() == 1
    row.refresh_from_db()
    # Every kind of reaction counts, not only likes.
    assert row.metrics == {"reactions": 49, "comments": 9, "impressions": 2310, "shares": 5}
    assert engagement(row.metrics) == 49 + 9 + 5  # impressions are not engagement
    assert not gone.readings.exists()
    [stats] = wire.calls(STATISTICS)
    assert stats.query["q"] == "organizationalEntity" and stats.query["organizationalEntity"] == ORG
    assert stats.query["shares"] == f"List({POSTED})"


def test_without_the_statistics_permission_counts_are_read_without_impressions(team, li_channel, wire):
    wire.add("GET", metadata(POSTED), fixture="linkedin/social_metadata_post.json")
    wire.add("GET", STATISTICS, fixture="linkedin/error_403_statistics.json", status=403)
    row = published(team, li_channel, POSTED, timedelta(hours=2))
    assert posts_read_metrics() == 1
    row.refresh_from_db()
    assert row.metrics == {"reactions": 49, "comments": 9}
    li_channel.refresh_from_db()
    assert li_channel.state == li_channel.State.OK  # no reconnect asked for what is optional


def test_a_rate_limited_reading_is_made_again_on_the_next_run(team, li_channel, wire):
    wire.add("GET", metadata(POSTED), fixture="linkedin/error_429_day.json", status=429)
    wire.add("GET", metadata(POSTED), fixture="linkedin/social_metadata_post.json")
    wire.add("GET", STATISTICS, fixture="linkedin/share_statistics_post.json")
    row = published(team, li_channel, POSTED, timedelta(hours=2))
    assert posts_read_metrics() == 0
    assert posts_read_metrics() == 1
    row.refresh_from_db()
    assert row.metrics["reactions"] == 49
