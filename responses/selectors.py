"""Reads for the responses app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from listening.models import Mention
from listening.selectors import brands_for_user
from responses.models import Department, Notification, Reply, RoutingRule, Ticket, TicketEvent


def tickets_for_user(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Department staff see their departments' tickets; roles with manage_all_tickets see their brands'."""
    if not user.is_authenticated:
        return Ticket.objects.none()
    if user.has_perm("responses.manage_all_tickets"):
        return Ticket.objects.filter(brand__in=brands_for_user(user))
    return Ticket.objects.filter(department__members=user)


def departments_for_user(user: AbstractBaseUser) -> QuerySet[Department]:
    """The departments whose queues a user may open (the filter on the ticket list)."""
    if not user.is_authenticated:
        return Department.objects.none()
    if user.has_perm("responses.manage_all_tickets"):
        return Department.objects.filter(brand__in=brands_for_user(user))
    return Department.objects.filter(members=user)


def rules_for_user(user: AbstractBaseUser) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(brand__in=brands_for_user(user))


QUEUE_TABS = ("unassigned", "mine", "all")
PAGE_SIZE = 50


def ticket_queue(
    *, user: AbstractBaseUser, tab: str, department: int | None = None, status: str = "", after: str = ""
) -> tuple[list[Ticket], str]:
    """One page of a ticket queue, newest first, keyset-paginated on (created_at, id).

    Returns the tickets and the cursor of the next page ("" on the last page). Without a
    status filter the queue holds the live tickets (not closed).
    """
    qs = tickets_for_user(user)
    if department:
        qs = qs.filter(department_id=department)
    if status in Ticket.Status.values:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Ticket.Status.CLOSED)
    if tab == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif tab == "mine":
        qs = qs.filter(assignee=user)
    if after:
        stamp, _, pk = after.partition("_")
        try:
            created_at, last_id = datetime.fromisoformat(stamp), int(pk)
        except ValueError:
            created_at, last_id = None, None
        if created_at is not None:
            qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=last_id))
    page = list(
        qs.select_related("department", "assignee", "mention__author", "mention__channel").order_by(
            "-created_at", "-id"
        )[: PAGE_SIZE + 1]
    )
    cursor = ""
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        cursor = f"{page[-1].created_at.isoformat()}_{page[-1].pk}"
    return page, cursor


def ready_for_follow_up(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Resolved tickets whose customer has not had the public answer yet, newest resolution first."""
    return (
        tickets_for_user(user)
        .filter(status=Ticket.Status.RESOLVED, followed_up_at__isnull=True)
        .select_related("department", "mention__author", "mention__channel")
        .order_by("-resolved_at", "-id")
    )


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # "mention", "conversation", "reply", or a TicketEvent kind
    obj: Any


def ticket_timeline(ticket: Ticket) -> list[TimelineItem]:
    """Everything about a ticket in time order: the mention, its public thread, replies, events."""
    mention = ticket.mention
    items = [TimelineItem(mention.published_at, "mention", mention)]
    thread = Mention.objects.filter(
        Q(parent=mention) | Q(channel_id=mention.channel_id, parent_external_id=mention.external_id)
    )
    items += [TimelineItem(m.published_at, "conversation", m) for m in thread.select_related("author").distinct()[:200]]
    replies = Reply.objects.filter(mention=mention).select_related("author")
    items += [TimelineItem(r.sent_at or r.created_at, "reply", r) for r in replies]
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    items += [TimelineItem(e.created_at, e.kind, e) for e in events]
    return sorted(items, key=lambda item: item.at)


def unread_notifications(user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)


def tickets_for_author(*, user: AbstractBaseUser, author_id: int) -> QuerySet[Ticket]:
    """Every ticket about one author's mentions that ``user`` may see (the author page)."""
    return (
        tickets_for_user(user)
        .filter(mention__author_id=author_id)
        .select_related("department", "mention")
        .order_by("-created_at", "-id")
    )
