"""Writes in the listening app that span several rows or models."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from listening import actions
from listening.models import Mention, Sentiment
from listening.selectors import brands_for_user, mentions_for_user

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
    touch another brand. Every change goes through ``listening.actions`` (or ``open_ticket``),
    which records who did it and when. ``assignee`` is "me", "none" or a user id of the brand.
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
        changed = [m for m in mentions if actions.set_status(m, status, user, note=note)]
    elif action == "sentiment":
        if sentiment not in Sentiment.values:
            raise ValidationError(_("Choose a sentiment."))
        changed = [m for m in mentions if actions.correct_sentiment(m, sentiment, user)]
    elif action == "department":
        changed = _send_to_department(user, mentions, department_id, note)
    return changed


def _assign(user: AbstractBaseUser, mentions: list[Mention], assignee: str) -> list[Mention]:
    if assignee in ("", "me"):
        target: AbstractBaseUser | None = user
    elif assignee == "none":
        target = None
    elif assignee.isdigit():
        target = get_user_model().objects.filter(pk=int(assignee)).first()
        if target is None:
            raise ValidationError(_("That person does not exist."))
    else:
        raise ValidationError(_("Choose who to assign to."))
    changed = []
    for mention in mentions:
        # Only someone who works the mention's brand can be given it.
        if target is not None and not brands_for_user(target).filter(pk=mention.brand_id).exists():
            raise ValidationError(_("%(user)s does not work on this brand."), params={"user": target})
        if actions.assign(mention, target, user):
            changed.append(mention)
    return changed


def _send_to_department(
    user: AbstractBaseUser, mentions: list[Mention], department_id: int | None, note: str
) -> list[Mention]:
    from responses.models import Department
    from responses.tickets import open_ticket

    department = Department.objects.filter(pk=department_id).first() if department_id else None
    if department is None:
        raise ValidationError(_("Choose a department."))
    changed = []
    for mention in mentions:
        if mention.brand_id != department.brand_id:
            raise ValidationError(_("%(department)s belongs to another brand."), params={"department": department})
        _ticket, created = open_ticket(mention, department, actor=user, note=note)
        if created:
            changed.append(mention)
    return changed
