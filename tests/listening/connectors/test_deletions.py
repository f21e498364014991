"""Deletions on the platforms reach Escucha: each connector's check through its real client library
(tweepy, facebook-sdk, google-api-python-client) against recorded payloads, and the one service
that erases what they report (``listening.privacy.platform_deletions_check``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from config.locks import cache_lock
from listening.models import Channel, Mention, MentionEvent, Platform, PrivacyAuditEntry
from listening.privacy import deletion_due, platform_deletions_check
from listening.tasks import check_platform_deletions
from tests.factories import ChannelFactory, MentionFactory
from tests.listening.connectors.conftest import fixture_bytes

JOB = "1862531770934521856"
UPLOAD = f"/twttr-tweet-compliance/{JOB}/submission/1500000000000000001_{JOB}"
DOWNLOAD = f"/twttr-tweet-compliance/{JOB}/delivery/1500000000000000001_{JOB}"
GONE_TWEETS = ("1795000000000000101", "1795000000000000102")
KEPT_TWEETS = ("1795000000000000103", "1795000000000000104")


def stored(channel, external_id: str, *, days_ago: float = 2, status: str = "new") -> Mention:
    """A mention stored ``days_ago``: due for its platform's check."""
    at = timezone.now() - timedelta(days=days_ago)
    return MentionFactory(channel=channel, external_id=external_id, published_at=at, fetched_at=at, status=status)


def assert_erased_on_platform(mention: Mention) -> None:
    mention.refresh_from_db()
    assert mention.erased_reason == "platform"
    assert mention.text == mention.url == ""
    assert mention.author.is_anonymous
    assert mention.status == Mention.Status.CLOSED  # out of the inbox's queue


@pytest.fixture
def x_channel(db, wire):
    return ChannelFactory(
        platform=Platform.X, api_base_url=wire.url, settings={"user_id": "1500000000000000001"},
        credentials={"bearer_token": "test-bearer"},
    )  # fmt: skip


def test_x_compliance_job_uploads_the_stored_ids_and_erases_what_its_result_says_is_gone(x_channel, wire):
    mentions = {tweet_id: stored(x_channel, tweet_id) for tweet_id in GONE_TWEETS + KEPT_TWEETS}
    too_old = stored(x_channel, "1700000000000000001", days_ago=45)  # outside the window
    too_new = stored(x_channel, "1795000000000000199", days_ago=0)  # stored in the last day
    wire.add("POST", "/2/compliance/jobs", fixture="x/compliance_job_created.json")
    wire.add("PUT", UPLOAD, body=b"", content_type="text/plain")
    wire.add("GET", f"/2/compliance/jobs/{JOB}", fixture="x/compliance_job_in_progress.json")
    wire.add("GET", f"/2/compliance/jobs/{JOB}", fixture="x/compliance_job_complete.json")
    wire.add("GET", DOWNLOAD, fixture="x/compliance_results.jsonl", content_type="application/json")

    first = platform_deletions_check(channel=x_channel)
    assert first.pending and first.asked == 4
    [create] = wire.calls("/2/compliance/jobs")
    assert json.loads(create.body)["type"] == "tweets"
    assert create.headers["authorization"] == "Bearer test-bearer"
    [upload] = wire.calls(UPLOAD)
    assert upload.method == "PUT" and upload.headers["content-type"] == "text/plain"
    assert set(upload.body.decode().split("\n")) == set(GONE_TWEETS + KEPT_TWEETS)
    assert "authorization" not in upload.headers  # a signed URL: the token stays with X
    x_channel.refresh_from_db()
    assert x_channel.deletion_check["job"] == {"job_id": JOB}

    now = timezone.now() + timedelta(minutes=11)
    assert not platform_deletions_check(channel=x_channel, now=now).erased  # in progress
    x_channel.refresh_from_db()
    done = platform_deletions_check(channel=x_channel, now=now + timedelta(minutes=11))
    assert done.erased == 2 and not done.pending
    for tweet_id in GONE_TWEETS:  # deleted, and made protected: both go
        assert_erased_on_platform(mentions[tweet_id])
    for kept in (*(mentions[t] for t in KEPT_TWEETS), too_old, too_new):  # scrub_geo is not a deletion
        kept.refresh_from_db()
        assert kept.erased_at is None and kept.text
    assert len(wire.calls("/2/compliance/jobs")) == 1
    entry = PrivacyAuditEntry.objects.get(action=PrivacyAuditEntry.Action.PLATFORM_DELETION)
    assert entry.brand == x_channel.brand and entry.mentions == 2 and entry.subject == ""


def test_x_expired_job_is_dropped_and_backs_off(x_channel, wire):
    stored(x_channel, GONE_TWEETS[0])
    wire.add("POST", "/2/compliance/jobs", fixture="x/compliance_job_created.json")
    wire.add("PUT", UPLOAD, body=b"", content_type="text/plain")
    wire.add("GET", f"/2/compliance/jobs/{JOB}", fixture="x/compliance_job_expired.json")
    platform_deletions_check(channel=x_channel)
    x_channel.refresh_from_db()
    later = timezone.now() + timedelta(minutes=11)
    run = platform_deletions_check(channel=x_channel, now=later)
    assert "expired" in run.error
    x_channel.refresh_from_db()
    state = x_channel.deletion_check
    assert "job" not in state and state["failures"] == 1
    assert datetime.fromisoformat(state["next_at"]) > later + timedelta(minutes=2)
    assert not deletion_due(x_channel, later + timedelta(minutes=1))


def test_x_rate_limit_waits_for_the_reset_and_keeps_everything(x_channel, wire):
    mention = stored(x_channel, GONE_TWEETS[0])
    reset = int(timezone.now().timestamp()) + 900
    wire.add(
        "POST", "/2/compliance/jobs", fixture="x/error_429.json", status=429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )  # fmt: skip
    run = platform_deletions_check(channel=x_channel)
    assert run.error and not run.erased
    x_channel.refresh_from_db()
    assert datetime.fromisoformat(x_channel.deletion_check["next_at"]).timestamp() >= reset - 5
    mention.refresh_from_db()
    assert mention.erased_at is None and mention.checked_at is None


@pytest.fixture
def facebook_channel(db, wire):
    return ChannelFactory(
        platform=Platform.FACEBOOK, api_base_url=wire.url,
        settings={"page_id": "104857600000001", "graph_version": "v21.0"},
        credentials={"page_access_token": "page-token", "app_secret": "s", "verify_token": "v"},
    )  # fmt: skip


def test_facebook_lookup_erases_the_comments_graph_no_longer_has(facebook_channel, wire):
    gone = stored(facebook_channel, "2201000000000003_3300000000000010")
    kept = stored(facebook_channel, "2201000000000003_3300000000000011", status="replied")
    wire.add("GET", f"/v21.0/{gone.external_id}", fixture="facebook/object_gone.json", status=400)
    wire.add("GET", f"/v21.0/{kept.external_id}", fixture="facebook/object_found.json")

    run = platform_deletions_check(channel=facebook_channel)
    assert run.erased == 1
    assert_erased_on_platform(gone)
    kept.refresh_from_db()
    assert kept.erased_at is None and kept.checked_at is not None
    for call in wire.requests:
        assert call.headers["authorization"] == "Bearer page-token" and "access_token" not in call.query
    # Checked today: not asked again until tomorrow.
    assert platform_deletions_check(channel=facebook_channel, now=timezone.now() + timedelta(hours=2)).asked == 0


def test_facebook_lookup_stops_at_a_server_error_and_erases_nothing(facebook_channel, wire):
    mention = stored(facebook_channel, "2201000000000003_3300000000000010")
    wire.add("GET", f"/v21.0/{mention.external_id}", fixture="facebook/error_500.json", status=500)
    run = platform_deletions_check(channel=facebook_channel)
    assert run.error and not run.erased
    facebook_channel.refresh_from_db()
    assert facebook_channel.deletion_check["failures"] == 1
    mention.refresh_from_db()
    assert mention.erased_at is None


@pytest.fixture
def youtube_channel(db, wire):
    return ChannelFactory(
        platform=Platform.YOUTUBE, api_base_url=wire.url, settings={"channel_id": "UCacme0demo0channel000001"},
        credentials={"api_key": "AIza-test"},
    )  # fmt: skip


def test_youtube_refresh_erases_comments_that_no_longer_come_back(youtube_channel, wire):
    gone = stored(youtube_channel, "UgzT1aBcDeFgHiJkLmN4AaABAg", days_ago=21)
    kept = stored(youtube_channel, "UgxQ2wErTyUiOpAsDf5g4AaABAg", days_ago=21)
    recent = stored(youtube_channel, "UgwRecent000000000000004AaABAg", days_ago=3)  # refreshed lately
    wire.add("GET", "/youtube/v3/comments", fixture="youtube/comments_by_id.json")

    run = platform_deletions_check(channel=youtube_channel)
    assert run.erased == 1 and run.asked == 2
    [call] = wire.calls("/youtube/v3/comments")
    assert set(call.query["id"].split(",")) == {gone.external_id, kept.external_id}
    assert call.headers["x-goog-api-key"] == "AIza-test" and "key" not in call.query
    assert_erased_on_platform(gone)
    for mention in (kept, recent):
        mention.refresh_from_db()
        assert mention.erased_at is None
    assert kept.checked_at is not None and recent.checked_at is None


def test_youtube_quota_waits_and_erases_nothing(youtube_channel, wire):
    mention = stored(youtube_channel, "UgzT1aBcDeFgHiJkLmN4AaABAg", days_ago=21)
    wire.add("GET", "/youtube/v3/comments", fixture="youtube/error_quota.json", status=403)
    run = platform_deletions_check(channel=youtube_channel)
    assert "quota" in run.error
    mention.refresh_from_db()
    assert mention.erased_at is None


def test_a_mention_deleted_on_its_platform_keeps_the_teams_history_with_a_note(facebook_channel, wire):
    mention = stored(facebook_channel, "2201000000000003_3300000000000010")
    wire.add("GET", f"/v21.0/{mention.external_id}", fixture="facebook/object_gone.json", status=400)
    platform_deletions_check(channel=facebook_channel)
    [event] = MentionEvent.objects.filter(mention=mention)
    assert (event.kind, event.old_value, event.new_value) == ("status", "new", "closed")
    assert "Facebook" in event.note


def test_feeds_have_no_check(db, wire):
    channel = ChannelFactory(platform=Platform.FEED, api_base_url=wire.url, settings={"url": f"{wire.url}/rss"})
    stored(channel, "https://blog.example/p/1", days_ago=40)
    assert platform_deletions_check(channel=channel).asked == 0
    assert wire.requests == []


def test_recorded_results_are_read_line_by_line():
    lines = fixture_bytes("x/compliance_results.jsonl").decode().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["delete", "delete", "scrub_geo"]


def test_the_scheduled_task_checks_each_due_channel_once_and_skips_the_ones_waiting(youtube_channel, wire):
    stored(youtube_channel, "UgzT1aBcDeFgHiJkLmN4AaABAg", days_ago=21)
    paused = ChannelFactory(
        platform=Platform.YOUTUBE, api_base_url=wire.url, settings={"channel_id": "UCx"},
        credentials={"api_key": "k"}, state=Channel.State.RECONNECT,
    )  # fmt: skip
    stored(paused, "UgwPaused00000000000000004AaABAg", days_ago=21)
    wire.add("GET", "/youtube/v3/comments", fixture="youtube/comments_by_id.json")

    assert check_platform_deletions.delay().get() == 1
    assert len(wire.calls("/youtube/v3/comments")) == 1  # the channel waiting for a reconnect is left alone
    youtube_channel.refresh_from_db()
    assert not deletion_due(youtube_channel)
    check_platform_deletions.delay()  # not due again for an hour
    assert len(wire.calls("/youtube/v3/comments")) == 1


def test_the_scheduled_task_returns_at_once_while_another_run_holds_the_lock(youtube_channel, wire):
    stored(youtube_channel, "UgzT1aBcDeFgHiJkLmN4AaABAg", days_ago=21)
    with cache_lock("listening:platform-deletions", 60) as held:
        assert held
        assert check_platform_deletions.delay().get() == 0
    assert wire.requests == []
