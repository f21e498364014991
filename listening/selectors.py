"""Reads for the listening app. Every read that crosses brands goes through ``brands_for_user``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from listening.models import Brand, Channel, Mention, Platform, SavedView, Sentiment, TrackedTerm
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

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> MentionFilters:
        """Filters from a query string (the inbox URL, the API, an export link).

        Unknown choices are dropped rather than rejected: a stale shared link still opens.
        ``since``/``until`` take dates (until inclusive, as people read a range) or datetimes.
        """

        def choice(name: str, allowed: list[str]) -> str:
            value = (params.get(name) or "").strip()
            return value if value in allowed else ""

        def number(name: str) -> int | None:
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        assignee = (params.get("assignee") or "").strip()
        term = (params.get("term") or "").strip()
        return cls(
            brand=number("brand"),
            channel=number("channel"),
            platform=choice("platform", Platform.values),
            sentiment=choice("sentiment", Sentiment.values),
            status=choice("status", Mention.Status.values),
            language=(params.get("language") or "").strip()[:8],
            assignee=assignee if assignee in ("me", "none") or assignee.isdigit() else "",
            term=term if term.isdigit() or term in TrackedTerm.Kind.values else "",
            q=(params.get("q") or "").strip()[:200],
            since=_parse_bound(params.get("since") or "", end=False),
            until=_parse_bound(params.get("until") or "", end=True),
        )


def _parse_bound(value: str, *, end: bool) -> datetime | None:
    """A date ("2026-11-25") or a datetime; an end date includes the whole day."""
    value = value.strip()
    if not value:
        return None
    if value == "today":  # relative, so a saved view "Competitors today" stays today's
        value = timezone.localdate().isoformat()
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                return None
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def mentions_filtered(*, user: AbstractBaseUser, filters: MentionFilters) -> QuerySet[Mention]:
    """The user's visible mentions narrowed by ``filters``, newest first (published_at, id)."""
    # The brand ids as values, not a subquery: with ``brand_id = 7`` PostgreSQL walks the inbox
    # index (brand, -published_at, -id) and stops after one page; a semi-join sorts every row.
    brand_ids = list(brands_for_user(user).values_list("id", flat=True))
    if filters.brand:
        brand_ids = [pk for pk in brand_ids if pk == filters.brand]
    qs = Mention.objects.filter(brand_id__in=brand_ids)
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


class MentionTextVector(Func):
    """to_tsvector('simple', text): the very expression of the GIN index mention_text_fts_idx.

    Django's SearchVector wraps the column in COALESCE, which the index does not cover; this
    spelling matches the index so PostgreSQL uses it. 'simple' because mentions come in many
    languages and no one language's stemming fits them all.
    """

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("text"))


def mentions_matching_text(qs: QuerySet[Mention], q: str) -> QuerySet[Mention]:
    """Text search: every word must appear in the text.

    PostgreSQL: full-text search through the GIN index (whole words, any case). Elsewhere (the
    embedded SQLite) a substring match on text, title and author handle.
    """
    words = q.split()[:10]
    if not words:
        return qs
    if connection.vendor == "postgresql":
        query = SearchQuery(" ".join(words), config="simple", search_type="plain")
        return qs.alias(text_vector=MentionTextVector()).filter(text_vector=query)
    for word in words:
        qs = qs.filter(Q(text__icontains=word) | Q(title__icontains=word) | Q(author__handle__icontains=word))
    return qs


# --- The inbox: keyset pages over (published_at, id) ---------------------------------------------
INBOX_PAGE_SIZE = 50


def encode_cursor(mention: Mention) -> str:
    """An opaque position in the newest-first order; no OFFSET, so page 1,000 costs what page 1 does."""
    raw = f"{mention.published_at.isoformat()}|{mention.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, pk = raw.partition("|")
        moment = datetime.fromisoformat(stamp)
        return (moment, int(pk)) if timezone.is_aware(moment) else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def mentions_older_than(qs: QuerySet[Mention], cursor: str) -> QuerySet[Mention]:
    position = decode_cursor(cursor)
    if position is None:
        return qs
    moment, pk = position
    return qs.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))


def mentions_newer_than(qs: QuerySet[Mention], cursor: str) -> QuerySet[Mention]:
    """Rows above the cursor; with no cursor (an empty list was shown) every row is new."""
    position = decode_cursor(cursor)
    if position is None:
        return qs
    moment, pk = position
    return qs.filter(Q(published_at__gt=moment) | Q(published_at=moment, pk__gt=pk))


def inbox_rows(qs: QuerySet[Mention]) -> QuerySet[Mention]:
    """Everything a row shows, in a fixed number of queries whatever the page size."""
    return qs.select_related("author", "channel", "assignee").prefetch_related("terms")


@dataclass
class InboxPage:
    mentions: list[Mention]
    next_cursor: str  # empty on the last page
    top_cursor: str  # the newest row shown: "N new mentions" counts what is newer


def inbox_page(
    *, user: AbstractBaseUser, filters: MentionFilters, after: str = "", size: int = INBOX_PAGE_SIZE
) -> InboxPage:
    """One page of the inbox, starting after the opaque cursor ``after`` (empty: the newest)."""
    qs = mentions_filtered(user=user, filters=filters)
    if after:
        qs = mentions_older_than(qs, after)
    rows = list(inbox_rows(qs)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return InboxPage(
        mentions=rows,
        next_cursor=encode_cursor(rows[-1]) if more else "",
        top_cursor=encode_cursor(rows[0]) if rows else "",
    )


NEW_MENTIONS_CAP = 100


def inbox_new_count(*, user: AbstractBaseUser, filters: MentionFilters, top: str) -> int:
    """How many mentions matching ``filters`` arrived after the row at ``top`` (capped: "99+")."""
    qs = mentions_newer_than(mentions_filtered(user=user, filters=filters), top)
    return qs[:NEW_MENTIONS_CAP].count()


def inbox_newer_rows(*, user: AbstractBaseUser, filters: MentionFilters, top: str) -> list[Mention]:
    """The new rows just above ``top``, newest first. When more than the cap arrived, the ones
    nearest the top come first, so the list never has a hole; the counter shows the rest."""
    qs = mentions_newer_than(mentions_filtered(user=user, filters=filters), top)
    rows = list(inbox_rows(qs.order_by("published_at", "id"))[:NEW_MENTIONS_CAP])
    return rows[::-1]


def saved_views_for_user(user: AbstractBaseUser) -> QuerySet[SavedView]:
    """The user's own views and the ones shared in their brands."""
    return SavedView.objects.filter(Q(user=user) | Q(shared=True, brand__in=brands_for_user(user))).distinct()
