"""Writes of the responses app that people make from the inbox, the mention page and the rule list.

Tickets (``responses.tickets``), replies (``responses.replies``) and notifications
(``responses.notifications``) have their own modules; this one holds the inbox's bulk actions,
saved views and routing rules' create, update, move, toggle and delete, used by the views, the
forms and the API alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from config import params
from config.people import person_name
from listening.models import Brand, Mention, Sentiment
from listening.selectors import MentionFilters, brand_members, brands_for_user, mentions_for_user
from listening.services import mention_assign, mention_correct_sentiment, mention_set_status
from responses.models import Department, RoutingRule, SavedView, SlaPolicy
from responses.tickets import ticket_open

# --- Inbox actions on many mentions ------------------------------------------------------------
BULK_ACTIONS = ("assign", "close", "spam", "sentiment", "department")
BULK_LIMIT = 500


@transaction.atomic
def mentions_bulk_update(
    *,
    user: AbstractBaseUser,
    ids: Iterable[int],
    action: str,
    assignee: str = "",
    sentiment: str = "",
    department_id: int | None = None,
    note: str = "",
) -> list[Mention]:
    """Apply one inbox action to the user's mentions among ``ids``; returns the mentions changed.

    Ids of mentions in brands the user does not belong to are ignored, so a forged form cannot
    touch another brand. Every change goes through the ``mention_*`` services (or ``ticket_open``),
    which record who did it and when. ``assignee`` is "me", "none" or a user id of the brand.
    """
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Unknown action."))
    wanted = {int(pk) for pk in ids}
    if not wanted:
        return []
    if len(wanted) > BULK_LIMIT:
        raise ValidationError(_("Select at most %(limit)s mentions at once."), params={"limit": BULK_LIMIT})
    # Row locks: two agents closing and assigning the same rows at once each see the other's result.
    mentions = list(
        mentions_for_user(user).filter(pk__in=wanted).select_related("assignee").select_for_update(of=("self",))
    )
    changed: list[Mention] = []
    if action == "assign":
        changed = _assign(user, mentions, assignee)
    elif action in ("close", "spam"):
        status = Mention.Status.CLOSED if action == "close" else Mention.Status.SPAM
        changed = [m for m in mentions if mention_set_status(mention=m, status=status, actor=user, note=note)]
    elif action == "sentiment":
        if sentiment not in Sentiment.values:
            raise ValidationError(_("Choose a sentiment."))
        changed = [m for m in mentions if mention_correct_sentiment(mention=m, label=sentiment, actor=user)]
    elif action == "department":
        changed = _send_to_department(user, mentions, department_id, note)
    return changed


def _assign(user: AbstractBaseUser, mentions: list[Mention], assignee: str) -> list[Mention]:
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
    return changed


def _send_to_department(
    user: AbstractBaseUser, mentions: list[Mention], department_id: int | None, note: str
) -> list[Mention]:
    if department_id is None:
        raise ValidationError(_("Choose a department."))
    # Another brand's department is not found, like one that does not exist.
    department = Department.objects.filter(pk=department_id, brand__in=brands_for_user(user)).first()
    if department is None:
        raise ValidationError(_("That department does not exist."))
    changed = []
    for mention in mentions:
        if mention.brand_id != department.brand_id:
            raise ValidationError(_("%(department)s belongs to another brand."), params={"department": department})
        _ticket, created = ticket_open(mention=mention, department=department, actor=user, note=note)
        if created:
            changed.append(mention)
    return changed


# --- Saved views ----------------------------------------------------------------------------------
def saved_view_create(*, user: AbstractBaseUser, name: str, query: str, shared: bool = False) -> SavedView:
    """Save inbox filters (a clean query string) under a name, for oneself or shared with the brand.

    A view belongs to the brand it filters on, or to the user's only brand; only a view with a
    brand can be shared. Raises ValidationError for a missing or repeated name.
    """
    name = name.strip()[:120]
    if not name:
        raise ValidationError(_("Give the view a name."))
    brands = brands_for_user(user)
    brand_id = MentionFilters.from_params(QueryDict(query)).brand
    brand = brands.filter(pk=brand_id).first() if brand_id else (brands.first() if brands.count() == 1 else None)
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                user=user, brand=brand, name=name, query=query, shared=shared and brand is not None
            )
    except IntegrityError as error:
        raise ValidationError(_("You already have a view with that name.")) from error


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
    key = f"presence:mention:{mention_id}"
    now = time.time()
    viewers = {uid: seen for uid, seen in (cache.get(key) or {}).items() if now - seen[1] < PRESENCE_SECONDS}
    viewers[user.pk] = (person_name(user), now)
    cache.set(key, viewers, PRESENCE_SECONDS)
    return sorted(name for uid, (name, _) in viewers.items() if uid != user.pk)
