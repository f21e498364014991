"""Answering an @mention of the account on someone else's media: Instagram takes no replies there
(``POST /{comment-id}/replies``), only ``POST /{ig-user-id}/mentions``; facebook-sdk's real GraphAPI
against recorded Graph payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from listening.connectors import get_connector
from listening.models import Mention, Platform
from responses.models import Reply
from responses.tasks import send_reply
from tests.factories import ChannelFactory, MentionFactory, ReplyFactory
from tests.listening.connectors.test_instagram import IG, serve_mentions

MENTIONS = f"/v21.0/{IG}/mentions"
ACCOUNT = f"/v21.0/{IG}"
COMMENT = "17960000000000201"  # "@acme my order #4412 never arrived", on someone else's media
MEDIA = "17880000000000301"
CAPTION_MEDIA = "17880000000000302"  # a caption @mentioning the account
TEXT = "Marina, we are so sorry & we have sent you a DM to sort it today."


@pytest.fixture
def channel(team, wire):
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0"},
        credentials={"page_access_token": "PAGE_TOKEN"},
    )


def webhook_mentions(channel, wire) -> dict[str, Mention]:
    """The two @mentions of the recorded ``mentions`` delivery, read back and stored as the webhook's task does."""
    from listening.connectors.instagram import MentionRef
    from listening.ingest import ingest_items

    serve_mentions(wire)
    refs = [MentionRef(media_id=MEDIA, comment_id=COMMENT), MentionRef(media_id=CAPTION_MEDIA)]
    ingest_items(channel=channel, items=get_connector(channel).fetch_mentioned(refs))
    return {m.external_id: m for m in channel.mentions.all()}


def test_mentions_read_back_from_the_webhook_are_marked_for_the_mentions_edge(channel, wire):
    stored = webhook_mentions(channel, wire)
    assert stored[COMMENT].reply_route == "mentions" and stored[COMMENT].source == MEDIA
    assert stored[CAPTION_MEDIA].reply_route == "mentions"


def test_a_reply_to_a_mentioning_comment_goes_once_through_the_accounts_mentions_edge(channel, wire, team):
    mention = webhook_mentions(channel, wire)[COMMENT]
    wire.add("POST", MENTIONS, fixture="instagram/mention_reply_post.json")
    wire.add("POST", f"/v21.0/{COMMENT}/replies", fixture="instagram/error_reply_on_mention.json", status=403)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text=TEXT)
    assert send_reply(reply.pk) == "sent"
    assert send_reply(reply.pk) == "skipped"  # the broker delivered the message again
    reply.refresh_from_db()
    assert reply.external_id == "17960000000000299"
    (call,) = wire.calls(MENTIONS)
    assert parse_qs(call.body.decode()) == {"media_id": [MEDIA], "comment_id": [COMMENT], "message": [TEXT]}
    assert call.headers["authorization"] == "Bearer PAGE_TOKEN"
    assert not wire.calls(f"/v21.0/{COMMENT}/replies")


def test_a_reply_to_a_caption_mention_is_a_comment_on_that_media(channel, wire, team):
    mention = webhook_mentions(channel, wire)[CAPTION_MEDIA]
    wire.add("POST", MENTIONS, fixture="instagram/mention_reply_post.json")
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="¡Gracias, Lu! 💛")
    assert send_reply(reply.pk) == "sent"
    (call,) = wire.calls(MENTIONS)
    assert parse_qs(call.body.decode()) == {"media_id": [CAPTION_MEDIA], "message": ["¡Gracias, Lu! 💛"]}


def test_a_comment_on_the_accounts_own_media_is_still_answered_on_its_replies_edge(channel, wire, team):
    mention = MentionFactory(channel=channel, external_id="17950000000000011", kind=Mention.Kind.COMMENT)
    wire.add("POST", "/v21.0/17950000000000011/replies", fixture="instagram/reply_post.json")
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="¡Hola!")
    assert send_reply(reply.pk) == "sent"
    assert not wire.calls(MENTIONS)


def test_an_interrupted_reply_to_a_mention_is_found_among_its_replies_and_never_posted_again(channel, wire, team):
    mention = webhook_mentions(channel, wire)[COMMENT]
    claimed = datetime(2026, 11, 23, 12, 10, 0, tzinfo=UTC)
    wire.add(
        "GET",
        ACCOUNT,
        fixture="instagram/mentioned_comment_replies.json",
        when={"fields": f"username,mentioned_comment.comment_id({COMMENT}){{replies{{id,text,timestamp,username}}}}"},
    )
    reply = ReplyFactory(
        mention=mention, author=team.cm, text=TEXT, status=Reply.Status.SENDING, attempts=1, claimed_at=claimed
    )
    assert send_reply(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.external_id == "17960000000000299"
    assert not wire.calls(MENTIONS)  # never posted


def test_an_unreadable_answer_list_is_unsure_and_never_posts_again(channel, wire, team):
    from listening.connectors.base import ConnectorError

    mention = webhook_mentions(channel, wire)[COMMENT]
    wire.add("GET", ACCOUNT, body={"id": IG}, when={"fields": f"username,mentioned_comment.comment_id({COMMENT}){{replies{{id,text,timestamp,username}}}}"})  # fmt: skip
    with pytest.raises(ConnectorError):
        get_connector(channel).find_reply(mention.external_id, TEXT, since=datetime.now(UTC))


def test_a_post_the_account_is_tagged_in_is_refused_without_asking_instagram(channel, wire, team):
    tagged = MentionFactory(
        channel=channel, external_id="17890000000000101", kind=Mention.Kind.MENTION, source="17890000000000101"
    )
    reply = ReplyFactory(mention=tagged, author=team.cm, status=Reply.Status.QUEUED, text="¡Gracias!")
    assert send_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert "tagged in or found by a hashtag" in reply.error
    assert wire.requests == []
