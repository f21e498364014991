"""Platform webhooks: the Facebook Page ``feed`` subscription and the Instagram ``comments`` and
``mentions`` ones, on one scheme.

Meta proves each delivery with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app
secret); a delivery without a valid signature is refused and nothing is stored. A signed delivery
is checked and answered at once, and stored by its own task (``listening.ingest_webhook``) on the
``webhooks`` queue, which no poll waits in front of: it is in the inbox within seconds, not on the
channel's next poll. It goes through the same ingestion as polls, which dedupes by channel and
platform id, so a redelivery, or a poll that read the same comment, stores nothing twice. An
Instagram ``mentions`` delivery carries ids only: its task reads the comment or caption from Graph.
A ``remove`` change (a post or comment deleted on Facebook) erases the mention it names
(``listening.privacy.platform_deletions_apply``), by the same task.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from kombu.exceptions import OperationalError

from config.celery import app
from listening import polling
from listening.connectors import FetchedItem, get_connector, scrub_error
from listening.connectors import facebook as facebook_connector
from listening.connectors import instagram as instagram_connector
from listening.connectors.base import ConnectorError, RejectedItem
from listening.connectors.facebook import parse_webhook_removals
from listening.ingest import ingest_items
from listening.models import Channel, Mention, Platform
from listening.privacy import platform_deletions_apply

log = logging.getLogger(__name__)
PLATFORMS = (Platform.FACEBOOK, Platform.INSTAGRAM)


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
    return _webhook(request, get_object_or_404(Channel, pk=channel_id, platform=Platform.FACEBOOK))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def instagram_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    return _webhook(request, get_object_or_404(Channel, pk=channel_id, platform=Platform.INSTAGRAM))


def _webhook(request: HttpRequest, channel: Channel) -> HttpResponse:
    """The handshake (GET) and a delivery (POST), alike for a Page and an Instagram account."""
    platform = channel.get_platform_display()
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
        log.warning("%s webhook for channel %s refused: bad or missing signature", platform, channel.pk)
        return HttpResponseForbidden("bad signature", content_type="text/plain")
    try:
        payload = json.loads(body)
        items, mentions = delivery_contents(channel, payload)
        removed = parse_webhook_removals(payload)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python goes
        return HttpResponseBadRequest("malformed payload", content_type="text/plain")
    if (items or mentions or removed) and channel.is_active:
        try:
            # Queued now, not after commit: the request wrote nothing, and a broker that is down
            # must turn into the 503 below while Facebook still waits for the answer.
            app.signature("listening.ingest_webhook", args=(channel.pk, payload)).apply_async()
        except OperationalError:
            # The broker is down: a 5xx makes Meta deliver it again later, so nothing is lost.
            log.warning("%s webhook for channel %s not queued: the broker is unreachable", platform, channel.pk)
            return HttpResponse("try again later", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def delivery_contents(channel: Channel, payload: Any) -> tuple[list[FetchedItem], list[instagram_connector.MentionRef]]:
    """The mentions a delivery carries for ``channel``, and (Instagram) the @mentions it names to be
    read from the platform; ValueError when it is not a delivery of the channel's platform."""
    channel_settings = channel.settings or {}
    if channel.platform == Platform.INSTAGRAM:
        if isinstance(payload, dict) and payload.get("object") not in (None, "instagram"):
            raise ValueError("not an Instagram delivery")
        return instagram_connector.parse_webhook(payload, str(channel_settings.get("ig_user_id") or ""))
    items = facebook_connector.parse_webhook(
        payload,
        str(channel_settings.get("page_id") or ""),
        include_own=bool(channel_settings.get("include_own_posts", False)),
        source=str(channel_settings.get("page_name") or ""),
    )
    return items, []


def webhook_delivery_ingest(*, channel_id: int, payload: Any) -> int:
    """Store a signed delivery's items (the ``listening.ingest_webhook`` task); how many were new.

    What the delivery carries is stored first; then the @mentions it names are read from Instagram;
    last, the mentions it says were removed are erased (a comment added and removed in one delivery
    is gone at the end).
    A ConnectorError there (rate limit, Graph down) is left to the task's retry, and the ingestion
    dedupes what the first try stored; when it fails for good, ``webhook_readback_failed`` shows it
    on the channel."""
    channel = Channel.objects.filter(pk=channel_id, platform__in=PLATFORMS, is_active=True).first()
    if channel is None:  # removed or paused since the delivery came
        return 0
    items, mentions = delivery_contents(channel, payload)
    created = 0
    if items:
        if channel.platform == Platform.INSTAGRAM:
            items = _with_media_links(channel, items)
        created += len(ingest_items(channel=channel, items=items).created)
    if mentions and (mentioned := get_connector(channel).fetch_mentioned(mentions)):
        created += len(ingest_items(channel=channel, items=mentioned).created)
    platform_deletions_apply(channel=channel, external_ids=parse_webhook_removals(payload))
    return created


def webhook_readback_failed(*, channel_id: int, payload: Any, error: ConnectorError) -> None:
    """The @mentions a delivery named could not be read back for good (a refused token, a mention
    gone, retries used up): Instagram does not deliver them again, so the channel says so. Each is
    listed under "items not stored" with the reason, the error is the channel's last error, and a
    refused token asks to reconnect, as a poll's would."""
    channel = Channel.objects.filter(pk=channel_id, platform__in=PLATFORMS).first()
    if channel is None:
        return
    try:
        _items, mentions = delivery_contents(channel, payload)
    except (ValueError, RecursionError):
        mentions = []
    message = scrub_error(f"{channel.get_platform_display()} @mention not read back: {error}", channel=channel)
    unread = [RejectedItem(external_id=ref.comment_id or ref.media_id, reason=message[:300]) for ref in mentions]
    if unread:
        ingest_items(channel=channel, items=[], unreadable=unread)
    polling.channel_error_record(channel=channel, message=message, reconnect=error.reconnect)


def _with_media_links(channel: Channel, items: list[FetchedItem]) -> list[FetchedItem]:
    """An Instagram ``comments`` delivery names the media, not its address: the link back is the
    one a poll stored for another comment on that media, when there is one."""
    missing = {item.source for item in items if not item.url and item.source}
    if not missing:
        return items
    links = dict(
        Mention.objects.filter(channel=channel, source__in=missing)
        .exclude(url="")
        .order_by()
        .values_list("source", "url")
        .distinct()
    )
    return [replace(item, url=links[item.source]) if not item.url and item.source in links else item for item in items]
