"""The Instagram webhook: ``comments`` and ``mentions`` deliveries on the Facebook Page's signed
scheme; an @mention is read back through facebook-sdk from recorded Graph payloads."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from config.celery import app
from listening.models import Mention, Platform
from tests.factories import ChannelFactory, MentionFactory
from tests.listening.connectors.conftest import fixture_bytes
from tests.listening.connectors.test_instagram import ACCOUNT, IG, MENTIONED_MEDIA, serve_mentions

SECRET = "ig-app-s3cret"


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0"},
        credentials={"page_access_token": "PAGE_TOKEN", "app_secret": SECRET, "verify_token": "ig-verify"},
    )


@pytest.fixture
def queued(monkeypatch) -> list:
    """Tasks queued by name, recorded instead of run: what a worker would take from the broker."""
    from celery.canvas import Signature

    signatures: list[Signature] = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *args, **kwargs: signatures.append(self))
    return signatures


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, channel, body: bytes, signature: str | None = None):
    signature = signed(body) if signature is None else signature
    return client.post(
        f"/hooks/instagram/{channel.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature,
    )


def run(task) -> int:
    return app.tasks[task.task](*task.args, **task.kwargs)


def test_the_handshake_answers_the_challenge_for_the_channels_verify_token(client, channel):
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    assert client.get(f"/hooks/instagram/{channel.pk}/", {**query, "hub.verify_token": "ig-verify"}).content == (
        b"1158201444"
    )
    assert client.get(f"/hooks/instagram/{channel.pk}/", {**query, "hub.verify_token": "nope"}).status_code == 403


def test_a_comments_delivery_is_stored_once_by_its_task_without_the_accounts_own_answer(client, channel, queued):
    # A poll stored a comment on the same media before: its link back is the delivered ones' too.
    MentionFactory(
        channel=channel, external_id="17950000000000011", source="17900000000000001",
        url="https://www.instagram.com/p/DAcmeRoad01/",
    )  # fmt: skip
    body = fixture_bytes("instagram/webhook_comments.json")
    for _ in range(2):  # Meta delivers again when it doubts the first answer
        assert deliver(client, channel, body).status_code == 200
    assert len(queued) == 2 and {task.task for task in queued} == {"listening.ingest_webhook"}
    assert [run(task) for task in queued] == [2, 0]

    stored = {m.external_id: m for m in Mention.objects.filter(channel=channel).select_related("author")}
    assert "17950000000000503" not in stored  # the account's own answer is the brand's voice
    comment, reply = stored["17950000000000501"], stored["17950000000000502"]
    assert (comment.kind, comment.parent_external_id, comment.text) == (
        "comment",
        "17900000000000001",
        "Does the orange one come in the small size?",
    )
    assert comment.author.handle == "pedro.mvd" and comment.author.external_id == "17841455500000077"
    assert comment.url == "https://www.instagram.com/p/DAcmeRoad01/"
    assert (reply.kind, reply.parent_external_id) == ("reply", "17950000000000501")
    assert comment.published_at.timestamp() == 1795434000


def test_a_mentions_delivery_reads_the_comment_and_the_caption_back_from_graph(client, channel, wire, queued):
    serve_mentions(wire)
    body = fixture_bytes("instagram/webhook_mentions.json")
    assert deliver(client, channel, body).status_code == 200
    assert not wire.calls(ACCOUNT)  # answered at once: Graph is read by the task, not the request
    [task] = queued
    assert run(task) == 2
    stored = {m.external_id: m for m in Mention.objects.filter(channel=channel)}
    assert set(stored) == {"17960000000000201", "17880000000000302"}
    assert stored["17960000000000201"].kind == "mention"
    assert stored["17960000000000201"].text == "@acme my order #4412 never arrived, 3 weeks now"
    assert stored["17880000000000302"].url == "https://www.instagram.com/p/DOther00302/"


def test_a_rate_limited_read_back_is_retried_and_stores_the_mention_once(client, channel, wire, queued):
    serve_mentions(wire)
    limited = {
        "Content-Type": "application/json",
        "x-business-use-case-usage": json.dumps({IG: [{"estimated_time_to_regain_access": 1}]}),
    }
    wire.prepend(
        "GET",
        ACCOUNT,
        [(400, limited, fixture_bytes("instagram/error_rate_limit.json"))],
        when={"fields": MENTIONED_MEDIA},
    )
    body = fixture_bytes("instagram/webhook_mentions.json")
    assert deliver(client, channel, body).status_code == 200
    [task] = queued
    # Run eagerly, the task's retry runs at once: the second try finds Graph answering again.
    app.tasks[task.task].apply(args=task.args).get()
    assert len(wire.calls(ACCOUNT)) == 4  # the comment, the caption refused; both again
    assert set(Mention.objects.filter(channel=channel).values_list("external_id", flat=True)) == {
        "17960000000000201",
        "17880000000000302",
    }


@pytest.mark.parametrize("signature", ["", "sha256=deadbeef", None])
def test_an_unsigned_or_forged_delivery_is_refused_and_nothing_queued(client, channel, queued, signature):
    body = fixture_bytes("instagram/webhook_comments.json")
    forged = signed(body, "another-secret") if signature is None else signature
    assert deliver(client, channel, body, forged).status_code == 403
    assert queued == []


def test_a_facebook_page_delivery_on_the_instagram_address_is_a_bad_request(client, channel, queued):
    body = json.dumps({"object": "page", "entry": []}).encode()
    assert deliver(client, channel, body).status_code == 400
    assert queued == []


def test_the_instagram_address_knows_no_facebook_channel(client, db, queued):
    page = ChannelFactory(platform=Platform.FACEBOOK, credentials={"app_secret": SECRET})
    body = fixture_bytes("instagram/webhook_comments.json")
    assert deliver(client, page, body).status_code == 404


def test_comments_are_stored_even_when_the_mentions_beside_them_cannot_be_read_back(client, channel, wire, queued):
    """A token revoked since: the @mention cannot be read (the next poll says reconnect), but the
    comments the same delivery carried in full are not lost with it."""
    wire.add("GET", ACCOUNT, status=400, fixture="instagram/error_190.json")
    comments = json.loads(fixture_bytes("instagram/webhook_comments.json"))
    mentions = json.loads(fixture_bytes("instagram/webhook_mentions.json"))
    comments["entry"][0]["changes"] += mentions["entry"][0]["changes"]
    body = json.dumps(comments).encode()
    assert deliver(client, channel, body).status_code == 200
    [task] = queued
    app.tasks[task.task].apply(args=task.args).get()
    assert set(Mention.objects.filter(channel=channel).values_list("external_id", flat=True)) == {
        "17950000000000501",
        "17950000000000502",
    }
    assert len(wire.calls(ACCOUNT)) == 1  # a revoked token is not asked again and again


def test_a_mention_not_read_back_for_good_is_shown_on_the_channel_and_asks_to_reconnect(
    client, channel, wire, queued, django_user_model
):
    """Instagram does not deliver a mention again once answered 200: one whose read-back is refused
    for good must not be only a log line. The channel lists it and asks for new credentials."""
    wire.add("GET", ACCOUNT, status=400, fixture="instagram/error_190.json")
    assert deliver(client, channel, fixture_bytes("instagram/webhook_mentions.json")).status_code == 200
    [task] = queued
    app.tasks[task.task].apply(args=task.args).get()
    channel.refresh_from_db()
    assert channel.state == channel.State.RECONNECT
    assert "@mention not read back" in channel.last_error and channel.last_error_at is not None
    assert {record["external_id"] for record in channel.rejected_items} == {"17960000000000201", "17880000000000302"}
    assert "PAGE_TOKEN" not in json.dumps(channel.rejected_items) + channel.last_error
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    page = client.get("/channels/").content.decode()
    assert "2 items not stored" in page and "17960000000000201" in page


def test_a_mention_whose_retries_are_used_up_is_shown_on_the_channel_without_stopping_its_polls(
    client, channel, wire, queued
):
    from listening import tasks

    wire.add("GET", ACCOUNT, status=500, fixture="facebook/error_500.json")
    assert deliver(client, channel, fixture_bytes("instagram/webhook_mentions.json")).status_code == 200
    [task] = queued
    next_poll = channel.next_poll_at
    app.tasks[task.task].apply(args=task.args, retries=tasks.WEBHOOK_RETRIES).get()  # the last try
    channel.refresh_from_db()
    assert channel.state == channel.State.OK and channel.next_poll_at == next_poll
    assert "@mention not read back" in channel.last_error
    assert {record["external_id"] for record in channel.rejected_items} == {"17960000000000201", "17880000000000302"}
    assert not Mention.objects.filter(channel=channel).exists()
