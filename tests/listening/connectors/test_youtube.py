"""YouTubeConnector: google-api-python-client (bundled discovery, httplib2) against recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.connectors.youtube import seconds_until_quota_reset
from listening.models import Platform
from tests.factories import ChannelFactory

THREADS = "/youtube/v3/commentThreads"
COMMENTS = "/youtube/v3/comments"
VIDEOS = "/youtube/v3/videos"
TOKEN = "QURTSl9pMEhiX2R6Y3pQbFhmTk1ZQ1dEa2c6MTc5NTQ5OTk5MDAwMA=="
CHANNEL_ID = "UCacme0demo0channel000001"


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(
        platform=Platform.YOUTUBE,
        api_base_url=wire.url,
        settings={"channel_id": CHANNEL_ID},
        credentials={
            "api_key": "AIza-test",
            "client_id": "cid",
            "client_secret": "csecret",
            "refresh_token": "1//refresh",
        },
    )


def serve_threads(wire) -> None:
    wire.add("GET", THREADS, fixture="youtube/comment_threads_page1.json")
    wire.add("GET", THREADS, fixture="youtube/comment_threads_page2.json", when={"pageToken": TOKEN})


def test_first_poll_reads_threads_with_replies_over_pages(channel, wire):
    serve_threads(wire)
    result = get_connector(channel).fetch({})
    by_id = {i.external_id: i for i in result.items}
    assert list(by_id) == [
        "UgzT1aBcDeFgHiJkLmN4AaABAg",
        "UgzT1aBcDeFgHiJkLmN4AaABAg.9x_ReplyOne000AbC",
        "UgxQ2wErTyUiOpAsDf5g4AaABAg",
        "UgwOlder0000000000000004AaABAg",
    ]
    top = by_id["UgzT1aBcDeFgHiJkLmN4AaABAg"]
    assert top.kind == "comment"
    assert top.source == "dQacmeRR001"
    assert top.author.handle == "jpark"
    assert top.author.external_id == "UC8899001122jpark"
    assert top.metrics == {"likes": 4, "replies": 1}
    assert top.url == "https://www.youtube.com/watch?v=dQacmeRR001&lc=UgzT1aBcDeFgHiJkLmN4AaABAg"
    reply = by_id["UgzT1aBcDeFgHiJkLmN4AaABAg.9x_ReplyOne000AbC"]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "UgzT1aBcDeFgHiJkLmN4AaABAg"
    assert reply.text == "Yes! Mine works fine with it <script>alert(1)</script>"
    assert reply.author.avatar_url == ""
    assert by_id["UgxQ2wErTyUiOpAsDf5g4AaABAg"].author.handle == ""  # a display name, not a handle
    assert result.cursor == {"newest": "2026-11-23T17:02:11+00:00"}

    first, second = wire.calls(THREADS)
    assert first.query == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL_ID,
        "maxResults": "100",
        "order": "time",
        "textFormat": "plainText",
        "alt": "json",
    }
    assert first.headers["x-goog-api-key"] == "AIza-test"  # in a header, never in a URL
    assert second.query["pageToken"] == TOKEN


def test_each_comment_carries_its_videos_title_read_in_one_call(channel, wire):
    serve_threads(wire)
    wire.add("GET", VIDEOS, fixture="youtube/videos.json")
    items = get_connector(channel).fetch({}).items
    titles = {item.source: item.source_title for item in items}
    assert titles == {
        "dQacmeRR001": "Roadrunner Pro <b>unboxing</b> & first run",  # verbatim: escaped where shown
        "dQacmeRR002": "",  # the platform did not return it: no title, the comments all the same
        "dQacmeRR003": "Acme support: resetting your Roadrunner Pro",
    }
    (call,) = wire.calls(VIDEOS)
    assert call.query["part"] == "snippet" and call.query["id"] == "dQacmeRR001,dQacmeRR002,dQacmeRR003"
    assert call.headers["x-goog-api-key"] == "AIza-test"


@pytest.mark.parametrize("fixture", ["youtube/error_503.json", "youtube/error_quota.json"])
def test_comments_are_kept_when_video_titles_cannot_be_read(channel, wire, fixture):
    serve_threads(wire)
    status = 503 if "503" in fixture else 403
    wire.add("GET", VIDEOS, fixture=fixture, status=status)
    result = get_connector(channel).fetch({})
    assert len(result.items) == 4 and not any(item.source_title for item in result.items)
    assert result.cursor == {"newest": "2026-11-23T17:02:11+00:00"}


def test_incremental_poll_stops_paging_at_older_threads(channel, wire):
    serve_threads(wire)
    result = get_connector(channel).fetch({"newest": "2026-11-23T16:00:00+00:00"})
    assert [i.external_id for i in result.items] == [
        "UgzT1aBcDeFgHiJkLmN4AaABAg",
        "UgzT1aBcDeFgHiJkLmN4AaABAg.9x_ReplyOne000AbC",
    ]
    assert len(wire.calls(THREADS)) == 1  # the first page already reached older threads
    assert result.cursor == {"newest": "2026-11-23T17:02:11+00:00"}


def test_search_terms_are_sent(channel, wire):
    channel.settings = {"channel_id": CHANNEL_ID, "search_terms": "Roadrunner"}
    wire.add("GET", THREADS, fixture="youtube/comment_threads_page2.json")
    get_connector(channel).fetch({})
    assert wire.calls(THREADS)[0].query["searchTerms"] == "Roadrunner"


def test_unfinished_sweep_resumes_from_its_page(channel, wire):
    channel.settings = {"channel_id": CHANNEL_ID, "max_pages": 1}
    serve_threads(wire)
    connector = get_connector(channel)
    first = connector.fetch({"newest": "2026-11-01T00:00:00+00:00"})
    assert first.has_more
    assert first.cursor == {
        "newest": "2026-11-01T00:00:00+00:00",
        "page_token": TOKEN,
        "pending_newest": "2026-11-23T17:02:11+00:00",
    }
    second = connector.fetch(first.cursor)
    assert [i.external_id for i in second.items] == ["UgwOlder0000000000000004AaABAg"]
    assert second.cursor == {"newest": "2026-11-23T17:02:11+00:00"}


def test_quota_exceeded_waits_until_midnight_pacific(channel, wire):
    wire.add("GET", THREADS, fixture="youtube/error_quota.json", status=403)
    with pytest.raises(RateLimited) as error:
        get_connector(channel).fetch({"newest": "2026-11-23T16:00:00+00:00"})
    assert 0 < error.value.retry_after <= 24 * 3600


def test_quota_reset_is_next_midnight_in_los_angeles():
    # 07:00 UTC on 24 Nov is 23:00 PST on 23 Nov: one hour to midnight Pacific.
    assert seconds_until_quota_reset(datetime(2026, 11, 24, 7, 0, tzinfo=UTC)) == 3600
    # In summer time (PDT, UTC-7) midnight is 07:00 UTC.
    assert seconds_until_quota_reset(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 1800


@pytest.mark.parametrize(
    ("status", "fixture", "permanent", "reconnect"),
    [
        (503, "youtube/error_503.json", False, False),
        (401, "youtube/error_401.json", True, True),
        (400, "youtube/error_key_invalid.json", True, True),
    ],
)
def test_errors_map_to_the_contract(channel, wire, status, fixture, permanent, reconnect):
    wire.add("GET", THREADS, fixture=fixture, status=status)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not isinstance(error.value, RateLimited)
    assert (error.value.permanent, error.value.reconnect) == (permanent, reconnect)


def test_malformed_json_is_transient(channel, wire):
    wire.add("GET", THREADS, body='{"items": [')
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_reply_refreshes_the_oauth_token_and_inserts_a_comment(channel, wire):
    wire.add("POST", "/token", fixture="youtube/token.json")
    wire.add("POST", COMMENTS, fixture="youtube/comment_insert.json")
    posted = get_connector(channel).post_reply(
        "UgzT1aBcDeFgHiJkLmN4AaABAg", "Yes, the old charger works with the Roadrunner Pro."
    )
    assert posted.external_id == "UgzT1aBcDeFgHiJkLmN4AaABAg.9x_OurReply00XyZ"
    token_call = wire.calls("/token")[0]
    assert parse_qs(token_call.body.decode())["refresh_token"] == ["1//refresh"]
    insert = wire.calls(COMMENTS)[0]
    assert insert.headers["authorization"] == "Bearer ya29.a0AfB_byC-test-access-token"
    assert insert.query["part"] == "snippet"
    assert json.loads(insert.body) == {
        "snippet": {
            "parentId": "UgzT1aBcDeFgHiJkLmN4AaABAg",
            "textOriginal": "Yes, the old charger works with the Roadrunner Pro.",
        }
    }


def test_reply_with_a_ready_access_token(channel, wire):
    channel.credentials = {"api_key": "k", "access_token": "ya29.ready"}
    wire.add("POST", COMMENTS, fixture="youtube/comment_insert.json")
    get_connector(channel).post_reply("UgzT1aBcDeFgHiJkLmN4AaABAg", "Thanks!")
    assert wire.calls(COMMENTS)[0].headers["authorization"] == "Bearer ya29.ready"


def test_reply_without_oauth_asks_to_reconnect(channel, wire):
    channel.credentials = {"api_key": "k"}
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).post_reply("x", "hi")
    assert error.value.reconnect


def test_refused_refresh_token_asks_to_reconnect(channel, wire):
    wire.add(
        "POST",
        "/token",
        body={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        status=400,
    )
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).post_reply("x", "hi")
    assert error.value.reconnect
    assert wire.calls(COMMENTS) == []


def test_reply_max_length():
    from listening.connectors.youtube import YouTubeConnector

    assert YouTubeConnector.reply_max_length == 10000


MANY = "UgyManyReplies00000000004AaABAg"


def test_replies_beyond_the_five_inlined_are_read_by_parent_id(channel, wire):
    wire.add("GET", THREADS, fixture="youtube/comment_threads_many_replies.json")
    wire.add("GET", COMMENTS, fixture="youtube/comments_replies_page1.json")
    wire.add("GET", COMMENTS, fixture="youtube/comments_replies_page2.json", when={"pageToken": "Q0xQMl9yZXBsaWVz"})
    result = get_connector(channel).fetch({})

    replies = [i for i in result.items if i.kind == "reply"]
    assert len(replies) == 7  # all of totalReplyCount, the inlined one not twice
    assert len({r.external_id for r in replies}) == 7
    assert {r.parent_external_id for r in replies} == {MANY}
    assert all(r.url.startswith("https://www.youtube.com/watch?v=dQacmeRR002&lc=") for r in replies)
    first, second = wire.calls(COMMENTS)
    assert (first.query["parentId"], first.query["part"]) == (MANY, "snippet")
    assert second.query["pageToken"] == "Q0xQMl9yZXBsaWVz"


def test_threads_with_every_reply_inlined_cost_no_extra_call(channel, wire):
    serve_threads(wire)
    get_connector(channel).fetch({})
    assert wire.calls(COMMENTS) == []
