"""FacebookConnector: facebook-sdk's real GraphAPI against recorded Graph payloads served locally."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.models import Platform
from tests.factories import ChannelFactory

PAGE = "104857600000001"
FEED = f"/v21.0/{PAGE}/feed"
VISITOR = f"/v21.0/{PAGE}/visitor_posts"
TAGGED = f"/v21.0/{PAGE}/tagged"
AFTER = "QVFIUnZAEVEpVV3V3T2RCUXVOWldrMUtwX0x3ZA1B1ZAl9WMmpOdU5CNE5OMVRn"
SINCE = int(datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(
        platform=Platform.FACEBOOK,
        api_base_url=wire.url,
        settings={"page_id": PAGE, "graph_version": "v21.0", "page_name": "Acme"},
        credentials={"page_access_token": "PAGE_TOKEN", "app_secret": "s3cret", "verify_token": "v-token"},
    )


def serve_page(wire) -> None:
    wire.add("GET", FEED, fixture="facebook/feed_page1.json")
    wire.add("GET", FEED, fixture="facebook/feed_page2.json", when={"after": AFTER})
    wire.add("GET", VISITOR, fixture="facebook/empty.json")
    wire.add("GET", TAGGED, fixture="facebook/tagged.json")
    wire.add("GET", "/v21.0/104857600000001_2201000000000003/comments", fixture="facebook/comments_post3.json")
    wire.add("GET", "/v21.0/100044556677_2201000000000002/comments", fixture="facebook/empty.json")
    wire.add("GET", "/v21.0/104857600000001_2201000000000001/comments", fixture="facebook/empty.json")


def test_poll_reads_feed_pages_comments_and_tags(channel, wire):
    serve_page(wire)
    result = get_connector(channel).fetch({"since": SINCE})
    by_id = {i.external_id: i for i in result.items}

    # the Page's own posts and its own reply are left out; the visitor's post, comments and the tag come in
    assert set(by_id) == {
        "100044556677_2201000000000002",
        "2201000000000003_3300000000000002",
        "2201000000000003_3300000000000001",
        "100033445566_2209000000000001",
    }
    comment = by_id["2201000000000003_3300000000000001"]
    assert comment.kind == "comment"
    assert comment.parent_external_id == "104857600000001_2201000000000003"
    assert comment.author.name == "Carlos Benítez"
    assert comment.author.external_id == "100099001122"
    assert comment.metrics == {"likes": 12}
    assert comment.source == "Acme"
    reply = by_id["2201000000000003_3300000000000002"]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "2201000000000003_3300000000000001"
    assert by_id["100033445566_2209000000000001"].kind == "mention"
    assert by_id["100044556677_2201000000000002"].kind == "post"
    assert result.cursor == {"since": int(datetime(2026, 11, 23, 11, 15, 42, tzinfo=UTC).timestamp())}

    # paging followed the after cursor; comments asked in stream order with the since floor
    assert [c.query.get("after") for c in wire.calls(FEED)] == [None, AFTER]
    comments_call = wire.calls("/v21.0/104857600000001_2201000000000003/comments")[0]
    assert comments_call.query["filter"] == "stream"
    assert comments_call.query["since"] == str(SINCE)
    # the token travels in the Authorization header, never in a URL
    assert comments_call.headers["authorization"] == "Bearer PAGE_TOKEN"
    assert all("access_token" not in call.query for call in wire.requests)
    assert wire.calls(VISITOR)[0].query["since"] == str(SINCE)


def test_items_older_than_the_cursor_are_not_sent_again(channel, wire):
    serve_page(wire)
    later = int(datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp())
    ids = {i.external_id for i in get_connector(channel).fetch({"since": later}).items}
    assert ids == {"100044556677_2201000000000002"}


def test_hostile_text_kept_and_javascript_permalink_replaced(channel, wire):
    serve_page(wire)
    items = {i.external_id: i for i in get_connector(channel).fetch({"since": SINCE}).items}
    hostile = items["2201000000000003_3300000000000002"]
    assert hostile.text == "¡A mí me pasó lo mismo! <script>alert('fb')</script>"
    assert hostile.url == "https://www.facebook.com/2201000000000003_3300000000000002"


def test_expired_token_asks_to_reconnect(channel, wire):
    wire.add("GET", FEED, fixture="facebook/error_190.json", status=400)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert error.value.reconnect and error.value.permanent


def test_rate_limit_uses_business_usage_header(channel, wire):
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 25,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    wire.add(
        "GET",
        FEED,
        fixture="facebook/error_rate_limit.json",
        status=400,
        headers={"x-business-use-case-usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as error:
        get_connector(channel).fetch({"since": SINCE})
    assert error.value.retry_after == 7 * 60


def test_rate_limit_without_header_waits_fifteen_minutes(channel, wire):
    wire.add("GET", FEED, fixture="facebook/error_rate_limit.json", status=403)
    with pytest.raises(RateLimited) as error:
        get_connector(channel).fetch({"since": SINCE})
    assert error.value.retry_after == 15 * 60


def test_rate_limit_midway_keeps_the_cursor_and_next_poll_gets_everything(channel, wire):
    serve_page(wire)
    wire.routes = [r for r in wire.routes if r.path != TAGGED]
    wire.add("GET", TAGGED, fixture="facebook/error_rate_limit.json", status=400)
    connector = get_connector(channel)
    partial = connector.fetch({"since": SINCE})
    # the posts read before the limit are handed over with it; the cursor does not move
    assert isinstance(partial.error, RateLimited)
    assert partial.cursor == {"since": SINCE}
    assert {i.external_id for i in partial.items} == {"100044556677_2201000000000002"}
    wire.routes.clear()
    serve_page(wire)
    assert len(connector.fetch({"since": SINCE}).items) == 4


def test_server_error_is_transient(channel, wire):
    wire.add("GET", FEED, fixture="facebook/error_500.json", status=500)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent
    assert error.value.status == 500


def test_html_error_page_is_transient(channel, wire):
    wire.add("GET", FEED, body="<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_malformed_json_is_transient(channel, wire):
    wire.add("GET", FEED, body='{"data": [{"id": ')
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_reply_is_a_comment_on_the_comment(channel, wire):
    wire.add("POST", "/v21.0/2201000000000003_3300000000000001/comments", fixture="facebook/put_comment.json")
    posted = get_connector(channel).post_reply(
        "2201000000000003_3300000000000001", "Hola Carlos, te escribimos por DM."
    )
    assert posted.external_id == "2201000000000003_3300000000000099"
    call = wire.calls("/v21.0/2201000000000003_3300000000000001/comments")[0]
    from urllib.parse import parse_qs

    form = parse_qs(call.body.decode())
    assert form == {"message": ["Hola Carlos, te escribimos por DM."]}
    assert call.headers["authorization"] == "Bearer PAGE_TOKEN"


def test_reply_max_length():
    from listening.connectors.facebook import FacebookConnector

    assert FacebookConnector.reply_max_length == 8000


def test_pages_beyond_max_pages_are_resumed_on_the_next_poll(channel, wire):
    serve_page(wire)
    everything = {i.external_id for i in get_connector(channel).fetch({"since": SINCE}).items}
    wire.requests.clear()

    channel.settings = {**channel.settings, "max_pages": 1}
    connector = get_connector(channel)
    first = connector.fetch({"since": SINCE})
    assert first.has_more
    assert first.cursor["since"] == SINCE  # the floor waits until the older pages are read
    assert first.cursor["resume"] == {f"{PAGE}/feed": AFTER}

    second = connector.fetch(first.cursor)
    assert wire.calls(FEED)[-1].query["after"] == AFTER
    assert not second.has_more
    assert second.cursor == {"since": int(datetime(2026, 11, 23, 11, 15, 42, tzinfo=UTC).timestamp())}
    assert {i.external_id for i in first.items} | {i.external_id for i in second.items} == everything


# --- Comments beyond the newest posts: live conversations and the budget's rotation -------------


def _busy_page(wire, posts: int = 30) -> list[str]:
    """A Page feed of ``posts`` visitor posts, newest first, none with comments unless added."""
    ids = [f"{PAGE}_22010000000{n:04d}" for n in range(posts, 0, -1)]
    wire.add(
        "GET",
        FEED,
        body={
            "data": [
                {
                    "id": post_id,
                    "message": f"Post {post_id}",
                    "created_time": f"2026-11-20T{n % 24:02d}:00:00+0000",
                    "from": {"name": "Visitor", "id": f"1000{n}"},
                }
                for n, post_id in enumerate(ids)
            ],
            "paging": {"cursors": {"before": "b", "after": "a"}},
        },
    )
    wire.add("GET", VISITOR, fixture="facebook/empty.json")
    wire.add("GET", TAGGED, fixture="facebook/empty.json")
    for post_id in ids:
        wire.add("GET", f"/v21.0/{post_id}/comments", fixture="facebook/empty.json")
    return ids


def _comment(wire, post_id: str, comment_id: str, created: str) -> None:
    wire.add(
        "GET",
        f"/v21.0/{post_id}/comments",
        body={
            "data": [
                {
                    "id": comment_id,
                    "message": "Still waiting for my refund, any news?",
                    "created_time": created,
                    "from": {"name": "Ana", "id": "100077"},
                }
            ],
            "paging": {"cursors": {"before": "b", "after": "c"}},
        },
    )
    # the route's first answer was the empty page: the comment replaces it
    route = next(r for r in wire.routes if r.path == f"/v21.0/{post_id}/comments")
    route.responses = route.responses[-1:]


def test_a_live_conversation_on_a_post_beyond_the_newest_25_is_read(channel, wire):
    """The loss the soak found: comments on a post outside the feed's newest 25 were never read."""
    from listening.polling import channel_poll
    from tests.factories import MentionFactory

    ids = _busy_page(wire)
    older = ids[27]  # 28th newest
    # Yesterday a poll (or a webhook delivery) stored a comment on it: the conversation is live.
    MentionFactory(
        channel=channel,
        external_id="2201000000000028_3300000000000001",
        kind="comment",
        parent_external_id=older,
        published_at=datetime(2026, 11, 22, 18, 0, tzinfo=UTC),
    )
    _comment(wire, older, "2201000000000028_3300000000000002", "2026-11-23T10:00:00+0000")
    channel.cursor = {"since": SINCE}
    channel.save()

    outcome = channel_poll(channel=channel)

    assert outcome.error == ""
    assert channel.mentions.filter(external_id="2201000000000028_3300000000000002").count() == 1
    assert wire.calls(f"/v21.0/{older}/comments")


def test_posts_past_the_budget_are_owed_shown_and_read_on_the_next_poll(channel, wire, client, django_user_model):
    from listening.polling import channel_poll

    ids = _busy_page(wire)
    # A comment on the newest post moves the floor past a comment made earlier on the oldest one.
    _comment(wire, ids[0], "2201000000000030_3300000000000001", "2026-11-23T12:00:00+0000")
    _comment(wire, ids[29], "2201000000000001_3300000000000001", "2026-11-23T09:00:00+0000")
    channel.cursor = {"since": SINCE}
    channel.save()

    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.threads_deferred == 5
    assert set(channel.cursor["comments_owed"]) == set(ids[25:])
    assert all(since == SINCE for since in channel.cursor["comments_owed"].values())
    assert not wire.calls(f"/v21.0/{ids[29]}/comments")
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    assert "Comments on 5 older posts not read this poll" in client.get("/channels/").content.decode()

    wire.requests.clear()
    channel_poll(channel=channel)
    channel.refresh_from_db()
    # the owed posts are read first, from the floor they were owed at, not from the moved one
    comment_posts = [r.path.split("/")[2] for r in wire.requests if r.path.endswith("/comments")]
    assert set(comment_posts[:5]) == set(ids[25:])
    assert wire.calls(f"/v21.0/{ids[29]}/comments")[0].query["since"] == str(SINCE)
    assert channel.mentions.filter(external_id="2201000000000001_3300000000000001").count() == 1
    assert channel.state == channel.State.OK


def test_webhook_deliveries_tell_which_conversations_moved(channel, wire):
    """A comment or a reply the webhook delivered makes its post one to read on the next poll."""
    from listening.connectors.facebook import parse_webhook
    from listening.ingest import ingest_items

    post = f"{PAGE}_2201000000000099"
    comment = {"item": "comment", "verb": "add", "post_id": post, "comment_id": "99_1", "parent_id": post}
    reply = {"item": "comment", "verb": "add", "post_id": post, "comment_id": "99_2", "parent_id": "99_1"}
    for value in (comment, reply):
        delivery = {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                **value,
                                "message": "Any news on my refund?",
                                "from": {"id": "100077", "name": "Ana"},
                                "created_time": SINCE + 3600,
                            },
                        }
                    ],
                }
            ],
        }
        ingest_items(channel=channel, items=parse_webhook(delivery, PAGE))
    since = datetime.fromtimestamp(SINCE - 86400, UTC)
    assert set(get_connector(channel).recent_threads(since)) == {post}
    # a conversation quiet since before the window is not followed for it
    assert get_connector(channel).recent_threads(datetime.fromtimestamp(SINCE + 7200, UTC)) == {}


def test_past_its_time_for_comments_a_fetch_owes_the_posts_it_did_not_reach(channel, wire, monkeypatch):
    from listening.connectors import facebook

    ids = _busy_page(wire, posts=3)
    monkeypatch.setattr(facebook, "COMMENTS_SECONDS", -1)  # a Graph so slow the time is up at once
    result = get_connector(channel).fetch({"since": SINCE})
    assert result.deferred == 3
    assert result.cursor["comments_owed"] == dict.fromkeys(ids, SINCE)
    assert not [r for r in wire.requests if r.path.endswith("/comments")]


def test_hiding_a_page_comment_posts_graphs_is_hidden_field(channel, wire):
    from urllib.parse import parse_qs

    wire.add("POST", "/v21.0/111_222", fixture="facebook/comment_success.json")
    get_connector(channel).hide_comment("111_222", True)
    (call,) = wire.calls("/v21.0/111_222")
    assert parse_qs(call.body.decode()) == {"is_hidden": ["true"]}


def test_a_moderation_graph_does_not_confirm_is_an_error(channel, wire):
    wire.add("DELETE", "/v21.0/111_222", body={"success": False})
    with pytest.raises(ConnectorError, match="did not confirm"):
        get_connector(channel).delete_comment("111_222")
