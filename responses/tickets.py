"""Tickets: opening one from a mention, its lifecycle, its SLA, and what a public reply does to it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.bulk import insert_rows, instance_maker, stamp_new
from config.links import reverse_id
from listening import configuration
from listening.models import Mention
from listening.services import MentionChanges
from responses.models import (
    Department,
    Priority,
    Reply,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketEvent,
    WebhookEndpoint,
    WebhookEvent,
)
from responses.notifications import Notice, community_managers, department_members, notify, notify_all
from responses.webhooks import ticket_data, webhook_event, webhook_events

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


# What ``TicketBatch`` writes of a TicketEvent.
EVENT_FIELDS = ("ticket_id", "actor_id", "kind", "from_status", "to_status", "body", "created_at")
# What ``TicketBatch`` writes of a new Ticket: the columns it may hold a value in. The others (who
# took it up and when, its breaches, its follow-up) start empty, and are left out rather than
# written NULL one by one (a page of tickets' dates are most of the values of their INSERT).
TICKET_FIELDS = (
    "brand_id", "department_id", "mention_id", "rule_id", "subject", "priority", "status", "created_by_id",
    "resolution", "created_at", "acknowledge_due_at", "resolve_due_at", "updated_at",
)  # fmt: skip
_TICKET_ROW = itemgetter(*TICKET_FIELDS)  # a new ticket's values of them, from its ``__dict__``


# What a department's members are told of a new ticket: one text for all the tickets of a batch,
# which ``notify_all`` then translates once per language, not once per ticket.
OPENED_MESSAGE = gettext_lazy("New ticket #%(id)s for %(department)s: %(subject)s")

# Not a column: a department's SLA policies by priority, when they were read with it
# (``departments_with_policies``), for ``TicketBatch`` to read them no more.
_POLICIES = "_sla_policies_by_priority"


class TicketError(Exception):
    """A change the ticket's rules refuse; the message is for the person who asked."""


def ticket_url(ticket: Ticket) -> str:
    return reverse_id("responses:ticket_detail", ticket.pk)


def departments_with_policies(departments: QuerySet[Department]) -> list[Department]:
    """``departments``, in their order, each with its SLA policies, in one query: a row per policy
    (a department without any in one row), joined in. A ``TicketBatch`` given them reads their
    members only, where it read their policies too."""
    rows = departments.annotate(
        policy_id=F("sla_policies__id"),
        policy_priority=F("sla_policies__priority"),
        policy_acknowledge_minutes=F("sla_policies__acknowledge_minutes"),
        policy_resolve_minutes=F("sla_policies__resolve_minutes"),
    )
    found: dict[int, Department] = {}
    for row in rows:
        department = found.setdefault(row.pk, row)
        policies = department.__dict__.setdefault(_POLICIES, {})
        if row.policy_id is not None:
            policies[row.policy_priority] = SlaPolicy(
                id=row.policy_id,
                department=department,
                priority=row.policy_priority,
                acknowledge_minutes=row.policy_acknowledge_minutes,
                resolve_minutes=row.policy_resolve_minutes,
            )
    return list(found.values())


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
    batch = TicketBatch(mentions=[mention])
    ticket, created = batch.open(
        mention=mention, department=department, priority=priority, actor=actor, rule=rule, note=note
    )
    batch.save()
    return ticket, created


def _active_members(brand_ids: set[int]) -> dict[int, dict[int, list[AbstractBaseUser]]]:
    """The active members of each brand's departments, by brand and department, in the order of
    their ids, with their profiles: the notices of the tickets are written in each member's
    language. Kept by ingestion under the brand's stamp (``listening.configuration``), which a
    change of membership, of a member's account or of their language renews."""
    members: dict[int, dict[int, list[AbstractBaseUser]]] = {brand_id: {} for brand_id in brand_ids}
    rows = Department.members.through.objects.filter(department__brand_id__in=brand_ids, user__is_active=True)
    for row in (
        rows.select_related("user__profile")
        .annotate(brand_id=F("department__brand_id"))
        .order_by("department_id", "user_id")
    ):
        members[row.brand_id].setdefault(row.department_id, []).append(row.user)
    return members


class TicketBatch:
    """Tickets opened together, each as ``ticket_open`` would open it alone (routing opens a page's).

    ``open`` decides at once what an opening does: it finds the live ticket of the mention and
    department (stored, or opened earlier in the batch) or makes a new one, and moves the mention
    to routed in ``changes``. ``save`` then writes the new tickets, their events, the mentions'
    changes, the notifications and the webhook events in a fixed number of statements, whatever
    the number of tickets. The SLA policies and the departments' members are read once a batch.

    ``changes`` and ``notices`` may be shared with the caller, whose own changes and notices then
    keep their order among the tickets' (routing's tags, assignments and rule notifications).
    """

    def __init__(
        self,
        *,
        mentions: Sequence[Mention] = (),
        departments: Iterable[Department] = (),
        changes: MentionChanges | None = None,
        notices: list[Notice] | None = None,
    ) -> None:
        self.changes = changes if changes is not None else MentionChanges()
        self.notices = notices if notices is not None else []
        self._new: list[Ticket] = []
        # The new tickets' "created" events, as rows in ``EVENT_FIELDS`` order with the ticket in
        # place of its id (taken by ``store``): written, never read back, so built as no instance.
        self._events: list[tuple[Any, ...]] = []
        self._live: dict[tuple[int, int], Ticket] = {}
        self._looked_up: set[int] = set()
        self._policies: dict[int, dict[str, SlaPolicy]] = {}
        self._members: dict[int, list[AbstractBaseUser]] = {}
        self._link: tuple[str, str] | None = None
        self._allowances: dict[tuple[int, str], tuple[timedelta, timedelta] | None] = {}
        # A mention not stored yet (ingestion routes a page before writing it) has no ticket.
        self._looked_up.update(m.pk for m in mentions if m._state.adding)
        self._look_up([m.pk for m in mentions if not m._state.adding])
        self._read_departments(departments)

    def _look_up(self, mention_ids: list[int]) -> None:
        wanted = [pk for pk in mention_ids if pk not in self._looked_up]
        if not wanted:
            return
        self._looked_up.update(wanted)
        for ticket in Ticket.objects.filter(mention_id__in=wanted).exclude(status=Status.CLOSED):
            self._live[(ticket.mention_id, ticket.department_id)] = ticket

    def _read_departments(self, departments: Iterable[Department]) -> None:
        wanted = [department for department in departments if department.pk not in self._policies]
        if not wanted:
            return
        unread = []
        for department in wanted:
            self._members[department.pk] = []
            if _POLICIES in department.__dict__:  # read with the department
                self._policies[department.pk] = department.__dict__[_POLICIES]
            else:
                self._policies[department.pk] = {}
                unread.append(department.pk)
        if unread:
            for policy in SlaPolicy.objects.filter(department_id__in=unread):
                self._policies[policy.department_id][policy.priority] = policy
        members = configuration.brand_configurations(
            {department.brand_id for department in wanted}, "department members", _active_members
        )
        for department in wanted:
            self._members[department.pk] = list(members[department.brand_id].get(department.pk, ()))

    def open(
        self,
        *,
        mention: Mention,
        department: Department,
        priority: str = Priority.NORMAL,
        actor: AbstractBaseUser | None = None,
        rule: RoutingRule | None = None,
        note: str = "",
    ) -> tuple[Ticket, bool]:
        """The live ticket and False, or a new ticket (stored by ``save``) and True."""
        if mention.pk not in self._looked_up:
            self._look_up([mention.pk])
        if department.pk not in self._policies:
            self._read_departments([department])
        live = self._live.get((mention.pk, department.pk))
        if live is not None:
            return live, False
        now = timezone.now()
        ticket = self._new_ticket(mention, department, priority, rule, actor, now)
        self._live[(mention.pk, department.pk)] = ticket
        self._new.append(ticket)
        self._events.append(
            (ticket, actor.pk if actor is not None else None, TicketEvent.Kind.CREATED, "", ticket.status, note, now)
        )
        self.changes.set_status(mention, Mention.Status.ROUTED, actor=actor, note=department.name)
        self.notices.append(
            Notice(
                users=self._members[department.pk],
                verb="ticket_opened",
                message=OPENED_MESSAGE,
                params=lambda: {"id": ticket.pk, "department": department.name, "subject": ticket.subject},
                url=lambda: self._url(ticket),
                emails=[department.email],
                departments=[department],
            )
        )
        return ticket, True

    def _new_ticket(
        self, mention: Mention, department: Department, priority: str, rule: RoutingRule | None,
        actor: AbstractBaseUser | None, now: datetime,
    ) -> Ticket:  # fmt: skip
        """A new ticket about ``mention``, opened ``now``, not stored yet."""
        allowed = self._allowed(department, priority)
        return instance_maker(Ticket)(
            brand_id=mention.brand_id,
            department=department,
            mention=mention,
            rule=rule,
            subject=(mention.title or mention.text)[:120],
            priority=priority,
            created_by=actor,
            created_at=now,
            acknowledge_due_at=now + allowed[0] if allowed else None,
            resolve_due_at=now + allowed[1] if allowed else None,
        )

    def _allowed(self, department: Department, priority: str) -> tuple[timedelta, timedelta] | None:
        """The time the department's SLA policy allows to acknowledge and to resolve a ticket of
        ``priority`` (None without a policy): worked out once a batch, not once a ticket."""
        key = (department.pk, priority)
        if key not in self._allowances:
            policy = self._policies[department.pk].get(priority)
            self._allowances[key] = (
                (timedelta(minutes=policy.acknowledge_minutes), timedelta(minutes=policy.resolve_minutes))
                if policy
                else None
            )
        return self._allowances[key]

    def _url(self, ticket: Ticket) -> str:
        """``ticket_url(ticket)``, once stored. The links of a batch's tickets differ only by their
        numbers: the first one found with its number once is cut around it, and the others are
        that link with their own number put in (``reverse_id`` reads the URL conf and the script
        prefix for each, a few percent of routing a page)."""
        if self._link is not None:
            return f"{self._link[0]}{int(ticket.pk)}{self._link[1]}"
        url, number = ticket_url(ticket), str(int(ticket.pk))
        if url.count(number) == 1:
            before, _number, after = url.partition(number)
            self._link = (before, after)
        return url

    def save(self) -> list[Ticket]:
        """Store the new tickets and everything that follows from them; returns them.

        With ``changes`` and ``notices`` shared, the caller stores the tickets (``store``), then
        saves its changes and sends its notices, then calls ``announce``.
        """
        tickets = self.store()
        self.changes.save()
        notify_all(self.notices)
        self.notices.clear()
        self.announce(tickets)
        return tickets

    def store(self) -> list[Ticket]:
        """The new tickets and their events, in one INSERT each."""
        tickets, events = self._new, self._events
        self._new, self._events = [], []
        # Each ticket's id comes back with its mention and department, which name it within the
        # batch (one live ticket each): no statement apart to take the ids first.
        stamp_new(Ticket, tickets)
        written = insert_rows(
            Ticket, TICKET_FIELDS, [_TICKET_ROW(vars(ticket)) for ticket in tickets],
            returning=("mention_id", "department_id", "id"),
        )  # fmt: skip
        ids = {(mention_id, department_id): pk for mention_id, department_id, pk in written}
        for ticket in tickets:
            ticket.pk = ids[(ticket.mention_id, ticket.department_id)]
            ticket._state.adding, ticket._state.db = False, Ticket.objects.db  # as bulk_create leaves them
        insert_rows(TicketEvent, EVENT_FIELDS, ((ticket.pk, *row) for ticket, *row in events))
        return tickets

    def announce(
        self, tickets: Sequence[Ticket], *, endpoints: Mapping[int, list[WebhookEndpoint]] | None = None
    ) -> None:
        """``ticket.opened`` to the brands' webhooks, once the tickets are stored; ``endpoints``:
        the brands' (``endpoints_by_brand``), when the caller read them already."""
        # Each payload built only if an endpoint wants it (``webhook_events``).
        events = [
            (WebhookEvent.TICKET_OPENED, t.mention.brand, lambda t=t: {"ticket": ticket_data(t)}) for t in tickets
        ]
        webhook_events(events, endpoints=endpoints)


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


@transaction.atomic
def ticket_withdraw(*, ticket: Ticket, actor: AbstractBaseUser | None) -> Ticket:
    """Take back a ticket opened by mistake (the inbox's Undo), while its department has not taken
    it up: still open, unassigned, with nothing in its timeline but its opening.

    The ticket is closed, not deleted: its number was announced (notification, e-mail, Slack,
    webhook), so it stays, with the withdrawal in its history; the department is told, and the
    brand's webhooks get ``ticket.withdrawn``. One
    the department has already taken up stays theirs: the refusal says so.
    """
    current = _locked(ticket)
    taken_up = (
        current.status != Status.OPEN
        or current.assignee_id is not None
        or current.events.exclude(kind__in=[TicketEvent.Kind.CREATED, TicketEvent.Kind.BREACH]).exists()
    )
    if taken_up:
        raise TicketError(
            _("Ticket #%(id)s was already taken up by %(department)s: it stays with them.")
            % {"id": current.pk, "department": current.department.name}
        )
    current.status = Status.CLOSED
    current.closed_at = timezone.now()
    current.save(update_fields=["status", "closed_at", "updated_at"])
    TicketEvent.objects.create(
        ticket=current,
        actor=actor,
        kind=TicketEvent.Kind.STATUS,
        from_status=Status.OPEN,
        to_status=Status.CLOSED,
        body=_("Withdrawn: sent to this department by mistake."),
    )
    notify(
        users=department_members(current.department),
        verb="ticket_withdrawn",
        message=gettext_lazy("Ticket #%(id)s was withdrawn: it was sent to %(department)s by mistake."),
        params={"id": current.pk, "department": current.department.name},
        url=ticket_url(current),
    )
    # A receiver that took in ``ticket.opened`` (a helpdesk, a CRM) must hear it was taken back.
    webhook_event(event=WebhookEvent.TICKET_WITHDRAWN, brand=current.brand, data={"ticket": ticket_data(current)})
    ticket.refresh_from_db()
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


# --- The SLA clock that pages show ---------------------------------------------------------------
@dataclass(frozen=True)
class SlaClock:
    """The deadline a live ticket is running against now, and how it stands."""

    deadline: str  # "acknowledge" or "resolve"
    due_at: datetime
    state: str  # "ok", "soon" or "overdue"
    remaining: timedelta  # negative once overdue


# "Due soon" once less than this share of the time allowed is left: the last 15 minutes of an
# hour, the last hour of four; a fixed number of minutes would be too late for long SLAs.
DUE_SOON_SHARE = 0.25


def ticket_sla_clock(ticket: Ticket, now: datetime | None = None) -> SlaClock | None:
    """The acknowledge deadline until the ticket is acknowledged, then the resolve deadline;
    None once it is resolved or closed, or when its department has no SLA for its priority."""
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return None
    now = now or timezone.now()
    if ticket.acknowledged_at is None and ticket.acknowledge_due_at is not None:
        deadline, due_at, breached = "acknowledge", ticket.acknowledge_due_at, ticket.acknowledge_breached_at
    elif ticket.resolve_due_at is not None:
        deadline, due_at, breached = "resolve", ticket.resolve_due_at, ticket.resolve_breached_at
    else:
        return None
    remaining = due_at - now
    allowed = due_at - ticket.created_at
    # The sweep's stamp counts too: a deadline moved later by hand does not un-miss it.
    if breached is not None or remaining <= timedelta(0):
        state = "overdue"
    elif remaining <= allowed * DUE_SOON_SHARE:
        state = "soon"
    else:
        state = "ok"
    return SlaClock(deadline=deadline, due_at=due_at, state=state, remaining=remaining)
