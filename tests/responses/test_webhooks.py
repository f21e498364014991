"""Outgoing webhooks: signed deliveries to a local receiver, retried after a 500, recorded, re-sendable,
sent once, refused where the outbound policy refuses, and announced by the changes they describe."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation
from requests.structures import CaseInsensitiveDict

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Platform
from responses import webhooks
from responses.models import Reply, Ticket, WebhookDelivery, WebhookEndpoint, WebhookEvent
from responses.replies import reply_create
from responses.tasks import deliver_webhook, sweep_webhook_deliveries
from responses.tickets import ticket_flag_breaches, ticket_open, ticket_transition
from responses.webhooks import (
    webhook_delivery_resend,
    webhook_delivery_send,
    webhook_endpoint_create,
    webhook_endpoint_update,
)
from tests.factories import ChannelFactory, DepartmentFactory, MentionFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "a-shared-secret-of-32-characters!"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def signature_ok():
    """The verification function the README gives receivers, exactly as written there."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (code,) = [block for block in blocks if "def escucha_signature_ok" in block]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the README's own example, run as a receiver would
    return namespace["escucha_signature_ok"]


def endpoint_for(brand, receiver, events=(WebhookEvent.TICKET_OPENED,), **extra) -> WebhookEndpoint:
    return webhook_endpoint_create(
        brand=brand, url=f"{receiver.url}/hooks/escucha", secret=SECRET, events=events, **extra
    )


def open_ticket(team, department=None):
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="Charged twice for one order")
    ticket, _ = ticket_open(mention=mention, department=department or team.billing)
    return ticket


# --- The "done when": signed, retried after a 500, delivered once -------------------------------
def test_a_delivery_is_signed_and_retried_after_a_500_until_the_receiver_takes_it(
    team, receiver, signature_ok, django_capture_on_commit_callbacks
):
    receiver.answers = [(500, "database is down"), (200, "thanks")]
    endpoint_for(team.brand, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(team)

    first, second = receiver.received
    for request in (first, second):
        assert request.path == "/hooks/escucha"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-escucha-event"] == "ticket.opened"
        assert signature_ok(SECRET, request.headers, request.body)
        assert not signature_ok("another secret entirely", request.headers, request.body)
    assert first.body == second.body
    assert first.headers["x-escucha-event-id"] == second.headers["x-escucha-event-id"]

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.error) == ("delivered", 2, 200, "")
    assert [(a.number, a.status_code, a.response_excerpt) for a in delivery.attempt_log.all()] == [
        (1, 500, "database is down"),
        (2, 200, "thanks"),
    ]
    assert "answered 500" in delivery.attempt_log.first().error

    body = first.json()
    assert body["version"] == 1 and body["event"] == "ticket.opened"
    assert body["id"] == first.headers["x-escucha-event-id"] == str(delivery.event_id)
    assert body["brand"] == {"id": team.brand.pk, "slug": "acme", "name": "Acme"}
    assert body["ticket"]["id"] == ticket.pk
    assert body["ticket"]["department"] == {"id": team.billing.pk, "name": "Billing"}
    assert body["ticket"]["url"].endswith(f"/tickets/{ticket.pk}/")
    assert SECRET not in first.body.decode()


def test_a_signature_does_not_survive_a_changed_body_or_a_new_timestamp(team, receiver, signature_ok):
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
    (request,) = receiver.received
    assert signature_ok(SECRET, request.headers, request.body)
    assert not signature_ok(SECRET, request.headers, request.body.replace(b"Billing", b"Legal"))
    replayed = CaseInsensitiveDict(request.headers)
    replayed["X-Escucha-Timestamp"] = str(int(request.headers["x-escucha-timestamp"]) + 600)
    assert not signature_ok(SECRET, replayed, request.body)


def test_an_old_request_is_refused_by_the_readme_check(team, receiver, signature_ok):
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    old = str(int(timezone.now().timestamp()) - 3600)
    headers = {"X-Escucha-Timestamp": old, "X-Escucha-Signature-256": webhooks.signature(SECRET, old, b"{}")}
    assert not signature_ok(SECRET, headers, b"{}")  # signed correctly, but an hour ago: a replay
    assert delivery.status == "pending"


def test_a_delivered_event_is_never_sent_twice(team, receiver):
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    assert deliver_webhook(delivery.pk) == "delivered"
    assert deliver_webhook(delivery.pk) == "skipped"  # the broker delivered the message again
    assert webhook_delivery_send(delivery_id=delivery.pk).outcome == "skipped"
    assert len(receiver.received) == 1


def test_a_delivery_another_worker_is_sending_is_left_alone(team, receiver):
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    WebhookDelivery.objects.update(status="sending", attempts=1, claimed_at=timezone.now())
    assert webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk).outcome == "skipped"
    assert receiver.received == []


# --- Failures ------------------------------------------------------------------------------------
def test_a_4xx_fails_at_once_with_the_answer_recorded(team, receiver, django_capture_on_commit_callbacks):
    receiver.answers = [(404, '{"error": "no such hook"}')]
    endpoint_for(team.brand, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 404)
    assert delivery.error == f"127.0.0.1:{receiver.url.rsplit(':', 1)[1]} answered 404."
    assert delivery.attempt_log.get().response_excerpt == '{"error": "no such hook"}'
    assert len(receiver.received) == 1


def test_a_429_waits_as_long_as_the_receiver_asks(team, receiver):
    receiver.answers = [(429, "slow down", {"Retry-After": "120"})]
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    outcome = webhook_delivery_send(delivery_id=delivery.pk)
    assert (outcome.outcome, outcome.retry_in) == ("retry", 120)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.error.startswith("Retrying: ")


def test_a_receiver_that_keeps_failing_is_given_up_on_after_the_attempt_limit(
    team, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [(503, "maintenance")]
    endpoint_for(team.brand, receiver)
    with django_capture_on_commit_callbacks(execute=True):  # eager: each retry runs at once
        open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert delivery.error.startswith(f"Gave up after {webhooks.MAX_ATTEMPTS} attempts")
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS == delivery.attempt_log.count()


def test_a_redirect_is_not_followed(team, receiver):
    receiver.answers = [(302, "", {"Location": "http://169.254.169.254/latest/meta-data/"})]
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    assert webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk).outcome == "failed"
    assert "answered with a redirect" in WebhookDelivery.objects.get().error
    assert len(receiver.received) == 1


def test_a_private_address_is_refused_before_any_request_and_the_reason_recorded(team, receiver, settings):
    endpoint = endpoint_for(team.brand, receiver)
    settings.PRIVATE_NETWORK_ALLOWLIST = []  # the allowlist changed since the endpoint was saved
    open_ticket(team)
    assert webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk).outcome == "failed"
    delivery = WebhookDelivery.objects.get()
    port = endpoint.url.split(":")[2].split("/")[0]
    assert delivery.error == (
        f"127.0.0.1:{port} is on a private network; Escucha connects there only when the "
        "PRIVATE_NETWORK_ALLOWLIST setting lists it."
    )
    assert delivery.attempt_log.get().status_code is None
    assert receiver.received == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.1.2.3:8080/hook", "10.1.2.3:8080 is on a private network"),
        ("https://169.254.169.254/latest/", "is a cloud metadata address"),
        ("http://hooks.example.com/in", "Use https://"),
        ("ftp://hooks.example.com/in", "Enter an http:// or https:// URL."),
        ("https://user:pw@hooks.example.com/in", "Put no user name or password in the URL"),
    ],
)
def test_an_endpoint_the_policy_would_refuse_is_refused_when_saved(team, url, message):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(brand=team.brand, url=url, secret=SECRET, events=["ticket.opened"])
    assert message in refused.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_a_secret_and_known_events_and_keeps_its_secret_when_left_blank(team, receiver):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(brand=team.brand, url=receiver.url, secret="", events=["ticket.nope"])
    assert set(refused.value.message_dict) == {"secret", "events"}
    endpoint = endpoint_for(team.brand, receiver)
    webhook_endpoint_update(endpoint=endpoint, secret="", events=["reply.sent", "ticket.opened"])
    endpoint.refresh_from_db()
    assert endpoint.secret == SECRET
    assert endpoint.events == ["ticket.opened", "reply.sent"]


def test_the_secret_is_encrypted_at_rest(team, receiver):
    endpoint = endpoint_for(team.brand, receiver)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM responses_webhookendpoint WHERE id = %s", [endpoint.pk])
        (stored,) = cursor.fetchone()
    assert SECRET not in stored and stored


def test_a_switched_off_endpoint_gets_nothing_new_and_its_pending_deliveries_fail_with_the_reason(team, receiver):
    endpoint = endpoint_for(team.brand, receiver)
    open_ticket(team)
    endpoint.is_active = False
    endpoint.save()
    open_ticket(team, department=team.support)
    delivery = WebhookDelivery.objects.get()  # only the first ticket's
    assert webhook_delivery_send(delivery_id=delivery.pk).outcome == "failed"
    assert "switched off" in WebhookDelivery.objects.get().error
    assert receiver.received == []


# --- Re-sending, and deliveries whose task was lost ----------------------------------------------------
def test_a_finished_delivery_can_be_sent_again_as_the_same_event(team, receiver):
    endpoint_for(team.brand, receiver)
    open_ticket(team)
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    again = webhook_delivery_resend(delivery=delivery)
    assert (again.status, again.event_id, again.body, again.resent_from) == (
        "pending",
        delivery.event_id,
        delivery.body,
        delivery,
    )
    assert webhook_delivery_send(delivery_id=again.pk).outcome == "delivered"
    first, second = receiver.received
    assert first.headers["x-escucha-event-id"] == second.headers["x-escucha-event-id"]
    assert first.headers["x-escucha-delivery"] != second.headers["x-escucha-delivery"]
    with pytest.raises(ValidationError):
        webhook_delivery_resend(delivery=WebhookDelivery(status="pending"))


def test_the_sweep_sends_again_interrupted_and_lost_deliveries_but_not_fresh_ones(
    team, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(team.brand, receiver, events=["ticket.opened"])
    for department in (team.billing, team.support):
        open_ticket(team, department=department)
    open_ticket(team, department=DepartmentFactory(brand=team.brand, name="Legal"))
    interrupted, lost, fresh = WebhookDelivery.objects.order_by("pk")
    long_ago = timezone.now() - timedelta(seconds=webhooks.LOST_SECONDS + 60)
    WebhookDelivery.objects.filter(pk=interrupted.pk).update(status="sending", attempts=1, claimed_at=long_ago)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_webhook_deliveries() == (1, 1)
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {interrupted.pk: "delivered", lost.pk: "delivered", fresh.pk: "pending"}
    assert len(receiver.received) == 2


# --- Which changes announce which events -------------------------------------------------------------------
def events_received(receiver) -> list[str]:
    return [request.json()["event"] for request in receiver.received]


def test_nothing_is_announced_when_the_change_rolls_back(team, receiver, django_capture_on_commit_callbacks):
    endpoint_for(team.brand, receiver)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            open_ticket(team)
            raise RuntimeError("the request failed after opening the ticket")
    assert not Ticket.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_only_subscribed_active_endpoints_of_the_brand_hear_an_event(
    team, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(team.brand, receiver, events=["ticket.opened"], description="ours")
    endpoint_for(team.brand, receiver, events=["reply.sent"], description="replies only")
    endpoint_for(team.brand, receiver, events=["ticket.opened"], is_active=False, description="off")
    endpoint_for(team.other_brand, receiver, events=["ticket.opened"], description="another brand")
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team)
    assert list(WebhookDelivery.objects.values_list("endpoint__description", flat=True)) == ["ours"]
    assert events_received(receiver) == ["ticket.opened"]


def item(external_id: str, text: str) -> FetchedItem:
    return FetchedItem(
        external_id=external_id,
        text=text,
        author=FetchedAuthor(external_id="a1", handle="angry_ana", name="Ana", followers=12),
        published_at=timezone.now(),
        url=f"https://x.com/angry_ana/status/{external_id}",
    )


def test_a_new_mention_is_announced_after_routing_with_what_routing_did(
    team, receiver, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(
        brand=team.brand, platform=Platform.X, settings={"user_id": "1"}, credentials={"bearer_token": "tok-123456"}
    )
    rule = RoutingRuleFactory(
        brand=team.brand,
        name="Refunds to billing",
        conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
        actions=[{"type": "ticket", "department": team.billing.pk, "priority": "high"}],
    )
    endpoint_for(team.brand, receiver, events=["mention.created", "mention.routed", "ticket.opened"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_items(channel=channel, items=[item("1", "I want a refund now"), item("2", "Nice anvils")])
    assert sorted(events_received(receiver)) == [
        "mention.created",
        "mention.created",
        "mention.routed",
        "ticket.opened",
    ]
    routed = next(r.json() for r in receiver.received if r.json()["event"] == "mention.routed")
    ticket = Ticket.objects.get()
    assert routed["rules"] == [{"id": rule.pk, "name": "Refunds to billing"}]
    assert [t["id"] for t in routed["tickets"]] == [ticket.pk]
    mention = routed["mention"]
    assert mention["status"] == "routed" and mention["text"] == "I want a refund now"
    assert mention["author"]["handle"] == "angry_ana"
    assert mention["external_url"] == "https://x.com/angry_ana/status/1"
    assert mention["platform"] == "x" and mention["channel"]["id"] == channel.pk
    assert all("tok-123456" not in r.body.decode() for r in receiver.received)


def test_resolution_and_a_missed_deadline_are_announced(team, receiver, django_capture_on_commit_callbacks):
    endpoint_for(team.brand, receiver, events=["ticket.resolved", "ticket.breached"])
    ticket = open_ticket(team)
    Ticket.objects.filter(pk=ticket.pk).update(acknowledge_due_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert ticket_flag_breaches() == 1
        ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
        ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="Refunded")
    breached, resolved = (request.json() for request in receiver.received)
    assert breached["event"] == "ticket.breached" and breached["deadline"] == "acknowledge"
    assert breached["ticket"]["acknowledge_breached_at"] is not None
    assert resolved["event"] == "ticket.resolved"
    assert resolved["ticket"]["status"] == "resolved" and resolved["ticket"]["resolution"] == "Refunded"


def test_a_ticket_taken_back_by_undo_is_announced_as_withdrawn(
    client, team, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(team.brand, receiver, events=["ticket.opened", "ticket.withdrawn"])
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="Charged twice for one order")
    client.force_login(team.cm)
    htmx = {"HX-Request": "true", "HX-Target": "bulk-result"}
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(
            "/inbox/bulk/", {"ids": [mention.pk], "action": "department", "department": team.billing.pk}, headers=htmx
        ).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/inbox/undo/", {"token": token}, headers=htmx)
    opened, withdrawn = (request.json() for request in receiver.received)
    assert opened["event"] == "ticket.opened"
    assert withdrawn["event"] == "ticket.withdrawn"
    assert withdrawn["ticket"]["id"] == opened["ticket"]["id"]
    assert withdrawn["ticket"]["status"] == "closed"
    assert receiver.received[1].headers["x-escucha-event"] == "ticket.withdrawn"


X_CREDENTIALS = {
    "bearer_token": "b-123456789",
    "consumer_key": "ck-123456789",
    "consumer_secret": "cs-123456789",
    "access_token": "at-123456789",
    "access_token_secret": "ats-123456789",
}


@pytest.fixture
def x_mention(team, wire):
    channel = ChannelFactory(brand=team.brand, platform=Platform.X, api_base_url=wire.url, credentials=X_CREDENTIALS)
    return MentionFactory(channel=channel, external_id="1861234567890123460", text="My order never came")


def test_a_sent_and_a_failed_reply_are_announced(team, wire, receiver, x_mention, django_capture_on_commit_callbacks):
    wire.add("POST", "/2/tweets", fixture="x/create_tweet.json", status=201)
    wire.add("POST", "/2/tweets", fixture="x/error_401.json", status=401)
    endpoint_for(team.brand, receiver, events=["reply.sent", "reply.failed"])
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply_create(mention=x_mention, author=team.cm, text="Sorry! Please DM us.")
        failed = reply_create(mention=x_mention, author=team.cm, text="Second try")
    assert Reply.objects.get(pk=failed.pk).status == "failed"
    first, second = (request.json() for request in receiver.received)
    assert (first["event"], first["reply"]["id"], first["reply"]["status"]) == ("reply.sent", sent.pk, "sent")
    assert first["reply"]["external_id"] == "1861234567890199999"
    assert (second["event"], second["reply"]["id"], second["reply"]["status"]) == ("reply.failed", failed.pk, "failed")
    assert second["reply"]["error"]
    for request in receiver.received:
        assert not any(secret in request.body.decode() for secret in X_CREDENTIALS.values())


# --- The admin --------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_an_admin_registers_an_endpoint_and_never_sees_its_secret_again(team, receiver, admin_client):
    page = admin_client.post(
        "/admin/responses/webhookendpoint/add/",
        {
            "brand": team.brand.pk,
            "url": f"{receiver.url}/in",
            "description": "CRM",
            "events": ["ticket.opened", "reply.failed"],
            "is_active": "on",
            "new_secret": SECRET,
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 302, page.content.decode()[:3000]
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.events) == (SECRET, ["ticket.opened", "reply.failed"])
    change = admin_client.get(f"/admin/responses/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert SECRET not in change and "Stored. Leave blank to keep it." in change

    edited = admin_client.post(
        f"/admin/responses/webhookendpoint/{endpoint.pk}/change/",
        {
            "brand": team.brand.pk,
            "url": f"{receiver.url}/in",
            "description": "CRM",
            "events": ["ticket.resolved"],
            "new_secret": "",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert edited.status_code == 302, edited.content.decode()[:3000]
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.events, endpoint.is_active) == (SECRET, ["ticket.resolved"], False)


def test_the_admin_refuses_a_private_endpoint_naming_the_setting(team, admin_client):
    page = admin_client.post(
        "/admin/responses/webhookendpoint/add/",
        {
            "brand": team.brand.pk,
            "url": "http://192.168.1.20:9000/in",
            "events": ["ticket.opened"],
            "new_secret": SECRET,
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert "PRIVATE_NETWORK_ALLOWLIST" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_sends_a_delivery_again_and_pings_an_endpoint(
    team, receiver, admin_client, signature_ok, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(team.brand, receiver)
    receiver.answers = [(410, "gone"), (200, "ok")]
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team)
    failed = WebhookDelivery.objects.get()
    assert failed.status == "failed"
    page = admin_client.get(f"/admin/responses/webhookdelivery/{failed.pk}/change/").content.decode()
    assert "gone" in page and "410" in page  # the attempt, with the start of the answer
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/responses/webhookdelivery/", {"action": "resend", "_selected_action": [failed.pk]})
        admin_client.post(
            "/admin/responses/webhookendpoint/", {"action": "send_ping", "_selected_action": [endpoint.pk]}
        )
    resent = WebhookDelivery.objects.get(resent_from=failed)
    assert resent.status == "delivered"
    ping = WebhookDelivery.objects.get(event="ping")
    assert ping.status == "delivered"
    assert [json.loads(r.body)["event"] for r in receiver.received] == ["ticket.opened", "ticket.opened", "ping"]
    assert all(signature_ok(SECRET, r.headers, r.body) for r in receiver.received)


def test_the_admin_role_may_manage_webhooks(team):
    from config.roles import ADMIN

    admin = UserFactory(username="ada", is_staff=True, roles=[ADMIN])
    client = Client()
    client.force_login(admin)
    for page in ("webhookendpoint/", "webhookendpoint/add/", "webhookdelivery/"):
        assert client.get(f"/admin/responses/{page}").status_code == 200, page


def test_a_batch_of_events_is_sent_in_a_few_messages_each_delivery_once(
    team, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    from config.celery import app

    queued: list[str] = []
    signature = app.signature
    monkeypatch.setattr(app, "signature", lambda name, *a, **k: queued.append(name) or signature(name, *a, **k))
    receiver.answers = [(500, "database is down")] + [(200, "thanks")] * 40
    endpoint_for(team.brand, receiver)
    mentions = [MentionFactory(channel=ChannelFactory(brand=team.brand)) for _ in range(30)]
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.webhook_events([(WebhookEvent.TICKET_OPENED, team.brand, {"n": m.pk}) for m in mentions])

    assert queued == ["responses.deliver_webhooks"] * 2  # 25 deliveries a message at most
    # The one the receiver refused was retried on its own; every delivery reached it once.
    assert WebhookDelivery.objects.filter(status="delivered").count() == 30
    assert len(receiver.received) == 31
    assert len({r.headers["x-escucha-event-id"] for r in receiver.received}) == 30
