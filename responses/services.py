"""Writes of the responses app that people make from the inbox, the mention page and the rule list.

Tickets (``responses.tickets``), replies (``responses.replies``) and notifications
(``responses.notifications``) have their own modules; this one holds the inbox's bulk actions,
saved views and routing rules' create, update, move, toggle and delete, used by the views, the
forms and the API alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from config import params
from config.cache import CACHE_UNREACHABLE
from config.people import person_name
from listening.models import Brand, Mention, Sentiment
from listening.selectors import MentionFilters, brand_members, brands_for_user, mentions_for_user
from listening.services import (
    mention_assign,
    mention_correct_sentiment,
    mention_set_status,
    mention_withdraw_sentiment_correction,
)
from responses.models import Department, Priority, RoutingRule, SavedReply, SavedView, SlaPolicy, Ticket
from responses.tickets import TicketError, ticket_open, ticket_withdraw

log = logging.getLogger(__name__)

# --- Inbox actions on many mentions ------------------------------------------------------------
BULK_ACTIONS = ("assign", "close", "spam", "sentiment", "department")
BULK_LIMIT = 500


@dataclass(frozen=True)
class MentionState:
    """What an inbox action may change on a mention, before or after it."""

    status: str
    assignee_id: int | None
    sentiment: str
    sentiment_corrected: bool

    @classmethod
    def of(cls, mention: Mention) -> MentionState:
        return cls(
            mention.status, mention.assignee_id, mention.sentiment, mention.sentiment_corrected_by_id is not None
        )


@dataclass
class BulkOutcome:
    """What one inbox action did: the mentions it changed, each one's state before and after, the
    tickets it opened, and whom or where it sent them (for the sentence that answers the action)."""

    action: str
    changed: list[Mention] = field(default_factory=list)
    before: dict[int, MentionState] = field(default_factory=dict)
    after: dict[int, MentionState] = field(default_factory=dict)
    tickets: list[Ticket] = field(default_factory=list)
    assignee: AbstractBaseUser | None = None
    department: Department | None = None
    sentiment: str = ""


@transaction.atomic
def mentions_bulk_update(
    *,
    user: AbstractBaseUser,
    ids: Iterable[int],
    action: str,
    assignee: str = "",
    sentiment: str = "",
    department_id: int | None = None,
    priority: str = "",
    note: str = "",
) -> list[Mention]:
    """Apply one inbox action to the user's mentions among ``ids``; returns the mentions changed.
    ``mentions_bulk_act`` does the work and says more."""
    return mentions_bulk_act(
        user=user,
        ids=ids,
        action=action,
        assignee=assignee,
        sentiment=sentiment,
        department_id=department_id,
        priority=priority,
        note=note,
    ).changed


@transaction.atomic
def mentions_bulk_act(
    *,
    user: AbstractBaseUser,
    ids: Iterable[int],
    action: str,
    assignee: str = "",
    sentiment: str = "",
    department_id: int | None = None,
    priority: str = "",
    note: str = "",
) -> BulkOutcome:
    """Apply one inbox action to the user's mentions among ``ids``.

    Ids of mentions in brands the user does not belong to are ignored, so a forged form cannot
    touch another brand. Every change goes through the ``mention_*`` services (or ``ticket_open``),
    which record who did it and when. ``assignee`` is "me", "none" or a user id of the brand; a
    ticket opened by "department" gets ``priority`` (normal when not given). The
    outcome keeps each changed mention's state before and after, which ``mentions_bulk_undo`` needs.
    """
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Unknown action."))
    outcome = BulkOutcome(action=action)
    wanted = {int(pk) for pk in ids}
    if not wanted:
        return outcome
    if len(wanted) > BULK_LIMIT:
        raise ValidationError(_("Select at most %(limit)s mentions at once."), params={"limit": BULK_LIMIT})
    # Row locks: two agents closing and assigning the same rows at once each see the other's result.
    mentions = list(
        mentions_for_user(user)
        .filter(pk__in=wanted)
        .select_related("assignee")
        .order_by("-published_at", "-id")
        .select_for_update(of=("self",))
    )
    before = {m.pk: MentionState.of(m) for m in mentions}
    if action == "assign":
        outcome.assignee, outcome.changed = _assign(user, mentions, assignee)
    elif action in ("close", "spam"):
        status = Mention.Status.CLOSED if action == "close" else Mention.Status.SPAM
        outcome.changed = [m for m in mentions if mention_set_status(mention=m, status=status, actor=user, note=note)]
    elif action == "sentiment":
        if sentiment not in Sentiment.values:
            raise ValidationError(_("Choose a sentiment."))
        outcome.sentiment = sentiment
        outcome.changed = [m for m in mentions if mention_correct_sentiment(mention=m, label=sentiment, actor=user)]
    elif action == "department":
        outcome.department, outcome.tickets = _send_to_department(user, mentions, department_id, priority, note)
        opened = {ticket.mention_id for ticket in outcome.tickets}
        outcome.changed = [m for m in mentions if m.pk in opened]
    outcome.before = {m.pk: before[m.pk] for m in outcome.changed}
    outcome.after = {m.pk: MentionState.of(m) for m in outcome.changed}
    return outcome


def _assign(
    user: AbstractBaseUser, mentions: list[Mention], assignee: str
) -> tuple[AbstractBaseUser | None, list[Mention]]:
    if assignee in ("", "me"):
        target: AbstractBaseUser | None = user
    elif assignee == "none":
        target = None
    else:
        # Only the people of the user's own brands can be found: anyone else, or an id that is
        # nobody, is the same "does not exist", so the form cannot tell who works elsewhere.
        colleagues = brand_members(brands_for_user(user).values_list("pk", flat=True))
        target = colleagues.filter(pk=params.id_or_none(assignee) or 0).first()
        if target is None:
            raise ValidationError(_("That person does not exist."))
    changed = []
    for mention in mentions:
        # Only someone who works the mention's brand can be given it.
        if target is not None and not brands_for_user(target).filter(pk=mention.brand_id).exists():
            raise ValidationError(_("%(user)s does not work on this brand."), params={"user": target})
        if mention_assign(mention=mention, assignee=target, actor=user):
            changed.append(mention)
    return target, changed


def _send_to_department(
    user: AbstractBaseUser, mentions: list[Mention], department_id: int | None, priority: str, note: str
) -> tuple[Department, list[Ticket]]:
    if department_id is None:
        raise ValidationError(_("Choose a department."))
    priority = priority or Priority.NORMAL
    if priority not in Priority.values:
        raise ValidationError(_("Choose a priority."))
    # Another brand's department is not found, like one that does not exist.
    department = Department.objects.filter(pk=department_id, brand__in=brands_for_user(user)).first()
    if department is None:
        raise ValidationError(_("That department does not exist."))
    opened = []
    for mention in mentions:
        if mention.brand_id != department.brand_id:
            raise ValidationError(_("%(department)s belongs to another brand."), params={"department": department})
        ticket, created = ticket_open(mention=mention, department=department, priority=priority, actor=user, note=note)
        if created:
            opened.append(ticket)
    return department, sorted(opened, key=lambda ticket: ticket.pk)


@dataclass
class UndoOutcome:
    """What an undo did: the mentions put back, the ones left as they were because someone changed
    them since (or their ticket was already taken up), and the tickets withdrawn."""

    restored: list[Mention] = field(default_factory=list)
    kept: list[Mention] = field(default_factory=list)
    withdrawn: list[Ticket] = field(default_factory=list)


@transaction.atomic
def mentions_bulk_undo(
    *,
    user: AbstractBaseUser,
    action: str,
    before: Mapping[int, MentionState],
    after: Mapping[int, MentionState],
    ticket_ids: Iterable[int] = (),
) -> UndoOutcome:
    """Put the mentions an inbox action changed back as they were, through the same ``mention_*``
    services (so the history shows the undo, by whom), and withdraw the tickets it opened.

    A mention someone changed since the action (another status, assignee or sentiment than the
    action left) is kept as it is now: an undo never overwrites a colleague's later work. A ticket
    its department already took up is kept too (``ticket_withdraw`` refuses it), and so its mention.
    """
    note = _("Undone from the inbox")
    outcome = UndoOutcome()
    mentions = (
        mentions_for_user(user)
        .filter(pk__in=list(before))
        .select_related("assignee")
        .order_by("-published_at", "-id")
        .select_for_update(of=("self",))
    )
    tickets = {
        ticket.mention_id: ticket
        for ticket in Ticket.objects.filter(pk__in=list(ticket_ids), mention_id__in=list(before)).select_related(
            "department"
        )
    }
    users = {
        person.pk: person
        for person in get_user_model().objects.filter(pk__in={s.assignee_id for s in before.values() if s.assignee_id})
    }
    for mention in mentions:
        was, left = before[mention.pk], after.get(mention.pk)
        if MentionState.of(mention) != left:
            outcome.kept.append(mention)
            continue
        if action == "department":
            ticket = tickets.get(mention.pk)
            if ticket is None:
                outcome.kept.append(mention)
                continue
            try:
                ticket_withdraw(ticket=ticket, actor=user)
            except TicketError:
                outcome.kept.append(mention)
                continue
            outcome.withdrawn.append(ticket)
        if action == "assign":
            mention_assign(mention=mention, assignee=users.get(was.assignee_id), actor=user, note=note)
        if action == "sentiment":
            if was.sentiment_corrected:
                mention_correct_sentiment(mention=mention, label=was.sentiment, actor=user)
            else:
                mention_withdraw_sentiment_correction(mention=mention, actor=user, note=note)
        # Assigning opens a new mention, routing makes it routed: the status goes back in every case.
        mention_set_status(mention=mention, status=was.status, actor=user, note=note)
        outcome.restored.append(mention)
    outcome.withdrawn.sort(key=lambda ticket: ticket.pk)
    return outcome


# --- Saved views ----------------------------------------------------------------------------------
def saved_view_create(*, user: AbstractBaseUser, name: str, query: str, shared: bool = False) -> SavedView:
    """Save inbox filters (a clean query string) under a name, for oneself or shared with the brand.

    A view belongs to the brand it filters on, or to the user's only brand; only a view with a
    brand can be shared. It goes last in the user's list. Raises ValidationError for a missing or
    repeated name.
    """
    name = _view_name(name)
    brands = brands_for_user(user)
    brand_id = MentionFilters.from_params(QueryDict(query)).brand
    brand = brands.filter(pk=brand_id).first() if brand_id else (brands.first() if brands.count() == 1 else None)
    last = SavedView.objects.filter(user=user).order_by("-position").values_list("position", flat=True).first()
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                user=user,
                brand=brand,
                name=name,
                query=query,
                shared=shared and brand is not None,
                position=0 if last is None else last + 1,
            )
    except IntegrityError as error:
        raise ValidationError({"name": _("You already have a view with that name.")}) from error


def _view_name(name: str) -> str:
    name = name.strip()[:120]
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    return name


def saved_view_update(*, view: SavedView, name: str, shared: bool) -> SavedView:
    """Rename a view and share it with its brand or stop sharing it (only a view with a brand can be
    shared: a view over several brands would show colleagues filters of brands they may not see)."""
    view.name = _view_name(name)
    if shared and view.brand_id is None:
        raise ValidationError(
            {"shared": _("This view filters on several brands: choose a brand in its filters to share it.")}
        )
    view.shared = shared
    try:
        with transaction.atomic():
            view.save(update_fields=["name", "shared"])
    except IntegrityError as error:
        raise ValidationError({"name": _("You already have a view with that name.")}) from error
    return view


@transaction.atomic
def saved_view_move(*, view: SavedView, direction: str) -> None:
    """Swap one of a user's views with its neighbour ("up" or "down"); positions are renumbered."""
    ordered = list(
        SavedView.objects.select_for_update().filter(user_id=view.user_id).order_by("position", "name", "id")
    )
    index = next(i for i, v in enumerate(ordered) if v.pk == view.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        if item.position != position:
            SavedView.objects.filter(pk=item.pk).update(position=position)


def saved_view_delete(*, view: SavedView) -> None:
    view.delete()


# --- Saved replies ----------------------------------------------------------------------------------
def saved_reply_save(*, saved_reply: SavedReply, created_by: AbstractBaseUser | None = None) -> SavedReply:
    """Store a saved reply a form has cleaned; a shortcut the brand already has is a field error."""
    if saved_reply.pk is None:
        saved_reply.created_by = created_by
    try:
        with transaction.atomic():
            saved_reply.save()
    except IntegrityError as error:
        raise ValidationError({"shortcut": _("This brand already has a saved reply with that shortcut.")}) from error
    return saved_reply


def saved_reply_delete(*, saved_reply: SavedReply) -> None:
    saved_reply.delete()


# --- Routing rules --------------------------------------------------------------------------------
@transaction.atomic
def routing_rule_create(*, brand: Brand, created_by: AbstractBaseUser | None, **fields: Any) -> RoutingRule:
    """A new rule for ``brand``, last in its order unless ``position`` is given.

    ``conditions`` and ``actions`` must have been through ``responses.rules.clean_rule``.
    """
    if fields.get("position") is None:
        # Locking the brand's rules keeps two rules created at once from taking the same place.
        positions = RoutingRule.objects.select_for_update().filter(brand=brand).values_list("position", flat=True)
        last = max(positions, default=None)
        fields["position"] = 0 if last is None else last + 1
    return RoutingRule.objects.create(brand=brand, created_by=created_by, **fields)


def routing_rule_update(*, rule: RoutingRule, **fields: Any) -> RoutingRule:
    """Change a rule; ``conditions`` and ``actions`` must have been through ``clean_rule``."""
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_move(*, rule: RoutingRule, direction: str) -> None:
    """Swap a rule with its neighbour ("up" or "down"); positions are renumbered so gaps and ties disappear."""
    ordered = list(RoutingRule.objects.select_for_update().filter(brand_id=rule.brand_id).order_by("position", "id"))
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        if item.position != position:
            RoutingRule.objects.filter(pk=item.pk).update(position=position)


def routing_rule_toggle(*, rule: RoutingRule) -> RoutingRule:
    """Pause an active rule or switch a paused one back on."""
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active", "updated_at"])
    return rule


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


# --- Departments ------------------------------------------------------------------------------------
@transaction.atomic
def department_sla_policies_set(*, department: Department, policies: Iterable[dict[str, Any]]) -> list[SlaPolicy]:
    """The policies given (one per priority) are the department's from now on; a priority left out
    has no SLA. Tickets opened from now on get their deadlines from these; open ones keep theirs."""
    kept = [
        SlaPolicy.objects.update_or_create(
            department=department,
            priority=policy["priority"],
            defaults={
                "acknowledge_minutes": policy["acknowledge_minutes"],
                "resolve_minutes": policy["resolve_minutes"],
            },
        )[0]
        for policy in policies
    ]
    department.sla_policies.exclude(pk__in=[policy.pk for policy in kept]).delete()
    return kept


# --- Who else has a mention open ---------------------------------------------------------------------
PRESENCE_SECONDS = 30  # a viewer who stopped pinging (every ~10 s) disappears after this


def mention_presence_touch(*, mention_id: int, user: AbstractBaseUser) -> list[str]:
    """Record that ``user`` has the mention open; the names of the others who have it open."""
    # One cache entry per mention: two pings at the same instant may drop one viewer until their
    # next ping (10 s), which is good enough for "who else is here" and needs no lock.
    # Presence lives only in the cache: while it is unreachable nobody is shown, and the page works.
    key = f"presence:mention:{mention_id}"
    now = time.time()
    try:
        viewers = {uid: seen for uid, seen in (cache.get(key) or {}).items() if now - seen[1] < PRESENCE_SECONDS}
        viewers[user.pk] = (person_name(user), now)
        cache.set(key, viewers, PRESENCE_SECONDS)
    except CACHE_UNREACHABLE as error:
        log.warning("Presence on mention %s not known: the cache is unreachable (%s)", mention_id, error)
        return []
    return sorted(name for uid, (name, _) in viewers.items() if uid != user.pk)
