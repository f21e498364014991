"""Outgoing webhooks, and the delivery of everything Escucha posts to another server: webhook
events, and a department's Slack and Teams messages (``responses.chat``).

An admin registers a ``WebhookEndpoint`` for a brand: a URL, a secret and the events it wants.
When one of them happens, ``webhook_event`` writes a ``WebhookDelivery`` per matching endpoint in
the transaction of the change that caused it, and queues its task after commit: a change that
rolls back announces nothing, and a worker never looks for a row that is not there yet.

``webhook_delivery_send`` (the ``responses.deliver_webhook`` task) claims the row with a
conditional UPDATE (pending → sending) before the request, so a redelivered task or two workers
send it once, and a delivered row is never sent again on its own. Every request goes through the
outbound policy of ``listening.connectors._http`` (public addresses only unless
``PRIVATE_NETWORK_ALLOWLIST`` lists them, no redirects, time and size limits). 5xx, 408, 425, 429
and network failures are retried with backoff; any other answer that is not 2xx fails the delivery
at once. Each attempt is recorded with its status code and the start of the answer. A person can
send a finished delivery again from the admin (``webhook_delivery_resend``): a new row with the
same event id, so receivers that already have it can tell.

The payload of an event is small and versioned (``PAYLOAD_VERSION``): the event, its id, when it
happened, the brand and the public fields of the object, never a credential. It is signed with
HMAC-SHA256 over ``<timestamp>.<body>`` (README: "Outgoing webhooks, Slack and Teams").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from urllib3.exceptions import NameResolutionError

from config.backoff import backoff_seconds
from config.celery import batched, queue_after_commit, queue_all_after_commit
from config.env import host_port
from config.links import reverse_id
from listening.configuration import brand_configurations
from listening.connectors import ConnectorError, OutboundRefused, destination_refusal
from listening.connectors._http import http_timeout, mount_outbound
from listening.models import Brand, Mention
from responses.models import Reply, Ticket, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
SIGNATURE_HEADER = "X-Escucha-Signature-256"
TIMESTAMP_HEADER = "X-Escucha-Timestamp"
EVENT_HEADER = "X-Escucha-Event"
EVENT_ID_HEADER = "X-Escucha-Event-Id"
DELIVERY_HEADER = "X-Escucha-Delivery"
USER_AGENT = f"Escucha-Webhooks/{PAYLOAD_VERSION}"

# Attempts per delivery: 30 s doubling up to an hour between them, two to three hours in all.
MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# Longer than the delivery task's hard time limit: a row "sending" for this long has no worker left.
SENDING_STALE_SECONDS = 5 * 60
# A pending row this far past its due time lost its task message (the broker's data was lost).
LOST_SECONDS = 15 * 60
EXCERPT_CHARACTERS = 500  # of each answer, kept with the attempt
TEXT_LIMIT = 2000  # of a mention's or a reply's text in a payload; the API has the whole text
# Answers that say "later" rather than "never": timeouts, too early, too many requests, server errors.
RETRYABLE_STATUS = frozenset({408, 425, 429})

HIDDEN = "[hidden]"


# --- Where a post may go ----------------------------------------------------------------------------
def outbound_url_error(url: str) -> str:
    """What is wrong with ``url`` as the destination of a webhook or a Slack/Teams post; "" if nothing.

    https only, except for a ``host:port`` that ``PRIVATE_NETWORK_ALLOWLIST`` lists (a receiver on
    the operator's own network); an address the outbound policy would refuse is refused now.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return _("Enter a valid URL.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return _("Enter an http:// or https:// URL.")
    if parts.username or parts.password:
        return _("Put no user name or password in the URL: a webhook is authenticated by its signature.")
    refusal = destination_refusal(url)
    if refusal:
        return refusal
    if scheme == "http" and host_port(url) not in {entry.lower() for entry in settings.PRIVATE_NETWORK_ALLOWLIST}:
        return _("Use https://: over http:// what is posted, and a bearer URL itself, travel in clear.")
    return ""


def mask_url(url: str) -> str:
    """A bearer URL as it may be shown again: scheme and host, and the last four characters."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


# --- Endpoints -----------------------------------------------------------------------------------
PING = "ping"  # the test event an admin sends to a new endpoint; always delivered, never subscribed to


def webhook_endpoint_clean(*, url: str, events: Iterable[str], secret: str, creating: bool) -> list[str]:
    """The events in a stable order, or a ValidationError by field (``url``, ``events``, ``secret``)."""
    errors: dict[str, str] = {}
    problem = outbound_url_error(url)
    if problem:
        errors["url"] = problem
    chosen = list(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in WebhookEvent.values]
    if unknown:
        errors["events"] = _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}
    elif not chosen:
        errors["events"] = _("Choose at least one event.")
    if creating and not secret:
        errors["secret"] = _("A webhook needs a secret: its receiver checks every signature with it.")
    elif secret and len(secret) < 16:
        errors["secret"] = _("Use a secret of at least 16 characters.")
    if errors:
        raise ValidationError(errors)
    return [event for event in WebhookEvent.values if event in chosen]


@transaction.atomic
def webhook_endpoint_create(
    *, brand: Brand, url: str, secret: str, events: Iterable[str], is_active: bool = True, description: str = ""
) -> WebhookEndpoint:
    """Register a URL for ``brand``'s ``events``; deliveries are signed with ``secret``."""
    chosen = webhook_endpoint_clean(url=url, events=events, secret=secret, creating=True)
    return WebhookEndpoint.objects.create(
        brand=brand, url=url, secret=secret, events=chosen, is_active=is_active, description=description
    )


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, secret: str = "", **fields: Any) -> WebhookEndpoint:
    """Change an endpoint; a blank ``secret`` keeps the stored one (it is never shown to be sent back)."""
    url = fields.get("url", endpoint.url)
    events = fields.get("events", endpoint.events)
    fields["events"] = webhook_endpoint_clean(url=url, events=events, secret=secret, creating=False)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    if secret:
        endpoint.secret = secret
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send ``endpoint`` a ``ping`` event, to check its address and its signature check."""
    now = timezone.now()
    event_id = uuid.uuid4()
    body = payload(
        event=PING,
        event_id=event_id,
        occurred_at=now,
        brand=endpoint.brand,
        data={"endpoint": {"id": endpoint.pk, "events": list(endpoint.events)}},
    )
    (delivery,) = deliveries_queue(
        [
            WebhookDelivery(
                brand_id=endpoint.brand_id,
                target=WebhookDelivery.Target.ENDPOINT,
                endpoint=endpoint,
                event=PING,
                event_id=event_id,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
        ]
    )
    return delivery


# --- What an event says ----------------------------------------------------------------------------
def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def brand_data(brand: Brand) -> dict[str, Any]:
    return {"id": brand.pk, "slug": brand.slug, "name": brand.name}


def mention_data(mention: Mention) -> dict[str, Any]:
    """A mention's public fields: what its author published, and what Escucha made of it."""
    author = mention.author
    return {
        "id": mention.pk,
        "url": _absolute(reverse_id("responses:mention_detail", mention.pk)),
        "platform": mention.channel.platform,
        "channel": {"id": mention.channel_id, "name": mention.channel.name},
        "external_id": mention.external_id,
        "external_url": mention.url,
        "kind": mention.kind,
        "title": mention.title,
        "text": mention.text[:TEXT_LIMIT],
        "language": mention.language,
        "sentiment": mention.sentiment,
        "status": mention.status,
        "tags": list(mention.tags or []),
        "author": {
            "handle": author.handle,
            "name": author.name,
            "profile_url": author.profile_url,
            "followers": author.followers,
            "verified": author.verified,
        },
        "published_at": _when(mention.published_at),
        "stored_at": _when(mention.fetched_at),
    }


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "url": _absolute(reverse_id("responses:ticket_detail", ticket.pk)),
        "mention_id": ticket.mention_id,
        "department": {"id": ticket.department_id, "name": ticket.department.name},
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "resolution": ticket.resolution,
        "opened_at": _when(ticket.created_at),
        "acknowledge_due_at": _when(ticket.acknowledge_due_at),
        "resolve_due_at": _when(ticket.resolve_due_at),
        "acknowledged_at": _when(ticket.acknowledged_at),
        "resolved_at": _when(ticket.resolved_at),
        "acknowledge_breached_at": _when(ticket.acknowledge_breached_at),
        "resolve_breached_at": _when(ticket.resolve_breached_at),
    }


def reply_data(reply: Reply) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "mention_id": reply.mention_id,
        "ticket_id": reply.ticket_id,
        "status": reply.status,
        "text": reply.text[:TEXT_LIMIT],
        "external_id": reply.external_id,
        "external_url": reply.external_url,
        "attempts": reply.attempts,
        "error": reply.error,
        "created_at": _when(reply.created_at),
        "sent_at": _when(reply.sent_at),
    }


def payload(*, event: str, event_id: uuid.UUID, occurred_at: datetime, brand: Brand, data: Mapping[str, Any]) -> str:
    """The body sent, exactly: JSON in ASCII (escapes travel through any proxy and any column)."""
    envelope = {
        "version": PAYLOAD_VERSION,
        "event": event,
        "id": str(event_id),
        "occurred_at": _when(occurred_at),
        "brand": brand_data(brand),
        **data,
    }
    return json.dumps(envelope, separators=(",", ":"))


# --- Events become deliveries --------------------------------------------------------------------
def endpoints_by_brand(brand_ids: Iterable[int]) -> dict[int, list[WebhookEndpoint]]:
    """The brands' active endpoints: read once for a page of new mentions, which routing (its
    tickets' ``ticket.opened``) and ``mentions_announce`` both announce."""
    # Kept by a worker until the brand's configuration changes (``listening.configuration``).
    kept = brand_configurations(brand_ids, "webhook endpoints", _active_endpoints)
    return {brand_id: list(endpoints) for brand_id, endpoints in kept.items() if endpoints}


def _active_endpoints(brand_ids: set[int]) -> dict[int, tuple[WebhookEndpoint, ...]]:
    found: dict[int, list[WebhookEndpoint]] = {brand_id: [] for brand_id in brand_ids}
    # Each brand's in the model's order (by URL): only each brand's own list is kept, so the brands
    # need not be joined in to sort them.
    endpoints = WebhookEndpoint.objects.filter(brand_id__in=brand_ids, is_active=True)
    for endpoint in endpoints.order_by("brand_id", "url", "id").only("id", "brand_id", "events"):
        found[endpoint.brand_id].append(endpoint)
    return {brand_id: tuple(endpoints) for brand_id, endpoints in found.items()}


# An event's data, or a function that builds it: called only when an endpoint wants the event, so
# a page of tickets opened for a brand without webhooks builds none of their payloads.
EventData = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


def _rows(event: str, brand: Brand, data: EventData, endpoints: Sequence[WebhookEndpoint]) -> list[WebhookDelivery]:
    wanted = [endpoint for endpoint in endpoints if event in (endpoint.events or [])]
    if not wanted:
        return []
    event_id, now = uuid.uuid4(), timezone.now()
    data = data() if callable(data) else data
    body = payload(event=event, event_id=event_id, occurred_at=now, brand=brand, data=data)
    return [
        WebhookDelivery(
            brand=brand,
            target=WebhookDelivery.Target.ENDPOINT,
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in wanted
    ]


def deliveries_queue(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Store new deliveries and queue them after the surrounding transaction commits (a few task
    messages for a page's, ``config.celery.batched``)."""
    created = WebhookDelivery.objects.bulk_create(rows)  # PostgreSQL and SQLite ≥ 3.35 return the ids
    calls = [{"delivery_id": delivery.pk} for delivery in created]
    queue_all_after_commit(batched("responses.deliver_webhook", "responses.deliver_webhooks", calls))
    return created


def webhook_event(*, event: str, brand: Brand, data: Mapping[str, Any]) -> list[WebhookDelivery]:
    """Announce ``event`` to ``brand``'s active endpoints that subscribed to it.

    Call it inside the transaction of the change it announces: the deliveries are written with
    it and sent only once it commits.
    """
    return webhook_events([(event, brand, data)])


def webhook_events(
    events: Sequence[tuple[str, Brand, EventData]], *, endpoints: Mapping[int, list[WebhookEndpoint]] | None = None
) -> list[WebhookDelivery]:
    """``webhook_event`` for many (event, brand, data) at once: the endpoints read once (or given,
    ``endpoints_by_brand``), the deliveries written in one INSERT, in the order given."""
    if not events:  # routing a page before storing it announces its tickets later
        return []
    if endpoints is None:
        endpoints = endpoints_by_brand(brand.pk for _event, brand, _data in events)
    rows: list[WebhookDelivery] = []
    for event, brand, data in events:
        rows += _rows(event, brand, data, endpoints.get(brand.pk, []))
    return deliveries_queue(rows)


def mentions_announce(
    mentions: Sequence[Mention], *, endpoints: Mapping[int, list[WebhookEndpoint]] | None = None
) -> None:
    """After routing: ``mention.created`` for every new mention, and ``mention.routed`` for each
    one a routing rule acted on (a ticket, an assignment, a tag…). ``endpoints``: the brands'
    (``endpoints_by_brand``), when the caller read them already."""
    if endpoints is None:
        endpoints = endpoints_by_brand(m.brand_id for m in mentions)
    mentions = [m for m in mentions if m.brand_id in endpoints]
    if not mentions:
        return
    prefetch_related_objects(mentions, "author", "channel", "brand")
    acted = {m.pk: [entry for entry in m.routing_log or [] if entry.get("did")] for m in mentions}
    tickets: dict[int, list[Ticket]] = {}
    routed_ids = [pk for pk, entries in acted.items() if entries]
    for ticket in Ticket.objects.filter(mention_id__in=routed_ids).select_related("department").order_by("pk"):
        tickets.setdefault(ticket.mention_id, []).append(ticket)
    rows: list[WebhookDelivery] = []
    for mention in mentions:
        brand_endpoints = endpoints[mention.brand_id]
        data = {"mention": mention_data(mention)}
        rows += _rows(WebhookEvent.MENTION_CREATED, mention.brand, data, brand_endpoints)
        if acted[mention.pk]:
            rules = [{"id": e["rule"], "name": e.get("name", "")} for e in acted[mention.pk] if "rule" in e]
            routed = {
                **data,
                "rules": rules,
                "tickets": [ticket_data(ticket) for ticket in tickets.get(mention.pk, [])],
            }
            rows += _rows(WebhookEvent.MENTION_ROUTED, mention.brand, routed, brand_endpoints)
    deliveries_queue(rows)


# --- Signing ---------------------------------------------------------------------------------------
def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``.

    The timestamp is signed with the body so that a captured request cannot be replayed later
    under a fresh timestamp: a receiver that refuses old timestamps refuses the replay.
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --- Delivery ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What one call did: delivered, retry (in ``retry_in`` seconds), failed, or skipped."""

    outcome: str
    retry_in: float = 0.0


@dataclass(frozen=True)
class _Answer:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def _destination(delivery: WebhookDelivery) -> tuple[str, str, str]:
    """(url, secret, why it cannot be sent): the destination's address is read now, never stored."""
    if delivery.target == WebhookDelivery.Target.ENDPOINT:
        endpoint = delivery.endpoint
        if endpoint is None or not endpoint.is_active:
            return "", "", _("The endpoint is switched off; switch it on and send the delivery again.")
        if not endpoint.secret:
            return "", "", _("The endpoint's secret cannot be read (was CREDENTIALS_KEY changed?); enter it again.")
        return endpoint.url, endpoint.secret, ""
    department = delivery.department
    url = ""
    if department is not None:
        url = (
            department.slack_webhook_url
            if delivery.target == WebhookDelivery.Target.SLACK
            else department.teams_webhook_url
        )
    if not url:
        return (
            "",
            "",
            _("The department has no %(target)s address any more.") % {"target": delivery.get_target_display()},
        )
    return url, "", ""


def _headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if delivery.target == WebhookDelivery.Target.ENDPOINT:
        timestamp = str(int(time.time()))
        headers |= {
            EVENT_HEADER: delivery.event,
            EVENT_ID_HEADER: str(delivery.event_id),
            DELIVERY_HEADER: str(delivery.pk),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        }
    return headers


def _hide(text: str, url: str, secret: str) -> str:
    """``text`` without the destination's secrets: its signing secret, and a bearer URL's path."""
    parts = urlsplit(url)
    values = {secret, url, parts.path, parts.path.strip("/"), parts.query}
    for value in sorted((value for value in values if len(value) >= 8), key=len, reverse=True):
        text = text.replace(value, HIDDEN)
    return text


def _excerpt(content: bytes) -> str:
    text = content[: EXCERPT_CHARACTERS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARACTERS]
    return text.replace("\x00", "")  # no database column holds NUL


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(min(int(value), BACKOFF_MAX_SECONDS)) if value.isdigit() else None


def _request(url: str, body: bytes, headers: Mapping[str, str]) -> _Answer:
    """POST once under the outbound policy; what came back, or why nothing did.

    Errors are described in Escucha's words, naming the host and port only: a client library's
    message carries the URL, whose path is the token of a Slack or Teams address.
    """
    parts = urlsplit(url)
    where = host_port(url)
    session = mount_outbound(requests.Session())
    try:
        response = session.post(url, data=body, headers=dict(headers), allow_redirects=False, timeout=http_timeout())
    except OutboundRefused as error:
        return _Answer(error=str(error), permanent=True)
    except ConnectorError as error:  # the answer was too big, or came too slowly
        return _Answer(error=str(error))
    except requests.exceptions.Timeout:
        return _Answer(
            error=_("%(host)s did not answer within %(seconds)s seconds.")
            % {"host": where, "seconds": settings.HTTP_TIMEOUT_SECONDS}
        )
    except requests.exceptions.SSLError:
        return _Answer(error=_("The TLS handshake with %(host)s failed (certificate or protocol).") % {"host": where})
    except requests.exceptions.ConnectionError as error:
        cause = error.args[0] if error.args else None
        if isinstance(getattr(cause, "reason", None), NameResolutionError) or isinstance(cause, NameResolutionError):
            return _Answer(error=_("%(host)s could not be resolved.") % {"host": parts.hostname})
        return _Answer(error=_("Could not connect to %(host)s.") % {"host": where})
    except requests.exceptions.RequestException:
        return _Answer(error=_("%(host)s sent an answer that could not be read.") % {"host": where})
    finally:
        session.close()
    status = response.status_code
    excerpt = _excerpt(response.content)
    if 200 <= status < 300:
        return _Answer(status_code=status, excerpt=excerpt)
    error = _("%(host)s answered %(status)s.") % {"host": where, "status": status}
    retryable = status >= 500 or status in RETRYABLE_STATUS
    return _Answer(
        status_code=status,
        excerpt=excerpt,
        error=error,
        permanent=not retryable,
        retry_after=_retry_after(response) if retryable else None,
    )


# A Teams connector that could not post the message still answers 200, with the failure in the
# body: "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error
# 429 with ContextId …". Its success body is "1"; a Workflows URL answers 202 with none.
TEAMS_FAILURE = re.compile(r"delivery failed with error(?:.*?HTTP error (?P<status>\d{3}))?", re.IGNORECASE | re.DOTALL)


def _teams_answer(answer: _Answer, where: str) -> _Answer:
    """A 2xx from Teams read as what it says: a failure described in the body is a failure, with
    the status it names (a 429 or 5xx inside a 200 is retried like one)."""
    found = TEAMS_FAILURE.search(answer.excerpt) if not answer.error else None
    if found is None:
        return answer
    status = int(found["status"]) if found["status"] else None
    retryable = status is not None and (status >= 500 or status in RETRYABLE_STATUS)
    return _Answer(
        status_code=answer.status_code,
        excerpt=answer.excerpt,
        error=_("%(host)s answered %(answer)s but could not post the message (error %(status)s).")
        % {"host": where, "answer": answer.status_code, "status": status or "?"},
        permanent=not retryable,
    )


def webhook_delivery_send(*, delivery_id: int) -> Outcome:
    """Send one pending delivery. Called by the ``responses.deliver_webhook`` task; safe to call again."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        # Gone, delivered, failed, or being sent by another worker.
        return Outcome("skipped")
    delivery = WebhookDelivery.objects.select_related("endpoint", "department").get(pk=delivery_id)
    url, secret, unsendable = _destination(delivery)
    if unsendable:
        return _record(delivery, _Answer(error=unsendable, permanent=True), started=now, took=None)
    body = delivery.body.encode()
    started = time.monotonic()
    answer = _request(url, body, _headers(delivery, secret, body))
    took = int((time.monotonic() - started) * 1000)
    if delivery.target == WebhookDelivery.Target.TEAMS:
        answer = _teams_answer(answer, host_port(url))
    answer = _Answer(
        status_code=answer.status_code,
        excerpt=_hide(answer.excerpt, url, secret),
        error=_hide(answer.error, url, secret),
        permanent=answer.permanent,
        retry_after=answer.retry_after,
    )
    return _record(delivery, answer, started=now, took=took)


@transaction.atomic
def _record(delivery: WebhookDelivery, answer: _Answer, *, started: datetime, took: int | None) -> Outcome:
    """Keep the attempt, and move the delivery to delivered, failed or pending again."""
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started,
        duration_ms=took,
        status_code=answer.status_code,
        response_excerpt=answer.excerpt,
        error=answer.error,
    )
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.SENDING)
    now = timezone.now()
    if not answer.error:
        mine.update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_status_code=answer.status_code, error=""
        )
        return Outcome("delivered")
    if answer.permanent or delivery.attempts >= MAX_ATTEMPTS:
        error = answer.error
        if not answer.permanent:
            error = _("Gave up after %(n)d attempts: %(error)s") % {"n": delivery.attempts, "error": answer.error}
        mine.update(status=WebhookDelivery.Status.FAILED, last_status_code=answer.status_code, error=error[:2000])
        log.warning("Webhook delivery %s failed: %s", delivery.pk, error)
        return Outcome("failed")
    wait = answer.retry_after or backoff_seconds(delivery.attempts, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_MAX_SECONDS)
    mine.update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now + timedelta(seconds=wait),
        last_status_code=answer.status_code,
        error=(_("Retrying: %(error)s") % {"error": answer.error})[:2000],
    )
    return Outcome("retry", retry_in=wait)


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery again, as a new delivery of the same event (same event id)."""
    if delivery.status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING):
        raise ValidationError(_("This delivery is still on its way."))
    now = timezone.now()
    (copy,) = deliveries_queue(
        [
            WebhookDelivery(
                brand_id=delivery.brand_id,
                target=delivery.target,
                endpoint_id=delivery.endpoint_id,
                department_id=delivery.department_id,
                event=delivery.event,
                event_id=delivery.event_id,
                body=delivery.body,
                created_at=now,
                next_attempt_at=now,
                resent_from=delivery,
            )
        ]
    )
    return copy


def webhook_deliveries_sweep() -> tuple[int, int]:
    """Catch deliveries whose task went missing; returns (interrupted, lost) queued again.

    A row left "sending" by a worker that died mid-request goes back to pending (or fails, at its
    attempt limit): whether the receiver got it is unknown, and it dedupes on the event id. A
    pending row long past its due time lost its task message: it is queued again, which the claim
    makes safe.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=SENDING_STALE_SECONDS)
    interrupted = 0
    for delivery in WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, claimed_at__lt=stale)[:500]:
        if delivery.attempts >= MAX_ATTEMPTS:
            changes: dict[str, Any] = {
                "status": WebhookDelivery.Status.FAILED,
                "error": _("Gave up after %(n)d attempts: the last one was interrupted.") % {"n": delivery.attempts},
            }
        else:
            changes = {
                "status": WebhookDelivery.Status.PENDING,
                "next_attempt_at": now,
                "error": _("Retrying: the last attempt was interrupted."),
            }
        # Conditional on the claim seen: a sweep running twice moves each row once.
        if WebhookDelivery.objects.filter(
            pk=delivery.pk, status=delivery.status, claimed_at=delivery.claimed_at
        ).update(**changes):
            if changes["status"] == WebhookDelivery.Status.PENDING:
                interrupted += 1
                queue_after_commit("responses.deliver_webhook", delivery.pk)
    lost_before = now - timedelta(seconds=LOST_SECONDS)
    lost = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=lost_before)
        .values_list("pk", flat=True)
        .order_by("next_attempt_at")[:500]
    )
    for pk in lost:
        queue_after_commit("responses.deliver_webhook", pk)
    return interrupted, len(lost)
