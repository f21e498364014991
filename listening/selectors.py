"""Reads for the listening app. Every read that crosses brands goes through ``brands_for_user``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from listening.models import Brand, Channel, Mention, TrackedTerm
from listening.roles import ADMIN


def user_sees_all_brands(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Superusers and members of the Admin role see every brand."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=ADMIN).exists()


def brands_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    """The brands a user may see: the ones they are a member of, or all for admins."""
    if not user.is_authenticated:
        return Brand.objects.none()
    if user_sees_all_brands(user):
        return Brand.objects.all()
    return Brand.objects.filter(memberships__user=user)


def channels_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Channel]:
    return Channel.objects.filter(brand__in=brands_for_user(user))


def mentions_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Mention]:
    return Mention.objects.filter(brand__in=brands_for_user(user))


@dataclass(frozen=True)
class MentionFilters:
    """The filters the inbox, the API and the CSV export share. Empty values mean "any".

    ``assignee`` is "me", "none" or a user id; ``term`` a TrackedTerm id or a kind
    ("competitor" = any competitor); ``since``/``until`` bound ``published_at`` (until exclusive).
    """

    brand: int | None = None
    channel: int | None = None
    platform: str = ""
    sentiment: str = ""
    status: str = ""
    language: str = ""
    assignee: str = ""
    term: str = ""
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None


def mentions_filtered(*, user: AbstractBaseUser, filters: MentionFilters) -> QuerySet[Mention]:
    """The user's visible mentions narrowed by ``filters``, newest first (published_at, id)."""
    qs = mentions_for_user(user)
    if filters.brand:
        qs = qs.filter(brand_id=filters.brand)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.platform:
        qs = qs.filter(channel__platform=filters.platform)
    if filters.sentiment:
        qs = qs.filter(sentiment=filters.sentiment)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.term.isdigit():
        qs = qs.filter(terms__id=int(filters.term))
    elif filters.term in TrackedTerm.Kind.values:
        # EXISTS rather than a join, so a mention matching two competitors is listed once.
        qs = qs.filter(
            Exists(Mention.terms.through.objects.filter(mention_id=OuterRef("pk"), trackedterm__kind=filters.term))
        )
    if filters.since:
        qs = qs.filter(published_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(published_at__lt=filters.until)
    if filters.q:
        qs = mentions_matching_text(qs, filters.q)
    return qs.order_by("-published_at", "-id")


def mentions_matching_text(qs: QuerySet[Mention], q: str) -> QuerySet[Mention]:
    """Text search: every word must appear in the text, title or author (case-insensitive)."""
    for word in q.split()[:10]:
        qs = qs.filter(Q(text__icontains=word) | Q(title__icontains=word) | Q(author__handle__icontains=word))
    return qs
