"""Private calendar subscriptions: a secret address per person that a team calendar (Google,
Outlook, Apple) subscribes to, serving without a sign-in the iCalendar of the posts of the brands
that person may see. Only the token's SHA-256 is stored; the address is shown once, when made.
Resetting makes a new one (the old stops working), revoking deletes it; a person deactivated or
without the permission to read posts gets nothing from it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from publishing.models import CalendarFeed


def _feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user: AbstractBaseUser) -> str:
    """Give ``user`` a new secret subscription token (the old address stops working); returns the
    token, which is not kept and cannot be shown again."""
    if not user.has_perm("publishing.view_post"):
        raise PermissionDenied
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": _feed_digest(token), "created_at": timezone.now(), "last_used_at": None}
    )
    return token


def calendar_feed_revoke(*, user: AbstractBaseUser) -> bool:
    """Stop ``user``'s subscription address from working; False when they had none."""
    return CalendarFeed.objects.filter(user=user).delete()[0] > 0


def calendar_feed_user(token: str) -> AbstractBaseUser | None:
    """The active person a subscription token belongs to, if they still may read posts."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=_feed_digest(token)).first()
    if feed is None or not feed.user.is_active or not feed.user.has_perm("publishing.view_post"):
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user
