"""Reads for the responses app: who sees which mentions and tickets, the inbox, the mention and
author pages, ticket queues and timelines, and what a routing rule would have matched."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from config.pagination import Page, decode_cursor, encode_cursor, keyset_page_or_first, newer_than, older_than
from listening.models import Author, Mention, Sentiment, TrackedTerm
from listening.selectors import MentionFilters, brands_for_user, mentions_filtered, mentions_for_user
from responses.models import Department, Notification, Reply, RoutingRule, SavedReply, SavedView, Ticket, TicketEvent
from responses.routing import compile_rule


def tickets_for_user(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Department staff see their departments' tickets; roles with manage_all_tickets see their brands'."""
    if not user.is_authenticated:
        return Ticket.objects.none()
    if user.has_perm("responses.manage_all_tickets"):
        return Ticket.objects.filter(brand__in=brands_for_user(user))
    return Ticket.objects.filter(department__members=user)


def departments_for_user(user: AbstractBaseUser) -> QuerySet[Department]:
    """The departments whose queues a user may open (the filter on the ticket list)."""
    if not user.is_authenticated:
        return Department.objects.none()
    if user.has_perm("responses.manage_all_tickets"):
        return Department.objects.filter(brand__in=brands_for_user(user))
    return Department.objects.filter(members=user)


def rules_for_user(user: AbstractBaseUser) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(brand__in=brands_for_user(user))


QUEUE_TABS = ("unassigned", "mine", "all")
PAGE_SIZE = 50


def ticket_queue(
    *, user: AbstractBaseUser, tab: str, department: int | None = None, status: str = "", after: str = ""
) -> tuple[list[Ticket], str]:
    """One page of a ticket queue, newest first, keyset-paginated on (created_at, id).

    Returns the tickets and the cursor of the next page ("" on the last page). Without a
    status filter the queue holds the live tickets (not closed).
    """
    qs = tickets_for_user(user)
    if department:
        qs = qs.filter(department_id=department)
    if status in Ticket.Status.values:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Ticket.Status.CLOSED)
    if tab == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif tab == "mine":
        qs = qs.filter(assignee=user)
    page = keyset_page_or_first(
        qs.select_related("department", "assignee", "mention__author", "mention__channel"),
        after=after,
        size=PAGE_SIZE,
        field="created_at",
    )
    return page.rows, page.next_cursor


def ready_for_follow_up(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Resolved tickets whose customer has not had the public answer yet, newest resolution first."""
    return (
        tickets_for_user(user)
        .filter(status=Ticket.Status.RESOLVED, followed_up_at__isnull=True)
        .select_related("department", "mention__author", "mention__channel")
        .order_by("-resolved_at", "-id")
    )


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # "mention", "conversation", "reply", or a TicketEvent kind
    obj: Any


def ticket_timeline(ticket: Ticket) -> list[TimelineItem]:
    """What happened to a ticket in time order: our public replies and its events. The
    conversation itself is drawn above it by the same component as on the mention page."""
    mention = ticket.mention
    items: list[TimelineItem] = []
    replies = Reply.objects.filter(mention=mention).select_related("author")
    items += [TimelineItem(r.sent_at or r.created_at, "reply", r) for r in replies]
    # The ticket's "reply" event records the follow-up for the history; the reply itself is shown.
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind=TicketEvent.Kind.REPLY).select_related("actor")
    items += [TimelineItem(e.created_at, e.kind, e) for e in events]
    return sorted(items, key=lambda item: item.at)


LIVE_TICKET_STATUSES = (
    Ticket.Status.OPEN,
    Ticket.Status.ACKNOWLEDGED,
    Ticket.Status.IN_PROGRESS,
    Ticket.Status.WAITING,
)


def mention_case(*, user: AbstractBaseUser, mention: Mention) -> list[Ticket]:
    """The mention's tickets the user may see for the case panel: live ones first, then the
    newest; each with what the panel shows (department, assignee)."""
    tickets = (
        tickets_for_user(user)
        .filter(mention=mention)
        .select_related("department", "assignee")
        .order_by("-created_at", "-id")
    )
    return sorted(tickets, key=lambda t: t.status not in LIVE_TICKET_STATUSES)


# --- Live pages: a version that changes whenever what the page shows changes ----------------------
def _digest(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def _conversation_parts(mention: Mention) -> tuple[object, ...]:
    """Our replies with their delivery state, and the public thread around the mention."""
    replies = list(Reply.objects.filter(mention_id=mention.pk).order_by("id").values_list("id", "status", "error"))
    around = [mention.external_id] + ([mention.parent_external_id] if mention.parent_external_id else [])
    thread_filter = Q(channel_id=mention.channel_id, parent_external_id__in=around)
    if mention.parent_external_id:
        thread_filter |= Q(channel_id=mention.channel_id, external_id=mention.parent_external_id)
    thread = Mention.objects.filter(thread_filter).aggregate(n=Count("id"), last=Max("id"))
    return replies, thread["n"], thread["last"]


def _tickets_parts(tickets: QuerySet[Ticket]) -> list[tuple[object, ...]]:
    # updated_at moves on every save; the SLA sweep stamps breaches with an UPDATE, so those count
    # too; the last event catches notes.
    return list(
        tickets.annotate(last_event=Max("events__id"))
        .order_by("id")
        .values_list(
            "id", "status", "assignee_id", "updated_at", "acknowledge_breached_at", "resolve_breached_at", "last_event"
        )
    )


def mention_live_version(mention: Mention) -> str:
    """Changes when the mention page's live parts would: the mention's status, assignee and
    history, our replies and their delivery, its tickets, the conversation around it."""
    row = (
        Mention.objects.filter(pk=mention.pk)
        .annotate(last_event=Max("events__id"))
        .values_list("status", "assignee_id", "sentiment", "intent", "last_event")
        .first()
    )
    return _digest(row, _conversation_parts(mention), _tickets_parts(Ticket.objects.filter(mention_id=mention.pk)))


def ticket_live_version(ticket: Ticket) -> str:
    """Changes when the ticket page would: the ticket and its events, replies, the conversation."""
    return _digest(_tickets_parts(Ticket.objects.filter(pk=ticket.pk)), _conversation_parts(ticket.mention))


def unread_notifications(user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)


def tickets_for_author(*, user: AbstractBaseUser, author_id: int) -> QuerySet[Ticket]:
    """Every ticket about one author's mentions that ``user`` may see (the author page)."""
    return (
        tickets_for_user(user)
        .filter(mention__author_id=author_id)
        .select_related("department", "mention")
        .order_by("-created_at", "-id")
    )


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
    visible = mentions_visible_to(user).filter(author=author)
    # Listed as the inbox lists its rows: without the channel's credentials to decrypt or the JSON
    # columns to decode, for each of the ten.
    earlier = visible.select_related("channel").defer(*INBOX_ROW_UNREAD).order_by("-published_at", "-id")
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude.pk)
    since = timezone.now() - timedelta(days=REPEAT_COMPLAINER_DAYS)
    # Counted up to a cap: an author with thousands of complaints costs the same as one with a hundred.
    negative = visible.filter(sentiment=Sentiment.NEGATIVE, published_at__gte=since)[:NEGATIVE_COUNT_CAP].count()
    tickets = tickets_for_author(user=user, author_id=author.pk)[:AUTHOR_PANEL_LIMIT]
    return AuthorSummary(
        earlier_mentions=list(earlier[:AUTHOR_PANEL_LIMIT]),
        tickets=list(tickets),
        negative_recent=negative,
        repeat_complainer=negative >= REPEAT_COMPLAINER_MIN_NEGATIVE,
        influencer=author.followers >= INFLUENCER_MIN_FOLLOWERS,
    )


AUTHOR_PAGE_SIZE = 25


def author_mentions_page(*, user: AbstractBaseUser, author: Author, after: str = "") -> Page[Mention]:
    """Everything an author said to the user's brands that the user may see, newest first."""
    mentions = mentions_visible_to(user).filter(author=author).select_related("channel", "brand")
    return keyset_page_or_first(mentions, after=after, size=AUTHOR_PAGE_SIZE)


def authors_visible_to(user: AbstractBaseUser) -> QuerySet[Author]:
    """Authors with at least one mention the user may open: another brand's author is not found."""
    return Author.objects.filter(Exists(mentions_visible_to(user).filter(author_id=OuterRef("pk"))))


# --- The inbox: keyset pages over (published_at, id) ---------------------------------------------
INBOX_PAGE_SIZE = 50


def _position(cursor: str) -> tuple[datetime, int] | None:
    return decode_cursor(cursor) if cursor else None


def inbox_rows(qs: QuerySet[Mention]) -> QuerySet[Mention]:
    """Everything a row shows, in a fixed number of queries whatever the page size."""
    # Each row's SLA comes from its live tickets (one query for the page).
    live = Ticket.objects.filter(status__in=LIVE_TICKET_STATUSES).order_by("created_at", "id")
    return (
        qs.select_related("author", "channel", "assignee")
        .only(*INBOX_ROW_FIELDS)
        .prefetch_related("terms", Prefetch("tickets", queryset=live, to_attr="live_tickets"))
    )


# What a list of mentions never shows (the author panel's), left in the database: each JSON column
# is decoded for every row read, and the channel's credentials decrypted (the same channel each time).
INBOX_ROW_UNREAD = (
    "analysis",
    "tags",
    "metrics",
    "routing_log",
    "channel__settings",
    "channel__credentials",
    "channel__cursor",
    "channel__rejected_items",
    "channel__last_error",
)


# What a row reads (``responses.templatetags.inbox_rows``), and nothing else: each column read is
# converted and stored on fifty objects, and a team member's row carries their password hash.
# The published moment and the id are the page's cursors.
INBOX_ROW_FIELDS = (
    "brand_id",
    "channel_id",
    "author_id",
    "assignee_id",
    "text",
    "title",
    "url",
    "language",
    "sentiment",
    "intent",
    "status",
    "moderation",
    "erased_reason",
    "published_at",
    *(f"author__{field}" for field in ("handle", "name", "followers", "verified", "profile_url")),
    *(f"channel__{field}" for field in ("brand_id", "name", "platform")),
    *(f"assignee__{field}" for field in ("username", "first_name", "last_name")),
)


# The inbox's queues. "Open" is what still needs someone (new and open); replied, routed, closed
# and spam mentions have left it. Unassigned and Mine are parts of it; All is everything.
INBOX_TABS = ("open", "unassigned", "mine", "all")
QUEUE_STATUSES = (Mention.Status.NEW, Mention.Status.OPEN)
# A tab's count stops here ("999+"): a capped count reads at most this many index entries, so it
# costs the same on a brand with a million mentions as on one with a thousand.
TAB_COUNT_CAP = 1000


def inbox_tab(query: Mapping[str, str]) -> str:
    """The tab a query string asks for. Without one the inbox opens on Open, unless the query
    filters on a status (an older saved view, "closed" …), which the Open tab would hide."""
    tab = query.get("tab", "")
    if tab in INBOX_TABS:
        return tab
    return "all" if query.get("status") else "open"


def mentions_in_tab(qs: QuerySet[Mention], *, tab: str, user: AbstractBaseUser) -> QuerySet[Mention]:
    if tab == "all":
        return qs
    # The statuses as a literal list: it is the predicate of the partial queue indexes.
    qs = qs.filter(status__in=list(QUEUE_STATUSES))
    if tab == "unassigned":
        return qs.filter(assignee__isnull=True)
    if tab == "mine":
        return qs.filter(assignee=user)
    return qs


def inbox_mentions(*, user: AbstractBaseUser, filters: MentionFilters, tab: str = "all") -> QuerySet[Mention]:
    """The inbox's mentions: the user's, narrowed by the filters and the tab, newest first."""
    return mentions_in_tab(mentions_filtered(user=user, filters=filters), tab=tab, user=user)


def inbox_tab_counts(*, user: AbstractBaseUser, brand: int | None = None) -> dict[str, int]:
    """How many mentions each tab holds, up to ``TAB_COUNT_CAP``: the size of each queue in the
    user's brands (or the one brand), not of the current filters, so every count is one bounded
    read of an index (mention_open_queue_idx, mention_unassigned_queue_idx, mention_assignee_idx,
    mention_inbox_idx) whatever the filters are."""
    base = mentions_filtered(user=user, filters=MentionFilters(brand=brand)).order_by()
    counts = capped_counts([mentions_in_tab(base, tab=tab, user=user) for tab in INBOX_TABS], cap=TAB_COUNT_CAP)
    return dict(zip(INBOX_TABS, counts, strict=True))


def capped_counts(querysets: list[QuerySet], *, cap: int) -> list[int]:
    """``qs[:cap].count()`` of each queryset, in one round trip: every inbox page shows four
    counts, and on a busy database each query's round trip costs more than the count itself.
    Each count stays a subquery of its own, so each still reads only its own index range."""
    parts = []
    for qs in querysets:
        try:
            parts.append(qs[:cap].values("pk").query.get_compiler(using=qs.db).as_sql())
        except EmptyResultSet:  # ``brand_id IN ()``: a user with no brand
            parts.append(("SELECT 1 WHERE 1 = 0", ()))
    if not parts:
        return []
    # The ORM's own SQL, its values left as parameters.
    counts = (f"(SELECT COUNT(*) FROM ({part}) AS capped_{i})" for i, (part, _) in enumerate(parts))  # noqa: S608
    sql = "SELECT " + ", ".join(counts)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute(sql, [param for _, params in parts for param in params])
        return list(cursor.fetchone())


@dataclass
class InboxPage:
    mentions: list[Mention]
    next_cursor: str  # empty on the last page
    top_cursor: str  # the newest row shown: "N new mentions" counts what is newer


def inbox_page(
    *, user: AbstractBaseUser, filters: MentionFilters, tab: str = "all", after: str = "", size: int = INBOX_PAGE_SIZE
) -> InboxPage:
    """One page of the inbox, starting after the opaque cursor ``after`` (empty: the newest)."""
    # A mangled link shows the newest page rather than an error.
    qs = inbox_rows(inbox_mentions(user=user, filters=filters, tab=tab))
    page = keyset_page_or_first(qs, after=after, size=size)
    rows = page.rows
    return InboxPage(mentions=rows, next_cursor=page.next_cursor, top_cursor=encode_cursor(rows[0]) if rows else "")


NEW_MENTIONS_CAP = 100


def inbox_new_count(*, user: AbstractBaseUser, filters: MentionFilters, top: str, tab: str = "all") -> int:
    """How many mentions matching ``filters`` arrived after the row at ``top`` (capped: "99+")."""
    qs = inbox_mentions(user=user, filters=filters, tab=tab)
    if position := _position(top):
        qs = newer_than(qs, position)
    return qs[:NEW_MENTIONS_CAP].count()


def inbox_newer_rows(*, user: AbstractBaseUser, filters: MentionFilters, top: str, tab: str = "all") -> list[Mention]:
    """The new rows just above ``top``, newest first. When more than the cap arrived, the ones
    nearest the top come first, so the list never has a hole; the counter shows the rest."""
    qs = inbox_mentions(user=user, filters=filters, tab=tab)
    if position := _position(top):
        qs = newer_than(qs, position)
    rows = list(inbox_rows(qs.order_by("published_at", "id"))[:NEW_MENTIONS_CAP])
    return rows[::-1]


def saved_views_for_user(user: AbstractBaseUser) -> QuerySet[SavedView]:
    """The user's own views in their order, then the ones colleagues shared in their brands."""
    return (
        SavedView.objects.filter(Q(user=user) | Q(shared=True, brand__in=brands_for_user(user)))
        .annotate(foreign=Case(When(user=user, then=Value(0)), default=Value(1)))
        .select_related("user", "brand")
        .order_by("foreign", "position", "name", "id")
        .distinct()
    )


def saved_replies_for_mention(mention: Mention) -> QuerySet[SavedReply]:
    """The saved replies the composer offers: the brand's, in the mention's language or in every
    language (all of them when the mention's language is unknown)."""
    qs = SavedReply.objects.filter(brand_id=mention.brand_id)
    if mention.language:
        qs = qs.filter(Q(language="") | Q(language=mention.language))
    return qs.order_by("shortcut")


def saved_replies_for_user(user: AbstractBaseUser) -> QuerySet[SavedReply]:
    """The saved replies of the user's brands, by brand then shortcut."""
    return (
        SavedReply.objects.filter(brand__in=brands_for_user(user))
        .select_related("brand")
        .order_by("brand__name", "shortcut")
    )


# --- What a routing rule would have matched ----------------------------------------------------------
@dataclass
class Preview:
    count: int
    scanned: int
    examples: list[Mention]


def _prefilter(qs: QuerySet[Mention], rule: RoutingRule) -> QuerySet[Mention]:
    """Narrow in SQL what ``match=all`` makes certain; the predicates still decide."""
    if rule.match != RoutingRule.Match.ALL:
        return qs
    for condition in rule.conditions:
        field_name, op, value = condition["field"], condition["op"], condition["value"]
        if field_name == "platform" and op == "in":
            qs = qs.filter(channel__platform__in=value)
        elif field_name == "channel" and op == "in":
            qs = qs.filter(channel_id__in=value)
        elif field_name == "language" and op == "in":
            qs = qs.filter(language__in=value)
        elif field_name == "sentiment":
            lookup = "sentiment_score__gt" if op == "above" else "sentiment_score__lt"
            qs = qs.filter(**{lookup: value})
        elif field_name == "kind" and op == "in":
            qs = qs.filter(kind__in=value)
    return qs


def rule_preview(*, rule: RoutingRule, days: int = 30, examples: int = 5, batch_size: int = 1000) -> Preview:
    """How many of the brand's mentions of the last ``days`` the rule would have matched.

    ``rule`` may be unsaved (the form's preview). Walks the mentions newest first in keyset
    batches, so memory stays flat on a large brand; the examples are the newest matches.
    """
    compiled = compile_rule(rule)
    since = timezone.now() - timedelta(days=days)
    base = _prefilter(Mention.objects.filter(brand_id=rule.brand_id, published_at__gte=since), rule)
    base = base.select_related("author", "channel").prefetch_related(
        Prefetch("terms", queryset=TrackedTerm.objects.only("id", "kind"))
    )
    count = scanned = 0
    found: list[Mention] = []
    cursor: tuple[datetime, int] | None = None
    while True:
        # Keyset on (published_at, id), the order of the brand's inbox index.
        qs = base if cursor is None else older_than(base, cursor)
        batch = list(qs.order_by("-published_at", "-id")[:batch_size])
        if not batch:
            break
        for mention in batch:
            if compiled.matches(mention):
                count += 1
                if len(found) < examples:
                    found.append(mention)
        scanned += len(batch)
        cursor = (batch[-1].published_at, batch[-1].pk)
    return Preview(count=count, scanned=scanned, examples=found)
