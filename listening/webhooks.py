"""Platform webhooks: the Facebook Page ``feed`` subscription.

Facebook proves each delivery with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the
app secret); a delivery without a valid signature is refused and nothing is stored. Deliveries go
through the same ingestion as polls, which dedupes by channel and platform id, so a redelivery
stores nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from listening.connectors.facebook import parse_webhook
from listening.ingest import ingest_items
from listening.models import Channel, Platform

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
        items = parse_webhook(
            payload,
            str((channel.settings or {}).get("page_id") or ""),
            include_own=bool((channel.settings or {}).get("include_own_posts", False)),
            source=str((channel.settings or {}).get("page_name") or ""),
        )
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python goes
        return HttpResponseBadRequest("malformed payload", content_type="text/plain")
    if items and channel.is_active:
        ingest_items(channel=channel, items=items)
    return HttpResponse("ok", content_type="text/plain")
