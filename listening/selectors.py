"""Reads for the listening app. Every read that crosses brands goes through ``brands_for_user``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from listening.models import Author, Brand, Channel, Mention, Platform, Sentiment, TrackedTerm
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


def _parse_moment(value: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date-time, or a date (its start; with ``end_of_day`` the next day's start)."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            return None
        moment = datetime.combine(day, time.min)
        if end_of_day:
            moment = moment + timedelta(days=1)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_mention_filters(params: Mapping[str, str]) -> tuple[MentionFilters, dict[str, list[str]]]:
    """Read ``MentionFilters`` from query parameters; (filters, errors by parameter).

    One reader for the inbox's URL, the API and the CSV export, so a link means the same everywhere.
    A date without a time in ``until`` includes that whole day.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}

    def text(name: str) -> str:
        value = params.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    for name in ("brand", "channel"):
        if value := text(name):
            if value.isdigit():
                values[name] = int(value)
            else:
                errors[name] = [_("Must be a whole number (an id).")]
    for name, choices in (
        ("platform", Platform.values),
        ("sentiment", Sentiment.values),
        ("status", Mention.Status.values),
    ):
        if value := text(name):
            if value in choices:
                values[name] = value
            else:
                errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]
    if value := text("assignee"):
        if value in ("me", "none") or value.isdigit():
            values["assignee"] = value
        else:
            errors["assignee"] = [_("Use me, none or a user id.")]
    if value := text("term"):
        if value.isdigit() or value in TrackedTerm.Kind.values:
            values["term"] = value
        else:
            errors["term"] = [
                _("Use a tracked term id or a kind (%(kinds)s).") % {"kinds": ", ".join(TrackedTerm.Kind.values)}
            ]
    if value := text("language"):
        values["language"] = value[:8].lower()
    if value := text("q"):
        values["q"] = value[:200]
    for name in ("since", "until"):
        if value := text(name):
            moment = _parse_moment(value, end_of_day=name == "until")
            if moment is None:
                errors[name] = [_("Use a date (2026-01-31) or an ISO date-time.")]
            else:
                values[name] = moment
    return MentionFilters(**values), errors


def _encode_cursor(mention: Mention) -> str:
    raw = f"{mention.published_at.isoformat()}|{mention.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, _sep, pk_text = raw.partition("|")
        moment = parse_datetime(moment_text)
        if moment is None or not pk_text.isdigit():
            raise ValueError(moment_text)
        return moment, int(pk_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise ValueError(_("This page cursor is not valid; start from the first page.")) from error


def mentions_keyset_page(qs: QuerySet[Mention], *, after: str = "", size: int = 50) -> tuple[list[Mention], str]:
    """One page of ``qs`` (ordered newest first) after the opaque cursor ``after``; (rows, next cursor).

    Keyset on (published_at, id), never OFFSET: page 20,000 costs what page 1 costs, and rows
    arriving meanwhile neither repeat nor get skipped. Raises ValueError on a malformed cursor.
    """
    if after:
        moment, pk = _decode_cursor(after)
        qs = qs.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    rows = list(qs.order_by("-published_at", "-id")[: size + 1])
    if len(rows) > size:
        return rows[:size], _encode_cursor(rows[size - 1])
    return rows, ""


# --- The mention page and the author page ---------------------------------------------------------
# An author with this many negative mentions in REPEAT_COMPLAINER_DAYS is a repeat complainer.
REPEAT_COMPLAINER_MIN_NEGATIVE = 3
REPEAT_COMPLAINER_DAYS = 30
# Followers from which an author counts as an influencer (an opinion leader to answer with care).
INFLUENCER_MIN_FOLLOWERS = 10_000
AUTHOR_PANEL_LIMIT = 10
NEGATIVE_COUNT_CAP = 100


def mentions_visible_to(user: AbstractBaseUser) -> QuerySet[Mention]:
    """Mentions a user may open: their brands' for inbox roles, else only those routed to their departments."""
    if user.has_perm("listening.view_mention"):
        return mentions_for_user(user)
    from responses.models import Ticket

    routed = Ticket.objects.filter(mention_id=OuterRef("pk"), department__members=user)
    return mentions_for_user(user).filter(Exists(routed))


@dataclass(frozen=True)
class AuthorSummary:
    earlier_mentions: list[Mention]
    tickets: list
    negative_recent: int  # at most NEGATIVE_COUNT_CAP
    repeat_complainer: bool
    influencer: bool


def author_summary(*, user: AbstractBaseUser, author: Author, exclude: Mention | None = None) -> AuthorSummary:
    """What the author panel shows: their other mentions and tickets the user may see, and badges."""
    from responses.selectors import tickets_for_user

    visible = mentions_visible_to(user).filter(author=author)
    earlier = visible.select_related("channel").order_by("-published_at", "-id")
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude.pk)
    since = timezone.now() - timedelta(days=REPEAT_COMPLAINER_DAYS)
    # Counted up to a cap: an author with thousands of complaints costs the same as one with a hundred.
    negative = visible.filter(sentiment=Sentiment.NEGATIVE, published_at__gte=since)[:NEGATIVE_COUNT_CAP].count()
    tickets = (
        tickets_for_user(user)
        .filter(mention__author=author)
        .select_related("department")
        .order_by("-created_at", "-id")[:AUTHOR_PANEL_LIMIT]
    )
    return AuthorSummary(
        earlier_mentions=list(earlier[:AUTHOR_PANEL_LIMIT]),
        tickets=list(tickets),
        negative_recent=negative,
        repeat_complainer=negative >= REPEAT_COMPLAINER_MIN_NEGATIVE,
        influencer=author.followers >= INFLUENCER_MIN_FOLLOWERS,
    )


def mention_thread(mention: Mention) -> tuple[Mention | None, list[Mention]]:
    """The post this mention answers (if we have it) and the other answers around it in the channel."""
    parent = mention.parent
    if parent is None and mention.parent_external_id:
        parent = (
            Mention.objects.filter(channel_id=mention.channel_id, external_id=mention.parent_external_id)
            .select_related("author")
            .first()
        )
    around = [mention.external_id] + ([mention.parent_external_id] if mention.parent_external_id else [])
    others = (
        Mention.objects.filter(channel_id=mention.channel_id, parent_external_id__in=around)
        .exclude(pk=mention.pk)
        .select_related("author")
        .order_by("published_at", "id")[:50]
    )
    return parent, list(others)
