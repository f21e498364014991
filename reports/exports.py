"""Streamed CSV: the report's tables and the mentions behind an inbox filter."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch

from listening.models import Mention, TrackedTerm
from listening.selectors import MentionFilters, mentions_filtered
from responses.models import Ticket

# A spreadsheet runs a cell that starts with one of these as a formula: CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000
MENTION_HEADERS = [
    "id", "published_at", "platform", "channel", "author", "text", "url", "language", "sentiment",
    "analyzer_sentiment", "intent", "analyzer_intent", "terms", "status", "assignee", "ticket_id", "ticket_status", "author_handle",
]  # fmt: skip


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if value is None:
        return ""
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text for a streamed download: UTF-8 with a byte-order mark, which is how Excel knows
    the file is UTF-8 (without it, accents and emoji come out garbled); every cell defused."""
    yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(v if isinstance(v, int | float | type(None)) else str(v)) for v in row])


def mention_rows(*, user: AbstractBaseUser, filters: MentionFilters) -> Iterator[list[object]]:
    """One row per mention, newest first, read in keyset chunks on (published_at, id).

    Keyset rather than OFFSET, so the millionth row costs what the first did; each chunk is one
    query plus two prefetches (terms, tickets), never one per mention.
    """
    yield MENTION_HEADERS
    base = (
        mentions_filtered(user=user, filters=filters)
        .select_related("channel", "author", "assignee")
        .prefetch_related(
            Prefetch("terms", queryset=TrackedTerm.objects.only("id", "text", "group")),
            Prefetch("tickets", queryset=Ticket.objects.only("id", "status", "mention_id").order_by("-created_at")),
        )
    )
    last = None
    while True:
        chunk = base
        if last is not None:
            published_at, pk = last
            chunk = chunk.filter(published_at__lte=published_at).exclude(published_at=published_at, pk__gte=pk)
        mentions: list[Mention] = list(chunk[:CHUNK])
        for m in mentions:
            ticket = m.tickets.all()[0] if m.tickets.all() else None
            yield [
                m.pk,
                m.published_at.isoformat(),
                m.channel.platform,
                m.channel.name,
                m.author.name or m.author.handle or m.author.external_id,
                m.text,
                m.url,
                m.language,
                m.sentiment,
                m.analyzer_sentiment,
                m.intent,
                m.analyzer_intent,
                "; ".join(sorted(t.label for t in m.terms.all())),
                m.status,
                m.assignee.get_username() if m.assignee else "",
                ticket.pk if ticket else "",
                ticket.status if ticket else "",
                m.author.handle,
            ]
        if len(mentions) < CHUNK:
            return
        last = (mentions[-1].published_at, mentions[-1].pk)
