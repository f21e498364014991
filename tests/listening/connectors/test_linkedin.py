"""LinkedInConnector: linkedin-api-client's real RestliClient and AuthClient against recorded payloads
of LinkedIn's versioned REST API served locally."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote

import pytest
import time_machine

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.models import Channel, Platform
from listening.polling import channel_poll
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import fixture_bytes

ORG = "urn:li:organization:2414183"
POST_1 = "urn:li:share:7265000000000000001"
POST_2 = "urn:li:ugcPost:7265000000000000002"
POST_OLD = "urn:li:share:7250000000000000003"
MENTION = "urn:li:share:7266000000000000099"
ACTIVITY_1 = "urn:li:activity:7265000000000000001"
C1 = f"urn:li:comment:({ACTIVITY_1},7266000000000000011)"
C3 = f"urn:li:comment:({ACTIVITY_1},7266000000000000013)"
POSTS = "/rest/posts"
NOTIFICATIONS = "/rest/organizationalEntityNotifications"
TOKEN = "/oauth/v2/accessToken"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SINCE = 1795478400000  # 2026-11-24T00:00Z
NEWEST = 1795599600000  # 2026-11-25T09:40Z, the newest comment
NOTIFIED = 1795604520000  # 2026-11-25T11:02Z, the mention's notification
CREDENTIALS = {
    "access_token": "AQVaccess-token",
    "client_id": "86abcdefgh",
    "client_secret": "WPL_AP1.secret",
    "refresh_token": "AQXsame-refresh-token",
}


def comments(urn: str) -> str:
    return f"/rest/socialActions/{quote(urn, safe='')}/comments"


def settings(**extra):
    return {"organization_id": "2414183", "linkedin_version": "202610", **extra}


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def channel(db, wire, now):
    return ChannelFactory(
        platform=Platform.LINKEDIN, api_base_url=wire.url, settings=settings(), credentials=dict(CREDENTIALS)
    )


def serve_page(wire) -> None:
    wire.add("GET", POSTS, fixture="linkedin/posts_page1.json")
    wire.add("GET", POSTS, fixture="linkedin/posts_page2.json", when={"start": "2"})
    wire.add("GET", comments(POST_1), fixture="linkedin/comments_post1_page1.json")
    wire.add("GET", comments(POST_1), fixture="linkedin/comments_post1_page2.json", when={"start": "2"})
    wire.add("GET", comments(C1), fixture="linkedin/replies_c1.json")
    wire.add("GET", comments(C3), fixture="linkedin/replies_c3.json")
    wire.add("GET", comments(POST_2), fixture="linkedin/comments_post2.json")
    wire.add("GET", NOTIFICATIONS, fixture="linkedin/notifications.json")
    wire.add("GET", f"{POSTS}/{quote(MENTION, safe='')}", fixture="linkedin/post_mention.json")


def test_poll_reads_comments_replies_and_mentions_page_by_page(channel, wire):
    serve_page(wire)
    result = get_connector(channel).fetch({"since": SINCE})
    by_id = {item.external_id: item for item in result.items}

    # the organization's own comment and answer, and a comment older than the cursor, are left out;
    # a new reply on that old comment comes in
    assert set(by_id) == {
        C1,
        f"urn:li:comment:({ACTIVITY_1},7266000000000000021)",
        f"urn:li:comment:({ACTIVITY_1},7266000000000000032)",
        "urn:li:comment:(urn:li:activity:7265000000000000002,7266000000000000041)",
        MENTION,
    }
    comment = by_id[C1]
    assert (comment.kind, comment.parent_external_id, comment.source) == ("comment", POST_1, POST_1)
    assert comment.author.external_id == "urn:li:person:aB3dE5fG7h"
    assert comment.metrics == {"likes": 4}
    assert comment.published_at == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert comment.url.startswith(f"https://www.linkedin.com/feed/update/{ACTIVITY_1}/?commentUrn=")
    reply = by_id[f"urn:li:comment:({ACTIVITY_1},7266000000000000021)"]
    assert (reply.kind, reply.parent_external_id, reply.source) == ("reply", C1, POST_1)
    late = by_id[f"urn:li:comment:({ACTIVITY_1},7266000000000000032)"]
    assert (late.kind, late.parent_external_id) == ("reply", C3)
    mention = by_id[MENTION]
    assert mention.kind == "mention" and mention.author.external_id == "urn:li:person:pR4sT6uV8w"
    # LinkedIn's little text read as people read it: the mention by name, the hashtag, no escapes
    assert mention.text == (
        "Three weeks with the @Acme Roadrunner Pro on the Camino (800 km): it took every hill. "
        "Only wish the battery lasted one more day. #AcmeSummer"
    )
    assert mention.source_title == mention.text
    assert comment.source_title == "Roadrunner Pro: now in summer orange. Which trip first? #AcmeSummer"
    assert result.cursor == {
        "since": NEWEST,
        "mentions_since": NOTIFIED,
        "replies": {C1: 1, C3: 2},
    }

    # both pages of posts and of the first post's comments, by Rest.li start/count; the post older
    # than the lookback costs no request
    assert [call.query["start"] for call in wire.calls(POSTS)] == ["0", "2"]
    assert wire.calls(POSTS)[0].query["author"] == ORG
    assert wire.calls(POSTS)[0].query["sortBy"] == "LAST_MODIFIED"
    assert [call.query["start"] for call in wire.calls(comments(POST_1))] == ["0", "2"]
    assert not wire.calls(comments(POST_OLD))
    (notifications,) = wire.calls(NOTIFICATIONS)
    assert notifications.query["q"] == "criteria"
    assert notifications.query["actions"] == "List(SHARE_MENTION)"
    assert notifications.query["organizationalEntity"] == ORG
    assert notifications.query["timeRange"] == f"(end:{int(NOW.timestamp() * 1000)},start:{SINCE - 10 * 60 * 1000})"
    # every call is versioned and carries the token in the Authorization header, never in a URL
    for call in wire.requests:
        assert call.headers["linkedin-version"] == "202610"
        assert call.headers["x-restli-protocol-version"] == "2.0.0"
        assert call.headers["authorization"] == "Bearer AQVaccess-token"
        assert not any("token" in key for key in call.query)


def test_second_poll_reads_replies_only_where_the_count_moved_and_stores_nothing_twice(channel, wire):
    serve_page(wire)
    connector = get_connector(channel)
    first = connector.fetch({"since": SINCE})
    second = connector.fetch(first.cursor)
    # no comment is newer than the floor, and the replies whose count did not move are not read
    # again; the mention comes back from the notifications' overlap (the ingestion dedupes it)
    assert {item.external_id for item in second.items} == {MENTION}
    assert len(wire.calls(comments(C1))) == 1 and len(wire.calls(comments(C3))) == 1
    # the mentions are asked from the newest notification seen, less the overlap
    assert wire.calls(NOTIFICATIONS)[1].query["timeRange"].endswith(f"start:{NOTIFIED - 10 * 60 * 1000})")
    assert second.cursor == first.cursor


def test_stranger_text_is_kept_verbatim(channel, wire):
    serve_page(wire)
    items = {item.external_id: item for item in get_connector(channel).fetch({"since": SINCE}).items}
    hostile = items["urn:li:comment:(urn:li:activity:7265000000000000002,7266000000000000041)"]
    assert hostile.text == '</p><script>alert("li")</script> do you sponsor visas? <img src=x onerror=alert(1)>'


def test_poll_stores_each_item_once_through_the_pipeline(channel, wire):
    serve_page(wire)
    channel.cursor = {"since": SINCE}
    channel.save()
    channel_poll(channel=channel)
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    assert channel.mentions.count() == 5
    assert channel.mentions.get(external_id=MENTION).kind == "mention"


def test_daily_limit_waits_for_midnight_utc_keeps_the_cursor_and_resumes(channel, wire):
    serve_page(wire)
    wire.prepend(
        "GET",
        comments(POST_1),
        [(429, {"Content-Type": "application/json"}, fixture_bytes("linkedin/error_429_day.json"))],
        when={"start": "2"},
    )
    channel.cursor = {"since": SINCE}
    channel.save()
    outcome = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.RATE_LIMITED
    assert "APPLICATION DAY limit" in outcome.error
    assert channel.rate_limit_remaining == 0
    assert channel.rate_limit_reset_at == datetime(2026, 11, 26, tzinfo=UTC)
    assert channel.next_poll_at == datetime(2026, 11, 26, tzinfo=UTC)
    assert channel.cursor == {"since": SINCE} and channel.mentions.count() == 0
    channel_poll(channel=channel)  # after midnight the same poll goes through
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK and channel.mentions.count() == 5
    assert channel.rate_limit_remaining is None  # no count is known again until the next 429


def test_a_short_429_waits_minutes_not_a_day(channel, wire):
    serve_page(wire)
    body = json.dumps({"status": 429, "message": "Too Many Requests"}).encode()
    wire.prepend("GET", POSTS, [(429, {"Content-Type": "application/json"}, body)])
    with pytest.raises(RateLimited) as error:
        get_connector(channel).fetch({"since": SINCE})
    assert error.value.retry_after == 5 * 60


def test_the_budget_counts_the_days_calls_against_the_configured_limit(channel, wire):
    from django.core.cache import cache

    cache.clear()  # the day's count of an earlier run's channel of the same id
    serve_page(wire)
    channel.settings = settings(daily_call_limit=500)
    channel.save()
    result = get_connector(channel).fetch({"since": SINCE})
    assert result.budget.remaining == 500 - len(wire.requests)
    assert result.budget.reset_at == datetime(2026, 11, 26, tzinfo=UTC)


def test_an_expired_token_is_renewed_stored_and_the_poll_resumes(channel, wire):
    serve_page(wire)
    wire.prepend(
        "GET",
        POSTS,
        [(401, {"Content-Type": "application/json"}, fixture_bytes("linkedin/error_401_expired.json"))],
    )
    wire.add("POST", TOKEN, fixture="linkedin/token_refreshed.json")
    channel.cursor = {"since": SINCE}
    channel.save()
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK and channel.mentions.count() == 5
    (refresh,) = wire.calls(TOKEN)
    assert parse_qs(refresh.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["AQXsame-refresh-token"],
        "client_id": ["86abcdefgh"],
        "client_secret": ["WPL_AP1.secret"],
    }
    first, retried = wire.calls(POSTS)[:2]
    assert first.headers["authorization"] == "Bearer AQVaccess-token"
    assert retried.headers["authorization"] == "Bearer AQWrenewed-access-token"
    assert channel.credentials["access_token"] == "AQWrenewed-access-token"
    assert channel.credentials["access_token_expires_at"] == (NOW + timedelta(seconds=5184000)).isoformat()
    assert channel.credentials["refresh_token_expires_at"] == (NOW + timedelta(seconds=31103999)).isoformat()


def test_a_token_about_to_expire_is_renewed_before_any_call(channel, wire):
    serve_page(wire)
    wire.add("POST", TOKEN, fixture="linkedin/token_refreshed.json")
    channel.credentials = {**CREDENTIALS, "access_token_expires_at": (NOW + timedelta(hours=3)).isoformat()}
    channel.save()
    get_connector(channel).fetch({"since": SINCE})
    assert wire.requests[0].path == TOKEN
    assert {call.headers["authorization"] for call in wire.requests[1:]} == {"Bearer AQWrenewed-access-token"}
    channel.refresh_from_db()
    assert channel.credentials["access_token"] == "AQWrenewed-access-token"


def test_a_refresh_token_that_is_gone_leaves_the_channel_reconnect_needed(channel, wire):
    serve_page(wire)
    wire.prepend(
        "GET",
        POSTS,
        [(401, {"Content-Type": "application/json"}, fixture_bytes("linkedin/error_401_revoked.json"))],
    )
    wire.add("POST", TOKEN, fixture="linkedin/token_invalid_grant.json", status=400)
    outcome = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.RECONNECT
    assert "refresh token" in outcome.error
    assert "AQX" not in channel.last_error and "WPL_AP1" not in channel.last_error
    assert channel.credentials["access_token"] == "AQVaccess-token"  # nothing half-stored


def test_an_expired_token_without_a_refresh_token_asks_to_reconnect_without_calling(channel, wire):
    serve_page(wire)
    channel.credentials = {"access_token": "AQVold", "access_token_expires_at": (NOW - timedelta(days=1)).isoformat()}
    channel.save()
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({"since": SINCE})
    assert error.value.reconnect
    assert not wire.requests


def test_new_credentials_drop_what_was_learned_with_the_old_token(channel):
    from listening.services import channel_update

    channel.credentials = {**CREDENTIALS, "access_token_expires_at": (NOW - timedelta(days=1)).isoformat()}
    channel.save()
    channel_update(channel=channel, credentials={"access_token": "AQVpasted-by-an-admin"})
    channel.refresh_from_db()
    assert channel.credentials["access_token"] == "AQVpasted-by-an-admin"
    assert "access_token_expires_at" not in channel.credentials


def test_a_new_address_asks_again_for_what_a_person_gave_never_for_what_was_learned(channel):
    from django.core.exceptions import ValidationError

    from listening.services import channel_update

    channel.credentials = {**CREDENTIALS, "access_token_expires_at": (NOW + timedelta(days=30)).isoformat()}
    channel.save()
    with pytest.raises(ValidationError, match="client_id, client_secret, refresh_token"):
        channel_update(channel=channel, api_base_url="https://gateway.example.com", credentials={"access_token": "a"})
    channel_update(channel=channel, api_base_url="https://gateway.example.com", credentials=dict(CREDENTIALS))
    channel.refresh_from_db()
    assert channel.credentials == CREDENTIALS


def test_a_renewal_never_overwrites_credentials_a_person_saved_meanwhile(channel):
    from listening.services import channel_tokens_renewed

    Channel.objects.filter(pk=channel.pk).update(credentials={**CREDENTIALS, "refresh_token": "AQXnew-by-admin"})
    stored = channel_tokens_renewed(
        channel=channel, used={"refresh_token": "AQXsame-refresh-token"}, tokens={"access_token": "AQWlate"}
    )
    assert stored is False
    channel.refresh_from_db()
    assert channel.credentials["refresh_token"] == "AQXnew-by-admin"
    assert channel.credentials["access_token"] == "AQVaccess-token"


def test_settings_are_validated():
    from listening.connectors.linkedin import LinkedInConnector

    cleaned, errors = LinkedInConnector.clean_settings(
        {"organization_id": "2414183", "linkedin_version": "202610", "skip_mentions": True}
    )
    assert (cleaned, errors) == (
        {"organization_id": "2414183", "linkedin_version": "202610", "skip_mentions": True},
        {},
    )
    _cleaned, errors = LinkedInConnector.clean_settings({"organization_id": "urn:li:organization:1/../x"})
    assert set(errors) == {"organization_id"}
    _cleaned, errors = LinkedInConnector.clean_settings({"organization_id": "1", "linkedin_version": "2026-10"})
    assert set(errors) == {"linkedin_version"}
    _cleaned, errors = LinkedInConnector.clean_settings({})
    assert set(errors) == {"organization_id"}
    _cleaned, errors = LinkedInConnector.clean_credentials({"access_token_expires_at": "2030-01-01"})
    assert set(errors) == {"access_token_expires_at"}  # learned by the connector, never given


# --- Replies --------------------------------------------------------------------------------------
def test_a_reply_is_a_comment_of_the_organization_with_its_parent_comment(channel, wire):
    wire.add("POST", comments(C1), fixture="linkedin/comment_created.json", status=201)
    posted = get_connector(channel).post_reply(C1, "¡Hola! Llega a Uruguay en diciembre.")
    assert posted.external_id == f"urn:li:comment:({ACTIVITY_1},7266000000000000051)"
    (call,) = wire.calls(comments(C1))
    assert json.loads(call.body) == {
        "actor": ORG,
        "object": ACTIVITY_1,
        "parentComment": C1,
        "message": {"text": "¡Hola! Llega a Uruguay en diciembre."},
    }
    assert call.headers["x-restli-method"] == "CREATE"
    assert call.headers["linkedin-version"] == "202610"


def test_a_reply_to_a_mention_comments_on_the_post(channel, wire):
    wire.add("POST", comments(MENTION), body="", status=201, headers={"x-restli-id": "7266000000000000077"})
    posted = get_connector(channel).post_reply(MENTION, "Buen camino!")
    assert posted.external_id == f"urn:li:comment:({MENTION},7266000000000000077)"
    (call,) = wire.calls(comments(MENTION))
    assert json.loads(call.body) == {"actor": ORG, "object": MENTION, "message": {"text": "Buen camino!"}}


@pytest.fixture
def linkedin_channel(team, wire, now):
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.LINKEDIN,
        api_base_url=wire.url,
        settings=settings(),
        credentials=dict(CREDENTIALS),
    )


def test_a_reply_to_a_reply_is_sent_once_in_its_top_level_thread(team, linkedin_channel, wire):
    from listening.models import Mention
    from responses.models import Reply
    from responses.tasks import send_reply
    from tests.factories import MentionFactory, ReplyFactory

    mention = MentionFactory(
        channel=linkedin_channel,
        external_id=f"urn:li:comment:({ACTIVITY_1},7266000000000000021)",
        kind=Mention.Kind.REPLY,
        parent_external_id=C1,
    )
    wire.add("POST", comments(C1), fixture="linkedin/comment_created.json", status=201)
    reply = ReplyFactory(
        mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="¡Hola! Llega a Uruguay en diciembre."
    )
    assert send_reply(reply.pk) == "sent"
    assert send_reply(reply.pk) == "skipped"  # the broker delivered the message again
    reply.refresh_from_db()
    assert reply.external_id == f"urn:li:comment:({ACTIVITY_1},7266000000000000051)"
    assert len(wire.calls(comments(C1))) == 1


def test_an_interrupted_reply_is_found_among_the_comments_and_never_posted_again(team, linkedin_channel, wire):
    from django.utils import timezone

    from responses import replies
    from responses.models import Reply
    from responses.tasks import send_reply
    from tests.factories import MentionFactory, ReplyFactory

    comment = MentionFactory(channel=linkedin_channel, external_id=C1, text="Is the summer orange coming?")
    claimed = timezone.now() - timedelta(seconds=replies.SENDING_STALE_SECONDS + 60)
    body = json.loads(fixture_bytes("linkedin/replies_c1_with_ours.json"))
    body["elements"][1]["created"]["time"] = int((claimed + timedelta(seconds=1)).timestamp() * 1000)
    wire.add("GET", comments(C1), body=body)
    reply = ReplyFactory(
        mention=comment,
        author=team.cm,
        text="¡Hola! Llega a Uruguay en diciembre.",
        status=Reply.Status.SENDING,
        attempts=1,
        claimed_at=claimed,
    )
    assert send_reply(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert reply.external_id == f"urn:li:comment:({ACTIVITY_1},7266000000000000051)"
    assert [call.method for call in wire.calls(comments(C1))] == ["GET"]  # never posted


def test_a_live_conversation_on_a_post_older_than_the_window_keeps_arriving(channel, wire):
    """A post's new comments do not bring it back among the recent posts: the comments stored on it
    lately (by a poll or a webhook) keep its conversation followed."""
    from tests.factories import MentionFactory

    serve_page(wire)
    wire.add("GET", comments(POST_OLD), fixture="linkedin/comments_post_old.json")
    MentionFactory(
        channel=channel,
        external_id="urn:li:comment:(urn:li:activity:7250000000000000003,7266000000000000051)",
        kind="comment",
        parent_external_id=POST_OLD,
        published_at=datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
    )
    channel.cursor = {"since": SINCE}
    channel.save()

    outcome = channel_poll(channel=channel)

    assert outcome.error == ""
    assert wire.calls(comments(POST_OLD))
    late = channel.mentions.get(external_id="urn:li:comment:(urn:li:activity:7250000000000000003,7266000000000000052)")
    assert (late.kind, late.parent_external_id) == ("comment", POST_OLD)
    assert channel.mentions.filter(parent_external_id=POST_OLD).count() == 2  # the one stored before, once


def test_posts_past_the_budget_are_owed_shown_and_read_on_the_next_poll(channel, wire, client, django_user_model):
    serve_page(wire)
    channel.settings = settings(max_comment_posts=1)
    channel.cursor = {"since": SINCE}
    channel.save()
    late = "urn:li:comment:(urn:li:activity:7265000000000000002,7266000000000000041)"

    channel_poll(channel=channel)
    channel.refresh_from_db()
    # the newest post was read and moved the floor past the second post's comment; that post is owed
    assert channel.cursor["since"] == NEWEST
    assert channel.cursor["comments_owed"] == {POST_2: SINCE}
    assert channel.threads_deferred == 1 and not wire.calls(comments(POST_2))
    assert not channel.mentions.filter(external_id=late).exists()
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    assert "Comments on 1 older post not read this poll" in client.get("/channels/").content.decode()

    channel_poll(channel=channel)
    channel.refresh_from_db()
    # the owed post is read first, from the floor it was owed at
    assert wire.calls(comments(POST_2))
    assert channel.mentions.filter(external_id=late).count() == 1
    assert channel.state == Channel.State.OK

    for _ in range(3):  # the posts take turns within the budget; nothing is stored twice
        channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.mentions.count() == 5
    assert channel.threads_deferred == 1
