"""Keyset pagination: one helper and one cursor format for every list that pages (mentions, the
inbox, an author's mentions, tickets, the API).

A page is the rows after a position in a newest-first order on (a timestamp, id), never an
OFFSET: page 20,000 costs what page 1 costs, and rows arriving meanwhile neither repeat nor get
skipped. A cursor is the position of a row, opaque to the reader: URL-safe base64 of
"<ISO timestamp>|<id>".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.params import EARLIEST_MOMENT, LATEST_MOMENT, parse_id

M = TypeVar("M", bound=Model)


class BadCursor(ValueError):
    """A cursor that does not decode: a mangled or forged link."""


def encode_cursor(row: Any, field: str = "published_at") -> str:
    """The opaque position of ``row`` in the order on (``field``, id)."""
    raw = f"{getattr(row, field).isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """(timestamp, id) of a cursor, or None when it is not one of ours.

    A forged cursor is read as strictly as a query string: an impossible date (2026-02-30), a year
    a time zone shift would overflow, or an id beyond the database's integers is not a position.
    """
    if not cursor.isascii() or len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        stamp, _sep, pk = raw.partition("|")
        moment = datetime.fromisoformat(stamp)
        if not timezone.is_aware(moment) or not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
            return None
        return moment, parse_id(pk)
    except (ValueError, binascii.Error):
        return None


def older_than(qs: QuerySet[M], position: tuple[datetime, int], field: str = "published_at") -> QuerySet[M]:
    """Rows after ``position`` in the newest-first order."""
    moment, pk = position
    return qs.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk}))


def newer_than(qs: QuerySet[M], position: tuple[datetime, int], field: str = "published_at") -> QuerySet[M]:
    """Rows before ``position`` in the newest-first order (what arrived above it)."""
    moment, pk = position
    return qs.filter(Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk}))


@dataclass
class Page(Generic[M]):
    rows: list[M]
    next_cursor: str  # empty on the last page


def keyset_page(qs: QuerySet[M], *, after: str = "", size: int = 50, field: str = "published_at") -> Page[M]:
    """One page of ``qs``, newest first on (``field``, id), after the cursor ``after``.

    Raises ``BadCursor`` for a cursor that does not decode; the caller decides whether that is a
    400 (the API) or the first page (a stale link in the browser).
    """
    if after:
        position = decode_cursor(after)
        if position is None:
            raise BadCursor(_("This page cursor is not valid; start from the first page."))
        qs = older_than(qs, position, field)
    rows = list(qs.order_by(f"-{field}", "-id")[: size + 1])
    if len(rows) > size:
        return Page(rows[:size], encode_cursor(rows[size - 1], field))
    return Page(rows, "")


def keyset_page_or_first(qs: QuerySet[M], *, after: str = "", size: int = 50, field: str = "published_at") -> Page[M]:
    """``keyset_page``, falling back to the first page on a mangled cursor (links in the browser)."""
    try:
        return keyset_page(qs, after=after, size=size, field=field)
    except BadCursor:
        return keyset_page(qs, size=size, field=field)
