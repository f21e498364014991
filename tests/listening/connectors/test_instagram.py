"""InstagramConnector: facebook-sdk's real GraphAPI against recorded Instagram Graph payloads served locally."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.models import Platform
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import fixture_bytes

IG = "17841400000000001"
MEDIA = f"/v21.0/{IG}/media"
MEDIA_AFTER = "QVFIUmx1WTBpMGpRbk1ocWFfd0Rva2s3NWxsTU9RZAjl2dEZAjV3FZAUzFIRl9CTmZA5QUlLcWhyX2NYQ3BlbVFhMDRiNlJ5TFY5"
COMMENTS_1 = "/v21.0/17900000000000001/comments"
COMMENTS_AFTER = "QVFIUl9mT2F5cE51b2ZAvWm1xcFJ5ZAWpnWjMxRUtpRTZAxNFc4X2dWbFRnRnlscmdfaElSY0pMVnFOWmVNb0VGaXdv"
COMMENTS_2 = "/v21.0/17900000000000002/comments"
SINCE = int(datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp())
NEWEST = int(datetime(2026, 11, 23, 11, 40, 0, tzinfo=UTC).timestamp())
CREDENTIALS = {"page_access_token": "PAGE_TOKEN"}


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0"},
        credentials=CREDENTIALS,
    )


TAGS = f"/v21.0/{IG}/tags"
TAGS_AFTER = "QVFIUnRhZ3NBZAnRlcjEZD"
TAGGED = {"17890000000000101", "17890000000000102", "17890000000000103"}  # since SINCE


def serve_account(wire) -> None:
    wire.add("GET", TAGS, fixture="instagram/tags_page1.json")
    wire.add("GET", TAGS, fixture="instagram/tags_page2.json", when={"after": TAGS_AFTER})
    wire.add("GET", MEDIA, fixture="instagram/media_page1.json")
    wire.add("GET", MEDIA, fixture="instagram/media_page2.json", when={"after": MEDIA_AFTER})
    wire.add("GET", COMMENTS_1, fixture="instagram/comments_media1_page1.json")
    wire.add("GET", COMMENTS_1, fixture="instagram/comments_media1_page2.json", when={"after": COMMENTS_AFTER})
    wire.add("GET", COMMENTS_2, fixture="instagram/comments_media2.json")


def test_poll_reads_media_pages_comments_and_threaded_replies(channel, wire):
    serve_account(wire)
    result = get_connector(channel).fetch({"since": SINCE})
    by_id = {i.external_id: i for i in result.items}

    # the account's own answer and a comment older than the cursor are left out; a new reply on
    # that old comment comes in
    assert set(by_id) - TAGGED == {
        "17950000000000011",
        "17950000000000012",
        "17950000000000021",
        "17950000000000032",
        "17950000000000041",
    }
    comment = by_id["17950000000000011"]
    assert comment.kind == "comment"
    assert comment.parent_external_id == "17900000000000001"
    assert comment.source == "17900000000000001"
    assert comment.source_title == "Roadrunner Pro: now in summer orange ☀️"
    assert comment.url == "https://www.instagram.com/p/DAcmeRoad01/"
    assert comment.author.external_id == "17841455500000011"
    assert comment.author.handle == "sofi.montevideo"
    assert comment.author.profile_url == "https://www.instagram.com/sofi.montevideo/"
    assert comment.metrics == {"likes": 7}
    reply = by_id["17950000000000012"]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "17950000000000011"
    late_reply = by_id["17950000000000032"]
    assert (late_reply.kind, late_reply.parent_external_id) == ("reply", "17950000000000031")
    assert result.cursor == {"since": NEWEST}

    # both media pages and both comment pages were read by their after cursors; a media without
    # comments cost no request
    assert [c.query.get("after") for c in wire.calls(MEDIA)] == [None, MEDIA_AFTER]
    assert [c.query.get("after") for c in wire.calls(COMMENTS_1)] == [None, COMMENTS_AFTER]
    assert not wire.calls("/v21.0/17900000000000003/comments")
    fields = wire.calls(COMMENTS_1)[0].query["fields"]
    assert "from{id,username}" in fields and fields.startswith("id,text,timestamp,username,like_count")
    assert "replies{" in fields
    # the token travels in the Authorization header, never in a URL
    assert all(call.headers["authorization"] == "Bearer PAGE_TOKEN" for call in wire.requests)
    assert all("access_token" not in call.query for call in wire.requests)


def test_second_poll_reads_only_what_is_new(channel, wire):
    serve_account(wire)
    connector = get_connector(channel)
    first = connector.fetch({"since": SINCE})
    second = connector.fetch(first.cursor)
    # only what was at the floor's very second comes back (the ingestion dedupes it)
    assert {i.external_id for i in second.items} == {"17950000000000012"}
    assert second.cursor == {"since": NEWEST}


def test_commenter_without_from_is_known_by_username_and_hostile_text_is_verbatim(channel, wire):
    serve_account(wire)
    items = {i.external_id: i for i in get_connector(channel).fetch({"since": SINCE}).items}
    anonymous = items["17950000000000041"]
    assert anonymous.text == '</p><script>alert("ig")</script> who makes these?'
    assert anonymous.author.external_id == "username:x_x.<b>"
    assert anonymous.author.handle == "x_x.<b>"
    assert anonymous.author.profile_url == ""  # not a username Instagram allows: no link built from it
    assert items["17950000000000012"].text == "Yo también la espero <img src=x onerror=alert('ig')>"


def test_poll_stores_comments_once_through_the_pipeline(channel, wire):
    from listening.polling import channel_poll

    serve_account(wire)
    channel.cursor = {"since": SINCE}
    channel.save()
    channel_poll(channel=channel)
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == channel.State.OK
    assert channel.mentions.count() == 5 + len(TAGGED)
    assert channel.mentions.get(external_id="17950000000000012").parent_external_id == "17950000000000011"
    assert set(channel.mentions.filter(kind="mention").values_list("external_id", flat=True)) == TAGGED


def test_expired_token_asks_to_reconnect(channel, wire):
    wire.add("GET", MEDIA, fixture="instagram/error_190.json", status=400)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert error.value.reconnect and error.value.permanent
    assert "Instagram refused the token" in str(error.value)


@pytest.mark.parametrize("code", [4, 32, 613])
def test_rate_limit_waits_as_the_usage_header_says(channel, wire, code):
    usage = {IG: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 9}]}
    body = {"error": {"message": f"(#{code}) request limit reached", "type": "OAuthException", "code": code}}
    wire.add("GET", MEDIA, body=body, status=400, headers={"x-business-use-case-usage": json.dumps(usage)})
    with pytest.raises(RateLimited) as error:
        get_connector(channel).fetch({"since": SINCE})
    assert error.value.retry_after == 9 * 60


def test_rate_limit_midway_without_header_waits_fifteen_minutes_and_keeps_the_cursor(channel, wire):
    serve_account(wire)
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    wire.prepend("GET", COMMENTS_2, [(400, json_type, fixture_bytes("instagram/error_rate_limit.json"))])
    connector = get_connector(channel)
    partial = connector.fetch({"since": SINCE})
    assert isinstance(partial.error, RateLimited) and partial.error.retry_after == 15 * 60
    # the first media's comments are kept; the floor stays and the media hit is read first next time
    assert partial.cursor["since"] == SINCE and list(partial.cursor["comments_owed"]) == [COMMENTS_2.split("/")[2]]
    assert partial.items and all(i.parent_external_id != COMMENTS_2.split("/")[2] for i in partial.items)
    assert len(connector.fetch({"since": SINCE}).items) == 5 + len(TAGGED)


def test_reply_is_posted_once_on_the_comments_replies_edge(channel, wire):
    wire.add("POST", "/v21.0/17950000000000011/replies", fixture="instagram/reply_post.json")
    posted = get_connector(channel).post_reply("17950000000000011", "¡Hola Sofi! Llega en diciembre.")
    assert posted.external_id == "17950000000000099"
    (call,) = wire.calls("/v21.0/17950000000000011/replies")
    assert parse_qs(call.body.decode()) == {"message": ["¡Hola Sofi! Llega en diciembre."]}
    assert call.headers["authorization"] == "Bearer PAGE_TOKEN"


def test_a_reply_to_a_reply_is_answered_on_its_top_level_comment(channel):
    from listening.models import Mention
    from responses.replies import reply_target
    from tests.factories import MentionFactory

    mention = MentionFactory(
        channel=channel,
        external_id="17950000000000012",
        kind=Mention.Kind.REPLY,
        parent_external_id="17950000000000011",
    )
    assert reply_target(mention) == "17950000000000011"


def test_settings_are_validated():
    from listening.connectors.instagram import InstagramConnector

    cleaned, errors = InstagramConnector.clean_settings({"ig_user_id": IG, "max_media": "10"})
    assert (cleaned, errors) == ({"ig_user_id": IG, "max_media": 10}, {})
    _cleaned, errors = InstagramConnector.clean_settings({"ig_user_id": "../me?x=1"})
    assert set(errors) == {"ig_user_id"}
    _cleaned, errors = InstagramConnector.clean_settings({})
    assert set(errors) == {"ig_user_id"}


def test_a_reply_to_a_reply_is_sent_once_on_its_top_level_comment(team, wire):
    from listening.models import Mention
    from responses.models import Reply
    from responses.tasks import send_reply
    from tests.factories import MentionFactory, ReplyFactory

    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0"},
        credentials=CREDENTIALS,
    )
    mention = MentionFactory(
        channel=channel,
        external_id="17950000000000012",
        kind=Mention.Kind.REPLY,
        parent_external_id="17950000000000011",
    )
    wire.add("POST", "/v21.0/17950000000000011/replies", fixture="instagram/reply_post.json")
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="¡Gracias, Carlos!")
    assert send_reply(reply.pk) == "sent"
    assert send_reply(reply.pk) == "skipped"  # the broker delivered the message again
    reply.refresh_from_db()
    assert reply.external_id == "17950000000000099"
    assert len(wire.calls("/v21.0/17950000000000011/replies")) == 1


def test_an_interrupted_reply_is_found_among_the_comments_replies_and_never_posted_again(team, wire):
    from datetime import timedelta

    from django.utils import timezone

    from responses import replies
    from responses.models import Reply
    from responses.tasks import send_reply
    from tests.factories import MentionFactory, ReplyFactory

    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0"},
        credentials=CREDENTIALS,
    )
    comment = MentionFactory(
        channel=channel, external_id="17950000000000021", text="My order #4411 still hasn't shipped"
    )
    claimed = timezone.now() - timedelta(seconds=replies.SENDING_STALE_SECONDS + 60)
    answered = (claimed + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    text = "Sorry Jen! We sent you a DM & will sort it today."
    person = {"id": "17841455500000044", "username": "jen.rides"}
    brand = {"id": IG, "username": "acme"}
    wire.add(
        "GET",
        "/v21.0/17950000000000021/replies",
        body={
            "data": [
                {"id": "17950000000000045", "text": "any news?", "timestamp": answered, "from": person},
                {"id": "17950000000000046", "text": "Sorry Jen! We sent you a DM &amp; will sort it today.",
                 "timestamp": answered, "from": brand},
            ]
        },
    )  # fmt: skip
    reply = ReplyFactory(
        mention=comment, author=team.cm, text=text, status=Reply.Status.SENDING, attempts=1, claimed_at=claimed
    )
    assert send_reply(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.external_id == "17950000000000046"
    assert [call.method for call in wire.calls("/v21.0/17950000000000021/replies")] == ["GET"]  # never posted


def test_past_its_time_for_comments_a_fetch_owes_the_media_and_the_next_reads_them_from_their_floor(
    channel, wire, monkeypatch
):
    from listening.connectors import instagram

    serve_account(wire)
    monkeypatch.setattr(instagram, "COMMENTS_SECONDS", -1)  # a Graph so slow the time is up at once
    first = get_connector(channel).fetch({"since": SINCE})
    # The tags are read all the same (down to the floor, a page or two); the comments are owed.
    assert {i.external_id for i in first.items} == TAGGED and first.deferred == 2
    tagged_newest = int(datetime(2026, 11, 23, 10, 15, tzinfo=UTC).timestamp())
    assert first.cursor == {
        "since": tagged_newest,
        "comments_owed": {"17900000000000001": SINCE, "17900000000000002": SINCE},
    }
    assert not [r for r in wire.requests if r.path.endswith("/comments")]

    monkeypatch.setattr(instagram, "COMMENTS_SECONDS", 20)
    # a newer floor meanwhile (a comment elsewhere) does not skip what the owed media hold
    second = get_connector(channel).fetch({**first.cursor, "since": NEWEST})
    assert {i.external_id for i in second.items} == {
        "17950000000000011",
        "17950000000000012",
        "17950000000000021",
        "17950000000000032",
        "17950000000000041",
    }
    assert second.cursor == {"since": NEWEST} and second.deferred == 0


def test_a_poll_reads_the_media_the_account_is_tagged_in_down_to_its_floor(channel, wire):
    serve_account(wire)
    result = get_connector(channel).fetch({"since": SINCE})
    by_id = {i.external_id: i for i in result.items}

    assert TAGGED <= set(by_id)
    assert "17890000000000104" not in by_id  # tagged before the floor: read by an earlier poll
    tag = by_id["17890000000000101"]
    assert tag.kind == "mention"
    assert tag.text == "Summer road trip with my @acme Roadrunner Pro 🚗 the battery died on day two though"
    assert tag.author.handle == "viajera.uy" and tag.author.external_id == "username:viajera.uy"
    assert tag.author.profile_url == "https://www.instagram.com/viajera.uy/"
    assert tag.url == "https://www.instagram.com/p/DTagRoad101/"
    assert tag.published_at == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    hostile = by_id["17890000000000102"]
    assert hostile.text == "<img src=x onerror=alert(1)> unboxing day"  # verbatim; escaped where shown
    assert hostile.url == ""  # a javascript: link never becomes one
    # The pages stop at the first media older than the floor: no third page is asked for.
    assert [c.query.get("after") for c in wire.calls(TAGS)] == [None, TAGS_AFTER]
    assert wire.calls(TAGS)[0].query["fields"] == "id,caption,permalink,timestamp,username"

    # The next poll starts from the newest item: the tags are not read again.
    second = get_connector(channel).fetch(result.cursor)
    assert not TAGGED & {i.external_id for i in second.items}
    assert len(wire.calls(TAGS)) == 3


ACCOUNT = f"/v21.0/{IG}"
MENTIONED_COMMENT = (
    "mentioned_comment.comment_id(17960000000000201){id,text,timestamp,like_count,username,media{id,permalink}}"
)
MENTIONED_MEDIA = "mentioned_media.media_id(17880000000000302){id,caption,permalink,timestamp,username}"


def serve_mentions(wire) -> None:
    wire.add("GET", ACCOUNT, fixture="instagram/mentioned_comment.json", when={"fields": MENTIONED_COMMENT})
    wire.add("GET", ACCOUNT, fixture="instagram/mentioned_media.json", when={"fields": MENTIONED_MEDIA})


def test_mentions_are_read_back_through_the_accounts_mentioned_comment_and_mentioned_media(channel, wire):
    from listening.connectors.instagram import MentionRef

    serve_mentions(wire)
    items = get_connector(channel).fetch_mentioned(
        [
            MentionRef(media_id="17880000000000301", comment_id="17960000000000201"),
            MentionRef(media_id="17880000000000302"),
        ]
    )
    comment, caption = items
    assert (comment.external_id, comment.kind) == ("17960000000000201", "mention")
    assert comment.text == "@acme my order #4412 never arrived, 3 weeks now"
    assert comment.author.handle == "marina_rg"
    assert comment.url == "https://www.instagram.com/p/DOther00301/"
    assert comment.source == "17880000000000301"
    assert comment.metrics == {"likes": 2}
    assert (caption.external_id, caption.kind) == ("17880000000000302", "mention")
    assert caption.text == "Best customer service ever, thank you @acme 💛"
    assert caption.author.handle == "lu.fotos"
    # Through the real client: the token in the header, never in the address.
    call = wire.calls(ACCOUNT)[0]
    assert call.headers.get("authorization") == "Bearer PAGE_TOKEN"
    assert "access_token" not in call.query


def test_a_mention_removed_since_its_delivery_is_skipped(channel, wire):
    from listening.connectors.instagram import MentionRef

    wire.add("GET", ACCOUNT, fixture="instagram/mentioned_comment_gone.json")
    assert get_connector(channel).fetch_mentioned([MentionRef(media_id="1", comment_id="2")]) == []


def test_a_rate_limit_while_reading_a_mention_is_the_platforms(channel, wire):
    from listening.connectors.instagram import MentionRef

    wire.add(
        "GET",
        ACCOUNT,
        status=400,
        fixture="instagram/error_rate_limit.json",
        headers={"x-business-use-case-usage": json.dumps({IG: [{"estimated_time_to_regain_access": 3}]})},
    )
    with pytest.raises(RateLimited) as raised:
        get_connector(channel).fetch_mentioned([MentionRef(media_id="1", comment_id="2")])
    assert raised.value.retry_after == 180


COMMENT = "/v21.0/17950000000000011"


@pytest.mark.parametrize(("hidden", "sent"), [(True, "true"), (False, "false")])
def test_hiding_a_comment_posts_instagrams_hide_field(channel, wire, hidden, sent):
    wire.add("POST", COMMENT, fixture="instagram/comment_success.json")
    get_connector(channel).hide_comment("17950000000000011", hidden)
    (call,) = wire.calls(COMMENT)
    assert call.method == "POST"
    assert parse_qs(call.body.decode()) == {"hide": [sent]}
    assert call.headers["authorization"] == "Bearer PAGE_TOKEN"


def test_deleting_a_comment_sends_delete_on_the_comment(channel, wire):
    wire.add("DELETE", COMMENT, fixture="instagram/comment_success.json")
    get_connector(channel).delete_comment("17950000000000011")
    (call,) = wire.calls(COMMENT)
    assert call.method == "DELETE"


def test_moderation_errors_are_mapped_like_every_graph_call(channel, wire):
    wire.add("DELETE", COMMENT, fixture="instagram/error_190.json", status=400)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).delete_comment("17950000000000011")
    assert error.value.reconnect and error.value.permanent

    body = {"error": {"message": "(#4) request limit reached", "type": "OAuthException", "code": 4}}
    wire.add("POST", COMMENT, body=body, status=400)
    with pytest.raises(RateLimited):
        get_connector(channel).hide_comment("17950000000000011", True)


def test_a_comment_instagram_no_longer_has_is_a_permanent_error(channel, wire):
    wire.add("DELETE", COMMENT, fixture="instagram/error_comment_gone.json", status=400)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).delete_comment("17950000000000011")
    assert error.value.permanent and not error.value.reconnect


def test_a_server_error_while_hiding_is_temporary(channel, wire):
    wire.add("POST", COMMENT, body={"error": {"message": "An unknown error", "code": 1}}, status=500)
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).hide_comment("17950000000000011", True)
    assert not error.value.permanent
    assert error.value.status == 500


OLDER_MEDIA = "17900000000000009"


def test_a_live_conversation_on_media_older_than_the_newest_keeps_arriving(channel, wire):
    """Comments on media past the newest ``max_media`` were never read: a comment stored on one
    lately (by a poll or the comments webhook) keeps its conversation followed."""
    from listening.polling import channel_poll
    from tests.factories import MentionFactory

    serve_account(wire)
    wire.add("GET", "/v21.0/", fixture="instagram/media_by_ids.json")
    wire.add("GET", f"/v21.0/{OLDER_MEDIA}/comments", fixture="instagram/comments_media9.json")
    MentionFactory(
        channel=channel,
        external_id="17950000000000091",
        kind="comment",
        parent_external_id=OLDER_MEDIA,
        published_at=datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
    )
    channel.cursor = {"since": SINCE}
    channel.save()

    outcome = channel_poll(channel=channel)

    assert outcome.error == ""
    # the media is looked up by id (one request for all such media) for its caption and address
    (lookup,) = wire.calls("/v21.0/")
    assert lookup.query["ids"] == OLDER_MEDIA
    late = channel.mentions.get(external_id="17950000000000092")
    assert (late.kind, late.parent_external_id) == ("comment", OLDER_MEDIA)
    assert late.url == "https://www.instagram.com/p/DAcmeSale09/"
    assert channel.mentions.filter(parent_external_id=OLDER_MEDIA).count() == 2  # the one stored before, once


def test_media_past_the_budget_are_owed_shown_and_read_on_the_next_poll(channel, wire, client, django_user_model):
    from listening.polling import channel_poll

    serve_account(wire)
    channel.settings = {**channel.settings, "max_media": 1}
    channel.cursor = {"since": SINCE}
    channel.save()
    late = "17950000000000041"  # on the second media, older than the newest comment on the first

    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.cursor["comments_owed"] == {"17900000000000002": SINCE}
    assert channel.cursor["since"] > int(datetime(2026, 11, 23, 7, 30, tzinfo=UTC).timestamp())
    assert channel.threads_deferred == 1 and not wire.calls(COMMENTS_2)
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    assert "Comments on 1 older post not read this poll" in client.get("/channels/").content.decode()

    channel_poll(channel=channel)
    channel.refresh_from_db()
    # the owed media is read first, from the floor it was owed at
    assert wire.calls(COMMENTS_2)
    assert channel.mentions.filter(external_id=late).count() == 1
    assert channel.state == channel.State.OK

    stored = channel.mentions.count()
    for _ in range(3):  # the media take turns within the budget; nothing is stored twice
        channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.mentions.count() == stored


def test_an_older_media_deleted_since_its_last_comment_does_not_stop_the_others(channel, wire):
    """One media gone fails Graph's whole ``?ids=`` look-up: each is then asked alone, and the one
    gone is left out while the live conversation next to it is read."""
    from listening.polling import channel_poll
    from tests.factories import MentionFactory

    gone = "17900000000000008"
    serve_account(wire)
    wire.add("GET", "/v21.0/", fixture="instagram/error_media_gone.json", status=400)
    wire.add("GET", f"/v21.0/{gone}", fixture="instagram/error_media_gone.json", status=400)
    media = json.loads(fixture_bytes("instagram/media_by_ids.json"))[OLDER_MEDIA]
    wire.add("GET", f"/v21.0/{OLDER_MEDIA}", body=media)
    wire.add("GET", f"/v21.0/{OLDER_MEDIA}/comments", fixture="instagram/comments_media9.json")
    for media_id, comment_id in ((gone, "17950000000000081"), (OLDER_MEDIA, "17950000000000091")):
        MentionFactory(
            channel=channel,
            external_id=comment_id,
            kind="comment",
            parent_external_id=media_id,
            published_at=datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
        )
    channel.cursor = {"since": SINCE}
    channel.save()

    outcome = channel_poll(channel=channel)

    channel.refresh_from_db()
    assert outcome.error == "" and channel.state == channel.State.OK
    assert channel.mentions.filter(external_id="17950000000000092").count() == 1
    assert not wire.calls(f"/v21.0/{gone}/comments")


def test_comments_the_webhook_delivered_make_their_media_followed(channel, wire):
    """A comment and its reply delivered by the ``comments`` webhook tell which media's conversation
    moved: the next poll reads it even when it is not among the newest."""
    from listening.connectors.instagram import parse_webhook
    from listening.ingest import ingest_items

    delivery = json.loads(fixture_bytes("instagram/webhook_comments.json"))
    items, _mentions = parse_webhook(delivery, IG)
    ingest_items(channel=channel, items=items)
    since = datetime.fromtimestamp(1795434000 - 86400, UTC)
    assert set(get_connector(channel).recent_threads(since)) == {"17900000000000001"}
