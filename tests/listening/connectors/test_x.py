"""XConnector: tweepy's real Client against recorded X API v2 payloads served locally."""

from __future__ import annotations

import json
import time

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.models import Platform
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import FIXTURES

BRAND_ID = "1500000000000000001"
MENTIONS = f"/2/users/{BRAND_ID}/mentions"
SEARCH = "/2/tweets/search/recent"
NEXT = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
CREDENTIALS = {
    "bearer_token": "test-bearer",
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "at",
    "access_token_secret": "ats",
}


def rate_headers(remaining: int = 440, reset: int | None = None) -> dict[str, str]:
    reset = reset or int(time.time()) + 600
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(
        platform=Platform.X,
        api_base_url=wire.url,
        settings={"user_id": BRAND_ID},
        credentials=CREDENTIALS,
    )


def serve_two_pages(wire) -> None:
    wire.add("GET", MENTIONS, fixture="x/mentions_page1.json", headers=rate_headers(448))
    wire.add(
        "GET", MENTIONS, fixture="x/mentions_page2.json", headers=rate_headers(447), when={"pagination_token": NEXT}
    )


def test_first_poll_pages_through_mentions_and_parses_authors(channel, wire):
    serve_two_pages(wire)
    result = get_connector(channel).fetch({})

    ids = [i.external_id for i in result.items]
    # the retweet and the brand's own post are dropped
    assert ids == ["1861234567890123460", "1861234567890123455", "1861234567890123410"]
    first = result.items[0]
    assert first.author.handle == "techreviewdaily"
    assert first.author.followers == 245000
    assert first.author.verified
    assert first.kind == "mention"
    assert first.url == "https://x.com/techreviewdaily/status/1861234567890123460"
    assert first.published_at.isoformat() == "2026-11-23T18:04:11+00:00"
    assert first.metrics["like_count"] == 88
    reply = result.items[1]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "1861234567890123401"
    assert reply.raw_language == "es"
    assert result.cursor == {"mentions": {"since_id": "1861234567890123460"}}
    assert result.budget.remaining == 447
    assert not result.has_more

    first_call = wire.calls(MENTIONS)[0]
    assert first_call.headers["authorization"] == "Bearer test-bearer"
    assert first_call.query["expansions"] == "author_id,referenced_tweets.id"
    assert "public_metrics" in first_call.query["user.fields"]
    assert "referenced_tweets" in first_call.query["tweet.fields"]
    assert "since_id" not in first_call.query


def test_retweets_and_own_posts_kept_when_asked(channel, wire):
    channel.settings = {"user_id": BRAND_ID, "include_retweets": True, "include_own_posts": True}
    serve_two_pages(wire)
    ids = {i.external_id for i in get_connector(channel).fetch({}).items}
    assert {"1861234567890123450", "1861234567890123420"} <= ids


def test_incremental_poll_sends_since_id_and_advances_it(channel, wire):
    wire.add("GET", MENTIONS, fixture="x/mentions_incremental.json", headers=rate_headers())
    result = get_connector(channel).fetch({"mentions": {"since_id": "1861234567890123460"}})
    assert [i.external_id for i in result.items] == ["1861234567890123499"]
    assert wire.calls(MENTIONS)[0].query["since_id"] == "1861234567890123460"
    assert result.cursor["mentions"] == {"since_id": "1861234567890123499"}


def test_nothing_new_keeps_the_cursor(channel, wire):
    wire.add("GET", MENTIONS, fixture="x/empty.json", headers=rate_headers())
    result = get_connector(channel).fetch({"mentions": {"since_id": "1861234567890123460"}})
    assert result.items == []
    assert result.cursor["mentions"] == {"since_id": "1861234567890123460"}


def test_mentions_and_search_each_keep_their_cursor_and_overlap_once(channel, wire):
    channel.settings = {"user_id": BRAND_ID, "search_query": '"Roadrunner Pro" OR Acme -is:retweet'}
    serve_two_pages(wire)
    wire.add("GET", SEARCH, fixture="x/search_recent.json", headers=rate_headers(170))
    result = get_connector(channel).fetch({})
    ids = [i.external_id for i in result.items]
    assert ids.count("1861234567890123460") == 1
    assert "1861234567890123470" in ids
    assert result.cursor == {
        "mentions": {"since_id": "1861234567890123460"},
        "search": {"since_id": "1861234567890123470"},
    }
    assert wire.calls(SEARCH)[0].query["query"] == '"Roadrunner Pro" OR Acme -is:retweet'
    assert result.budget.remaining == 170  # the tightest endpoint


def test_rate_limit_midway_keeps_the_first_page_and_the_next_poll_reads_the_rest_once(channel, wire):
    reset = int(time.time()) + 300
    wire.add("GET", MENTIONS, fixture="x/mentions_page1.json", headers=rate_headers(1))
    wire.add(
        "GET",
        MENTIONS,
        fixture="x/error_429.json",
        status=429,
        headers=rate_headers(0, reset),
        when={"pagination_token": NEXT},
    )
    connector = get_connector(channel)
    first = connector.fetch({})
    assert isinstance(first.error, RateLimited)
    assert 200 < first.error.retry_after <= 300
    assert not first.error.permanent
    # the first page is kept; the cursor resumes at the page that failed, its floor unmoved
    assert [i.external_id for i in first.items] == ["1861234567890123460", "1861234567890123455"]
    assert first.cursor["mentions"] == {"since_id": None, "next_token": NEXT, "newest_id": "1861234567890123460"}

    # After the reset the next poll reads the second page only: nothing lost, nothing twice.
    wire.routes.clear()
    serve_two_pages(wire)
    second = connector.fetch(first.cursor)
    assert wire.calls(MENTIONS)[-1].query["pagination_token"] == NEXT
    assert [i.external_id for i in second.items] == ["1861234567890123410"]
    assert second.error is None and second.cursor == {"mentions": {"since_id": "1861234567890123460"}}


def test_rate_limit_on_the_first_page_raises_with_the_cursor_untouched(channel, wire):
    wire.add("GET", MENTIONS, fixture="x/error_429.json", status=429, headers=rate_headers(0, int(time.time()) + 60))
    with pytest.raises(RateLimited):
        get_connector(channel).fetch({"mentions": {"since_id": "1"}})


def test_unfinished_sweep_resumes_from_its_page_without_moving_the_floor(channel, wire):
    channel.settings = {"user_id": BRAND_ID, "max_pages": 1}
    serve_two_pages(wire)
    connector = get_connector(channel)
    first = connector.fetch({"mentions": {"since_id": "1861234567890000000"}})
    assert first.has_more
    assert first.cursor["mentions"] == {
        "since_id": "1861234567890000000",
        "next_token": NEXT,
        "newest_id": "1861234567890123460",
    }
    second = connector.fetch(first.cursor)
    assert wire.calls(MENTIONS)[1].query["pagination_token"] == NEXT
    assert wire.calls(MENTIONS)[1].query["since_id"] == "1861234567890000000"
    assert [i.external_id for i in second.items] == ["1861234567890123410"]
    assert second.cursor["mentions"] == {"since_id": "1861234567890123460"}
    assert not second.has_more


@pytest.mark.parametrize(
    ("status", "fixture", "permanent", "reconnect"),
    [(503, "x/error_503.json", False, False), (401, "x/error_401.json", True, True)],
)
def test_errors_map_to_the_contract(channel, wire, status, fixture, permanent, reconnect):
    wire.add("GET", MENTIONS, fixture=fixture, status=status)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not isinstance(error.value, RateLimited)
    assert error.value.permanent is permanent
    assert error.value.reconnect is reconnect
    assert error.value.status == status


def test_malformed_json_is_transient(channel, wire):
    wire.add("GET", MENTIONS, body='{"data": [{"id": "1", "text": "trunc', headers=rate_headers())
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_unreachable_host_is_transient(channel, settings):
    channel.api_base_url = "http://127.0.0.1:9"
    settings.PRIVATE_NETWORK_ALLOWLIST = ["127.0.0.1:9"]  # else refused before any connection
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_hostile_text_is_kept_verbatim_and_bad_urls_dropped(channel, wire):
    serve_two_pages(wire)
    items = {i.external_id: i for i in get_connector(channel).fetch({}).items}
    hostile = items["1861234567890123410"]
    assert hostile.text == "@acme <script>alert('x')</script> look at javascript:alert(1) &amp; this"
    assert hostile.author.name == "<img src=x onerror=alert(1)>"
    assert hostile.author.avatar_url == ""
    assert hostile.url.startswith("https://x.com/")


def test_reply_is_posted_with_oauth1_user_context(channel, wire):
    wire.add("POST", "/2/tweets", fixture="x/create_tweet.json", status=201)
    posted = get_connector(channel).post_reply("1861234567890123460", "Sorry to hear that! Please DM us.")
    assert posted.external_id == "1861234567890199999"
    call = wire.calls("/2/tweets")[0]
    assert call.headers["authorization"].startswith("OAuth ")
    assert 'oauth_consumer_key="ck"' in call.headers["authorization"]
    assert json.loads(call.body) == {
        "text": "Sorry to hear that! Please DM us.",
        "reply": {"in_reply_to_tweet_id": "1861234567890123460"},
    }


def test_reply_without_user_credentials_asks_to_reconnect(channel, wire):
    channel.credentials = {"bearer_token": "only-read"}
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).post_reply("1", "hi")
    assert error.value.reconnect
    assert wire.requests == []


def test_reply_max_length():
    from listening.connectors.x import XConnector

    assert XConnector.reply_max_length == 280


def test_search_since_id_older_than_seven_days_starts_the_sweep_over(channel, wire):
    channel.settings = {"search_query": "Acme"}
    wire.add("GET", SEARCH, fixture="x/error_400_since_id.json", status=400, when={"since_id": "1851234567890123460"})
    wire.add("GET", SEARCH, fixture="x/search_recent.json", headers=rate_headers())
    result = get_connector(channel).fetch({"search": {"since_id": "1851234567890123460"}})
    assert len(result.items) == 2
    assert result.cursor == {"search": {"since_id": "1861234567890123470"}}
    assert "since_id" not in wire.calls(SEARCH)[1].query


def test_other_bad_requests_are_permanent(channel, wire):
    wire.add("GET", MENTIONS, fixture="x/error_400_since_id.json", status=400)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({"mentions": {"since_id": "1851234567890123460"}})
    assert error.value.permanent and not error.value.reconnect


def test_rate_limit_inside_a_resumed_sweep_loses_and_repeats_nothing(channel, wire):
    channel.settings = {"user_id": BRAND_ID, "max_pages": 1}
    wire.add("GET", MENTIONS, fixture="x/mentions_page1.json", headers=rate_headers(1))
    wire.add(
        "GET",
        MENTIONS,
        fixture="x/error_429.json",
        status=429,
        headers=rate_headers(0),
        when={"pagination_token": NEXT},
    )
    connector = get_connector(channel)
    first = connector.fetch({})  # stored with its items by the pipeline
    with pytest.raises(RateLimited):
        connector.fetch(first.cursor)  # nothing stored, the cursor stays as it was
    wire.routes.clear()
    serve_two_pages(wire)
    second = connector.fetch(first.cursor)
    ids = [i.external_id for i in first.items + second.items]
    assert ids == ["1861234567890123460", "1861234567890123455", "1861234567890123410"]
    assert second.cursor == {"mentions": {"since_id": "1861234567890123460"}}


def test_an_unreadable_item_is_set_aside_and_the_rest_of_the_page_read(channel, wire):
    body = json.loads((FIXTURES / "x/mentions_page1.json").read_text())
    del body["meta"]["next_token"]
    bad = body["data"][0]
    bad["created_at"] = "yesterday"
    wire.add("GET", MENTIONS, body=body, headers=rate_headers())
    result = get_connector(channel).fetch({})
    assert [item.external_id for item in result.items] == ["1861234567890123455"]  # the repost is left out
    (rejected,) = result.rejected
    assert rejected.external_id == bad["id"] and "unreadable" in rejected.reason and "ValueError" in rejected.reason
    assert result.cursor["mentions"]["since_id"] == body["meta"]["newest_id"]  # the page is done with
