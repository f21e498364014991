"""Instagram's hashtag budget: an account may look up 30 distinct hashtags in any rolling 7 days.

"Once you query a hashtag, it will count against this limit for 7 days. Subsequent queries on the
same hashtag within this time frame will not count against your limit"
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-hashtag-search).
A hashtag's id never changes, so Escucha looks each one up once per account (``HashtagSearch``) and
reads its media by id from then on: only a hashtag never looked up before takes a slot.

The budget is kept per Instagram account, across the channels that read it. A hashtag a channel
follows but no poll has looked up yet holds a slot too, so saving settings never promises a
look-up the next poll could not make. A new hashtag beyond the budget is refused when the settings
are saved, and a poll never looks one up beyond it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.locks import cache_lock
from listening.models import Channel, HashtagSearch, Platform

WEEKLY_HASHTAGS = 30
WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class HashtagBudget:
    used: int  # distinct hashtags looked up in the last 7 days
    limit: int
    frees_at: datetime | None  # when the oldest of them stops counting


def hashtag_budget(*, ig_user_id: str, now: datetime | None = None) -> HashtagBudget:
    now = now or timezone.now()
    window = HashtagSearch.objects.filter(ig_user_id=ig_user_id, searched_at__gt=now - WINDOW)
    oldest = window.order_by("searched_at").values_list("searched_at", flat=True).first()
    return HashtagBudget(used=window.count(), limit=WEEKLY_HASHTAGS, frees_at=oldest + WINDOW if oldest else None)


def hashtags_known(*, ig_user_id: str, names: list[str]) -> dict[str, str]:
    """The hashtags of ``names`` this account looked up before, with their ids ("" for none)."""
    rows = HashtagSearch.objects.filter(ig_user_id=ig_user_id, name__in=names)
    return dict(rows.values_list("name", "hashtag_id"))


def _needing_slot(*, ig_user_id: str, names: set[str], now: datetime) -> set[str]:
    """The hashtags of ``names`` whose look-up would count: never looked up, or looked up and not
    found (a campaign's hashtag before its first post) more than 7 days ago. One found is never
    looked up again; one not found is looked up again for free within its 7 days."""
    rows = HashtagSearch.objects.filter(ig_user_id=ig_user_id, name__in=names)
    free = {
        name
        for name, hashtag_id, searched_at in rows.values_list("name", "hashtag_id", "searched_at")
        if hashtag_id or searched_at > now - WINDOW
    }
    return names - free


def _pending(*, ig_user_id: str, exclude: Channel | None) -> set[str]:
    """The hashtags other channels of this account follow that no poll has looked up yet."""
    channels = Channel.objects.filter(platform=Platform.INSTAGRAM, is_active=True, settings__ig_user_id=ig_user_id)
    if exclude is not None and exclude.pk is not None:
        channels = channels.exclude(pk=exclude.pk)
    followed = {
        str(name) for settings in channels.values_list("settings", flat=True) for name in settings.get("hashtags") or []
    }
    return _needing_slot(ig_user_id=ig_user_id, names=followed, now=timezone.now())


def hashtags_refusal(*, ig_user_id: str, names: list[str], channel: Channel | None) -> str:
    """Why ``names`` cannot all be followed on this account (a message for the person saving them),
    or "" when the budget has room for the ones never looked up."""
    if not names:
        return ""
    new = _needing_slot(ig_user_id=ig_user_id, names=set(names), now=timezone.now())
    if not new:
        return ""
    budget = hashtag_budget(ig_user_id=ig_user_id)
    pending = _pending(ig_user_id=ig_user_id, exclude=channel) - new
    room = budget.limit - budget.used - len(pending)
    if len(new) <= room:
        return ""
    refused = ", ".join(f"#{name}" for name in sorted(new))
    message = ngettext(
        "Instagram lets an account look up %(limit)d new hashtags in any 7 days; %(used)d are taken, "
        "so %(refused)s cannot be followed yet (%(count)d new hashtag).",
        "Instagram lets an account look up %(limit)d new hashtags in any 7 days; %(used)d are taken, "
        "so %(refused)s cannot be followed yet (%(count)d new hashtags).",
        len(new),
    ) % {"limit": budget.limit, "used": budget.used + len(pending), "refused": refused, "count": len(new)}
    if budget.frees_at is not None:
        when = formats.date_format(timezone.localtime(budget.frees_at), "DATETIME_FORMAT")
        message += " " + _("The next slot frees up on %(when)s") % {"when": when}
    else:
        message += " " + _("The slots free up 7 days after the hashtags already followed are first read.")
    return message


def hashtag_may_search(*, ig_user_id: str, name: str) -> bool:
    """Whether a poll may look ``name`` up now: only within the budget, never past it."""
    if not _needing_slot(ig_user_id=ig_user_id, names={name}, now=timezone.now()):
        return True
    budget = hashtag_budget(ig_user_id=ig_user_id)
    return budget.used < budget.limit


# Longer than a look-up takes (the Graph request's timeout); one whose holder died frees itself.
SLOT_LOCK_SECONDS = 120


@contextmanager
def hashtag_slot(*, ig_user_id: str, name: str) -> Iterator[bool | None]:
    """Whether a poll may look ``name`` up now (``hashtag_may_search``), held until the look-up is
    recorded (``hashtag_searched``) so that two channels of one account polling at once cannot both
    take the last slot; None while another poll of the account holds it (try on the next poll)."""
    with cache_lock(f"listening:hashtag-slot:{ig_user_id}", SLOT_LOCK_SECONDS) as held:
        yield hashtag_may_search(ig_user_id=ig_user_id, name=name) if held else None


def hashtag_searched(*, ig_user_id: str, name: str, hashtag_id: str) -> None:
    """Record a look-up Instagram answered, the moment it is made: a poll that fails later must not
    make the budget forget it. A look-up again within the 7 days keeps its first time, as Instagram's
    count does; one after them counts from now."""
    now = timezone.now()
    try:
        with transaction.atomic():
            HashtagSearch.objects.create(ig_user_id=ig_user_id, name=name, hashtag_id=hashtag_id, searched_at=now)
            return
    except IntegrityError:  # looked up before, by this channel or another of the account
        pass
    rows = HashtagSearch.objects.filter(ig_user_id=ig_user_id, name=name)
    rows.filter(searched_at__lte=now - WINDOW).update(searched_at=now)
    rows.update(hashtag_id=hashtag_id)
