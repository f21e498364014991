"""Tickets: opening one from a mention, its lifecycle, its SLA, and what a public reply does to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from listening.models import Mention
from listening.services import mention_set_status
from responses.models import Department, Priority, Reply, RoutingRule, SlaPolicy, Ticket, TicketEvent, WebhookEvent
from responses.notifications import community_managers, department_members, notify
from responses.webhooks import ticket_data, webhook_event

Status = Ticket.Status

# Where a ticket may go from each status. Reopening sends a resolved or closed ticket back to open.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.OPEN: (Status.ACKNOWLEDGED,),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.OPEN),
    Status.CLOSED: (Status.OPEN,),
}


class TicketError(Exception):
    """A change the ticket's rules refuse; the message is for the person who asked."""


def ticket_url(ticket: Ticket) -> str:
    return reverse("responses:ticket_detail", args=[ticket.pk])


@transaction.atomic
def ticket_open(
    *,
    mention: Mention,
    department: Department,
    priority: str = Priority.NORMAL,
    actor: AbstractBaseUser | None = None,
    rule: RoutingRule | None = None,
    note: str = "",
) -> tuple[Ticket, bool]:
    """Open a ticket for ``department`` about ``mention``; returns (ticket, created).

    A mention has at most one live ticket per department: asking again returns the live one.
    The SLA deadlines come from the department's policy for the priority; the department's
    members, its e-mail address and its Slack or Teams channel are told, and the brand's webhooks.
    """
    live = Ticket.objects.filter(mention=mention, department=department).exclude(status=Status.CLOSED).first()
    if live is not None:
        return live, False
    now = timezone.now()
    policy = SlaPolicy.objects.filter(department=department, priority=priority).first()
    ticket = Ticket.objects.create(
        brand_id=mention.brand_id,
        department=department,
        mention=mention,
        rule=rule,
        subject=(mention.title or mention.text)[:120],
        priority=priority,
        created_by=actor,
        created_at=now,
        acknowledge_due_at=now + timedelta(minutes=policy.acknowledge_minutes) if policy else None,
        resolve_due_at=now + timedelta(minutes=policy.resolve_minutes) if policy else None,
    )
    TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=TicketEvent.Kind.CREATED, to_status=ticket.status, body=note
    )
    mention_set_status(mention=mention, status=Mention.Status.ROUTED, actor=actor, note=department.name)
    notify(
        users=department_members(department),
        verb="ticket_opened",
        message=gettext_lazy("New ticket #%(id)s for %(department)s: %(subject)s"),
        params={"id": ticket.pk, "department": department.name, "subject": ticket.subject},
        url=ticket_url(ticket),
        emails=[department.email],
        departments=[department],
    )
    webhook_event(event=WebhookEvent.TICKET_OPENED, brand=mention.brand, data={"ticket": ticket_data(ticket)})
    return ticket, True


def _locked(ticket: Ticket) -> Ticket:
    # of=self: lock the ticket row only, not the department joined in for its name.
    return Ticket.objects.select_for_update(of=("self",)).select_related("department").get(pk=ticket.pk)


@transaction.atomic
def ticket_transition(
    *, ticket: Ticket, to_status: str, actor: AbstractBaseUser | None, resolution: str = ""
) -> Ticket:
    """Move a ticket along its lifecycle; refuses what ``TRANSITIONS`` does not allow.

    Resolving needs a resolution (the community manager passes it on in public). The row is
    locked so two people clicking at once cannot both move it.
    """
    current = _locked(ticket)
    if to_status not in Status.values:
        raise TicketError(_("Unknown status “%(status)s”.") % {"status": to_status})
    if to_status not in TRANSITIONS[current.status]:
        raise TicketError(
            _("A ticket that is %(from)s cannot become %(to)s.")
            % {"from": current.get_status_display().lower(), "to": Status(to_status).label.lower()}
        )
    resolution = resolution.strip()
    if to_status == Status.RESOLVED and not (resolution or current.resolution):
        raise TicketError(_("Write the resolution before resolving: the community manager will pass it on."))
    now = timezone.now()
    from_status = current.status
    current.status = to_status
    if to_status == Status.ACKNOWLEDGED and current.acknowledged_at is None:
        current.acknowledged_at = now
    elif to_status == Status.RESOLVED:
        current.resolved_at = now
        if resolution:
            current.resolution = resolution
    elif to_status == Status.CLOSED:
        current.closed_at = now
    elif to_status == Status.OPEN:
        # Reopened: the case is live again and needs a new resolution and a new follow-up.
        current.resolved_at = current.closed_at = current.followed_up_at = None
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError as error:
        raise TicketError(_("This mention already has a live ticket for this department.")) from error
    TicketEvent.objects.create(
        ticket=current,
        actor=actor,
        kind=TicketEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        body=resolution if to_status == Status.RESOLVED else "",
    )
    if to_status == Status.RESOLVED:
        notify(
            users=community_managers(current.brand_id),
            verb="ticket_resolved",
            message=gettext_lazy("Ticket #%(id)s resolved by %(department)s: ready for public follow-up."),
            params={"id": current.pk, "department": current.department.name},
            url=reverse("responses:follow_up"),
        )
        webhook_event(event=WebhookEvent.TICKET_RESOLVED, brand=current.brand, data={"ticket": ticket_data(current)})
    ticket.refresh_from_db()  # the caller's copy shows the new state too
    return current


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None) -> Ticket:
    """Give the ticket to a member of its department (None to unassign); the assignee is told."""
    current = _locked(ticket)
    if assignee is not None and not current.department.members.filter(pk=assignee.pk).exists():
        raise TicketError(
            _("Only a member of %(department)s can take this ticket.") % {"department": current.department}
        )
    if current.assignee_id == (assignee.pk if assignee else None):
        return current
    current.assignee = assignee
    current.save(update_fields=["assignee", "updated_at"])
    TicketEvent.objects.create(
        ticket=current, actor=actor, kind=TicketEvent.Kind.ASSIGNED, body=assignee.get_username() if assignee else ""
    )
    if assignee is not None and assignee != actor:
        notify(
            users=[assignee],
            verb="ticket_assigned",
            message=gettext_lazy("Ticket #%(id)s was assigned to you: %(subject)s"),
            params={"id": current.pk, "subject": current.subject},
            url=ticket_url(current),
        )
    ticket.assignee = assignee
    return current


def ticket_add_note(*, ticket: Ticket, body: str, actor: AbstractBaseUser | None) -> TicketEvent:
    """An internal note: seen by the department and the community managers, never by the customer."""
    body = body.strip()
    if not body:
        raise TicketError(_("Write the note first."))
    return TicketEvent.objects.create(ticket=ticket, actor=actor, kind=TicketEvent.Kind.NOTE, body=body)


def ticket_flag_breaches(now: datetime | None = None) -> int:
    """Stamp each ticket whose acknowledge or resolve deadline passed, once, and tell people.

    The stamp is a conditional UPDATE: two sweeps running at once flag (and notify) once.
    """
    now = now or timezone.now()
    live = ~Q(status__in=[Status.RESOLVED, Status.CLOSED])
    flagged = 0
    sweeps = [
        (
            "acknowledge",
            Q(acknowledged_at__isnull=True, acknowledge_due_at__lte=now, acknowledge_breached_at__isnull=True),
        ),
        ("resolve", Q(resolved_at__isnull=True, resolve_due_at__lte=now, resolve_breached_at__isnull=True)),
    ]
    for which, due in sweeps:
        stamp = f"{which}_breached_at"
        # At most 500 per run: a backlog is worked off over the next minutes, never in one long task.
        for ticket in Ticket.objects.filter(due & live).select_related("department", "brand").order_by("pk")[:500]:
            with transaction.atomic():
                if not Ticket.objects.filter(pk=ticket.pk, **{f"{stamp}__isnull": True}).update(**{stamp: now}):
                    continue
                flagged += 1
                TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.BREACH, body=which, created_at=now)
                message = (
                    gettext_lazy("Ticket #%(id)s missed its acknowledge deadline (%(department)s).")
                    if which == "acknowledge"
                    else gettext_lazy("Ticket #%(id)s missed its resolve deadline (%(department)s).")
                )
                notify(
                    users=[*department_members(ticket.department), *community_managers(ticket.brand_id)],
                    verb="sla_breach",
                    message=message,
                    params={"id": ticket.pk, "department": ticket.department.name},
                    url=ticket_url(ticket),
                    emails=[ticket.department.email],
                    departments=[ticket.department],
                )
                setattr(ticket, stamp, now)
                webhook_event(
                    event=WebhookEvent.TICKET_BREACHED,
                    brand=ticket.brand,
                    data={"ticket": ticket_data(ticket), "deadline": which},
                )
    return flagged


def ticket_on_reply_sent(*, reply: Reply) -> None:
    """A public reply went out: the delivery code calls this once per sent reply.

    A reply to a mention whose ticket is resolved is the public follow-up: it is stamped and the
    ticket closes. Calling it again for the same reply changes nothing.
    """
    if reply.ticket_id:
        candidates = Ticket.objects.filter(pk=reply.ticket_id)
    else:
        candidates = Ticket.objects.filter(mention_id=reply.mention_id, status=Status.RESOLVED)
    for ticket_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if ticket.followed_up_at is not None or ticket.status != Status.RESOLVED:
                continue
            ticket.followed_up_at = reply.sent_at or timezone.now()
            ticket.save(update_fields=["followed_up_at", "updated_at"])
            TicketEvent.objects.create(ticket=ticket, actor=reply.author, kind=TicketEvent.Kind.REPLY, body=reply.text)
            ticket_transition(ticket=ticket, to_status=Status.CLOSED, actor=reply.author)
