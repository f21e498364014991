"""The Facebook Page webhook: handshake, signatures, parsing, and idempotent redelivery."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest

from listening.ingest import IngestResult
from listening.models import Mention, Platform, PrivacyAuditEntry
from tests.factories import ChannelFactory, MentionFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facebook"
PAGE = "104857600000001"
SECRET = "app-s3cret"


@pytest.fixture
def channel(db):
    return ChannelFactory(
        platform=Platform.FACEBOOK,
        settings={"page_id": PAGE, "page_name": "Acme"},
        credentials={"page_access_token": "t", "app_secret": SECRET, "verify_token": "v-token-123"},
    )


@pytest.fixture
def ingested(monkeypatch) -> list[dict]:
    """The delivery's seam: records what its task hands to ``listening.ingest.ingest_items``."""
    calls: list[dict] = []

    def fake_ingest_items(**kwargs):
        calls.append(kwargs)
        return IngestResult(created=[], skipped=0)

    monkeypatch.setattr("listening.webhooks.ingest_items", fake_ingest_items)
    return calls


def url(channel) -> str:
    return f"/hooks/facebook/{channel.pk}/"


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, channel, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(url(channel), data=body, content_type="application/json", **headers)


def test_handshake_echoes_the_challenge_for_the_right_token(client, channel):
    response = client.get(
        url(channel), {"hub.mode": "subscribe", "hub.verify_token": "v-token-123", "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "v-token-123", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_refuses_a_wrong_token(client, channel, params):
    response = client.get(url(channel), params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_signed_delivery_is_parsed_and_ingested(client, channel, ingested):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    response = post(client, channel, body, signed(body))
    assert response.status_code == 200
    [call] = ingested
    assert call["channel"] == channel
    items = {i.external_id: i for i in call["items"]}
    # the Page's own reply and the reaction are not mentions
    assert set(items) == {"2201000000000003_3300000000000010", "2201000000000003_3300000000000011"}
    comment = items["2201000000000003_3300000000000010"]
    assert comment.kind == "comment"
    assert comment.parent_external_id == "104857600000001_2201000000000003"
    assert comment.author.name == "Lucía Fernández"
    assert comment.text == "¿Cómo puedo descargar mi factura? No la encuentro en la web"
    assert comment.published_at.timestamp() == 1795499990
    reply = items["2201000000000003_3300000000000011"]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "2201000000000003_3300000000000001"
    assert reply.text == "Still no refund <b>at all</b>"


def test_visitor_post_delivery(client, channel, ingested):
    body = (FIXTURES / "webhook_post_add.json").read_bytes()
    assert post(client, channel, body, signed(body)).status_code == 200
    [item] = ingested[0]["items"]
    assert (item.external_id, item.kind) == ("100055667788_2201000000000050", "post")


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=deadbeef", "sha1=0123", "signed-with-another-secret"],
)
def test_bad_or_missing_signature_is_refused_and_nothing_stored(client, channel, ingested, signature):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    if signature == "signed-with-another-secret":
        signature = signed(body, "not-the-secret")
    response = post(client, channel, body, signature)
    assert response.status_code == 403
    assert ingested == []
    assert Mention.objects.count() == 0


def test_signature_over_a_different_body_is_refused(client, channel, ingested):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    tampered = body.replace(b"factura", b"FACTURA")
    assert post(client, channel, tampered, signed(body)).status_code == 403
    assert ingested == []


def test_malformed_json_is_a_bad_request(client, channel, ingested):
    body = b'{"object": "page", "entry": [{'
    assert post(client, channel, body, signed(body)).status_code == 400
    assert ingested == []


def test_unknown_or_other_platform_channel_is_404(client, db):
    x_channel = ChannelFactory(platform=Platform.X)
    assert client.get(f"/hooks/facebook/{x_channel.pk}/").status_code == 404
    assert client.get("/hooks/facebook/999999/").status_code == 404


def test_no_login_and_no_csrf_token_needed(channel, ingested):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    body = (FIXTURES / "webhook_post_add.json").read_bytes()
    assert post(csrf_client, channel, body, signed(body)).status_code == 200


def test_redelivery_hands_the_same_platform_ids(client, channel, ingested):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    for _ in range(2):
        assert post(client, channel, body, signed(body)).status_code == 200
    first, second = ([i.external_id for i in call["items"]] for call in ingested)
    assert first == second  # the ingestion dedupes by channel and platform id


def test_redelivery_stores_one_mention_each(client, channel):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    for _ in range(2):
        assert post(client, channel, body, signed(body)).status_code == 200
    assert Mention.objects.filter(channel=channel).count() == 2
    assert set(Mention.objects.values_list("external_id", flat=True)) == {
        "2201000000000003_3300000000000010",
        "2201000000000003_3300000000000011",
    }


@pytest.mark.postgres  # PostgreSQL refuses NUL in text; SQLite stores it
def test_signed_delivery_with_a_nul_answers_200_and_stores_every_comment(client, channel):
    body = (FIXTURES / "webhook_comment_nul.json").read_bytes()
    assert b"\\u0000" in body
    response = post(client, channel, body, signed(body))
    assert response.status_code == 200
    stored = {m.external_id: m for m in Mention.objects.filter(channel=channel).select_related("author")}
    assert set(stored) == {"2201000000000003_3300000000000020", "2201000000000003_3300000000000021"}
    hostile = stored["2201000000000003_3300000000000020"]
    assert hostile.text == "Mi factura sale duplicada\nY nadie responde 😠"
    assert hostile.author.name == "Nuria Gil"


@pytest.mark.parametrize("created_time", [b"1e300", b'"0001-01-01T00:00:00+14:00"'])
def test_a_delivery_with_a_time_out_of_range_is_stored_with_the_time_it_arrived(client, channel, created_time):
    body = (FIXTURES / "webhook_comment_add.json").read_bytes().replace(b"1795499990", created_time)
    response = post(client, channel, body, signed(body))
    assert response.status_code == 200
    assert Mention.objects.filter(channel=channel, external_id="2201000000000003_3300000000000010").exists()


@pytest.fixture
def queued(monkeypatch) -> list:
    """Tasks queued by name, recorded instead of run: what a worker would take from the broker."""
    from celery.canvas import Signature

    signatures: list[Signature] = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *args, **kwargs: signatures.append(self))
    return signatures


def test_a_delivery_is_stored_by_its_own_task_on_the_webhooks_queue_not_by_a_poll(client, team, queued, monkeypatch):
    from django.http import QueryDict

    from config.celery import app
    from listening.selectors import MentionFilters
    from responses.selectors import inbox_new_count, inbox_page

    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.FACEBOOK,
        settings={"page_id": PAGE, "page_name": "Acme"},
        credentials={"page_access_token": "t", "app_secret": SECRET, "verify_token": "v"},
    )
    # The newest row shown before the delivery: older than the delivered comments.
    MentionFactory(brand=team.brand, channel=channel, published_at=datetime(2026, 1, 1, tzinfo=UTC))
    filters = MentionFilters.from_params(QueryDict())
    top = inbox_page(user=team.cm, filters=filters).top_cursor
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()

    assert post(client, channel, body, signed(body)).status_code == 200
    # Answered at once; the delivery waits for no poll, and for no ingestion inside the request.
    [task] = queued
    assert task.task == "listening.ingest_webhook"
    assert app.amqp.router.route({}, task.task)["queue"].name == "webhooks"
    assert Mention.objects.filter(channel=channel).count() == 1

    def no_poll(*args, **kwargs):
        raise AssertionError("a webhook delivery must not wait for a poll")

    monkeypatch.setattr("listening.connectors.facebook.FacebookConnector.fetch", no_poll)
    assert app.tasks[task.task](*task.args, **task.kwargs) == 2
    stored = set(Mention.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert {"2201000000000003_3300000000000010", "2201000000000003_3300000000000011"} <= stored
    # The inbox's "N new" counter sees both on its next refresh.
    assert inbox_new_count(user=team.cm, filters=filters, top=top) == 2


def test_a_delivery_the_broker_cannot_take_is_refused_so_facebook_sends_it_again(client, channel, monkeypatch):
    from celery.canvas import Signature
    from kombu.exceptions import OperationalError

    def broker_down(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Signature, "apply_async", broker_down)
    body = (FIXTURES / "webhook_comment_add.json").read_bytes()
    response = post(client, channel, body, signed(body))
    assert response.status_code == 503
    assert Mention.objects.count() == 0


def test_a_remove_delivery_erases_the_comment_it_names(client, channel):
    removed = MentionFactory(channel=channel, external_id="2201000000000003_3300000000000010", text="¿Mi factura?")
    other = MentionFactory(channel=channel, external_id="104857600000001_2201000000000003", text="A post")
    body = (FIXTURES / "webhook_comment_remove.json").read_bytes()
    assert post(client, channel, body, signed(body)).status_code == 200
    removed.refresh_from_db()
    assert removed.erased_reason == "platform" and removed.text == "" and removed.author.is_anonymous
    assert removed.status == Mention.Status.CLOSED
    other.refresh_from_db()  # the reaction taken back from the post removes nothing
    assert other.erased_at is None and other.text == "A post"
    # Facebook delivers again: nothing more happens.
    assert post(client, channel, body, signed(body)).status_code == 200
    assert PrivacyAuditEntry.objects.filter(action="platform_deletion").count() == 1


def test_an_unsigned_remove_delivery_erases_nothing(client, channel):
    kept = MentionFactory(channel=channel, external_id="2201000000000003_3300000000000010")
    body = (FIXTURES / "webhook_comment_remove.json").read_bytes()
    assert post(client, channel, body, signed(body, "wrong")).status_code == 403
    kept.refresh_from_db()
    assert kept.erased_at is None
