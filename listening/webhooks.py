"""Platform webhooks: the Facebook Page ``feed`` subscription.

Facebook proves each delivery with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the
app secret); a delivery without a valid signature is refused and nothing is stored. A signed
delivery is checked and answered at once, and stored by its own task (``listening.ingest_webhook``)
on the ``webhooks`` queue, which no poll waits in front of: it is in the inbox within seconds, not
on the channel's next poll. It goes through the same ingestion as polls, which dedupes by channel
and platform id, so a redelivery, or a poll that read the same comment, stores nothing twice.
A ``remove`` change (a post or comment deleted on Facebook) erases the mention it names
(``listening.privacy.platform_deletions_apply``), by the same task.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from kombu.exceptions import OperationalError

from config.celery import app
from listening.connectors import FetchedItem
from listening.connectors.facebook import parse_webhook, parse_webhook_removals
from listening.ingest import ingest_items
from listening.models import Channel, Platform
from listening.privacy import platform_deletions_apply

log = logging.getLogger(__name__)


def _same(expected: str, given: str) -> bool:
    """Constant-time equality of two texts; as bytes, since ``compare_digest`` refuses non-ASCII str."""
    return hmac.compare_digest(expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


def signature_is_valid(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _same(expected, header.removeprefix("sha256=").strip().lower())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def facebook_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id, platform=Platform.FACEBOOK)
    credentials = channel.credentials or {}
    if request.method == "GET":
        expected = str(credentials.get("verify_token") or "")
        given = request.GET.get("hub.verify_token", "")
        if request.GET.get("hub.mode") == "subscribe" and expected and _same(expected, given):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("verification failed", content_type="text/plain")

    body = request.body
    if not signature_is_valid(
        body, request.headers.get("X-Hub-Signature-256", ""), str(credentials.get("app_secret") or "")
    ):
        log.warning("Facebook webhook for channel %s refused: bad or missing signature", channel.pk)
        return HttpResponseForbidden("bad signature", content_type="text/plain")
    try:
        payload = json.loads(body)
        items = delivery_items(channel, payload)
        removed = parse_webhook_removals(payload)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python goes
        return HttpResponseBadRequest("malformed payload", content_type="text/plain")
    if (items or removed) and channel.is_active:
        try:
            # Queued now, not after commit: the request wrote nothing, and a broker that is down
            # must turn into the 503 below while Facebook still waits for the answer.
            app.signature("listening.ingest_webhook", args=(channel.pk, payload)).apply_async()
        except OperationalError:
            # The broker is down: a 5xx makes Facebook deliver it again later, so nothing is lost.
            log.warning("Facebook webhook for channel %s not queued: the broker is unreachable", channel.pk)
            return HttpResponse("try again later", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def delivery_items(channel: Channel, payload: Any) -> list[FetchedItem]:
    """The mentions a delivery carries for ``channel``; ValueError when it is not a Page delivery."""
    channel_settings = channel.settings or {}
    return parse_webhook(
        payload,
        str(channel_settings.get("page_id") or ""),
        include_own=bool(channel_settings.get("include_own_posts", False)),
        source=str(channel_settings.get("page_name") or ""),
    )


def facebook_delivery_ingest(*, channel_id: int, payload: Any) -> int:
    """Store a signed delivery's items and erase the mentions it says were removed, in that order
    (a comment added and removed in one delivery is gone at the end); how many were new."""
    channel = Channel.objects.filter(pk=channel_id, platform=Platform.FACEBOOK, is_active=True).first()
    if channel is None:  # removed or paused since the delivery came
        return 0
    items = delivery_items(channel, payload)
    created = len(ingest_items(channel=channel, items=items).created) if items else 0
    platform_deletions_apply(channel=channel, external_ids=parse_webhook_removals(payload))
    return created
