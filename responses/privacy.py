"""What responses holds about a person, for their export and their erasure (``listening.privacy``).

Registered as listening's erase and export steps in ``ResponsesConfig.ready``. On erasure the
team's work stays countable — tickets with their internal notes, replies' rows and times (the
team report reads them) — while what names or quotes the person goes: replies' texts and
platform links (they answer the person, often by handle), ticket subjects (the mention's text by
default), the notifications and outgoing webhook bodies that carried the mention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.urls import reverse

from listening.models import Mention
from listening.privacy import redactor
from responses.models import Notification, Reply, Ticket, TicketEvent, WebhookDelivery

# Replies not sent yet would answer a post that Escucha no longer holds: they are withdrawn.
UNSENT = (Reply.Status.PENDING_APPROVAL, Reply.Status.QUEUED)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_export(mentions: Sequence[Mention]) -> dict[str, list[dict[str, Any]]]:
    """Export step: the tickets citing these mentions (with their timelines) and the replies to them."""
    ids = [m.pk for m in mentions]
    tickets = (
        Ticket.objects.filter(mention_id__in=ids)
        .select_related("department", "brand")
        .prefetch_related("events")
        .order_by("created_at", "pk")
    )
    replies = Reply.objects.filter(mention_id__in=ids).order_by("created_at", "pk")
    return {
        "tickets": [
            {
                "id": t.pk,
                "mention": t.mention_id,
                "brand": t.brand.name,
                "department": t.department.name,
                "subject": t.subject,
                "status": t.status,
                "priority": t.priority,
                "opened": _when(t.created_at),
                "resolved": _when(t.resolved_at),
                "closed": _when(t.closed_at),
                "resolution": t.resolution,
                "timeline": [
                    {
                        "at": _when(e.created_at),
                        "kind": e.kind,
                        "from": e.from_status,
                        "to": e.to_status,
                        "note": e.body,
                    }
                    for e in t.events.all()
                ],
            }
            for t in tickets
        ],
        "replies": [
            {
                "id": r.pk,
                "mention": r.mention_id,
                "ticket": r.ticket_id,
                "text": r.text,
                "status": r.status,
                "created": _when(r.created_at),
                "sent": _when(r.sent_at),
                "link": r.external_url,
            }
            for r in replies
        ],
    }


def _paths(name: str, pks: Sequence[int]) -> list[str]:
    """The pages of these objects: one ``reverse`` for them all (a batch of 500 is 500 otherwise)."""
    prefix, suffix = reverse(name, args=[0]).rsplit("/0/", 1)
    return [f"{prefix}/{pk}/{suffix}" for pk in pks]


def personal_data_erase(mentions: Sequence[Mention], mode: str, reason: str) -> dict[str, int]:
    """Erase step: see the module's docstring. The same for both modes: what is kept is the team's."""
    ids = [m.pk for m in mentions]
    replies = Reply.objects.filter(mention_id__in=ids)
    withdrawn = replies.filter(status__in=UNSENT).update(status=Reply.Status.REJECTED)
    blanked = replies.update(text="", external_id="", external_url="", error="")
    ticket_ids = list(Ticket.objects.filter(mention_id__in=ids).values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=ticket_ids).exclude(subject="").update(subject="")
    # The internal notes and resolutions stay, without the person's name in them.
    redact = redactor({m.author_id: m.author for m in mentions}.values())
    for ticket in Ticket.objects.filter(pk__in=ticket_ids).exclude(resolution="").only("pk", "resolution"):
        if (resolution := redact(ticket.resolution)) != ticket.resolution:
            Ticket.objects.filter(pk=ticket.pk).update(resolution=resolution)
    for event in TicketEvent.objects.filter(ticket_id__in=ticket_ids).exclude(body="").only("pk", "body"):
        if (body := redact(event.body)) != event.body:
            TicketEvent.objects.filter(pk=event.pk).update(body=body)
    paths = _paths("responses:mention_detail", ids) + _paths("responses:ticket_detail", ticket_ids)
    notifications = Notification.objects.filter(url__in=paths).delete()[0]
    # A delivery's body is the JSON (or chat message) sent, which links the mention or ticket page.
    pattern = "|".join(re.escape(path) for path in paths)
    deliveries = 0
    if pattern:
        # Outgoing deliveries' bodies name the person and quote them; their attempts go with them.
        deliveries = WebhookDelivery.objects.filter(body__regex=pattern).delete()[1].get("responses.WebhookDelivery", 0)
    return {
        "responses.Reply": max(withdrawn, blanked),
        "responses.Ticket": len(ticket_ids),
        "responses.Notification": notifications,
        "responses.WebhookDelivery": deliveries,
    }
