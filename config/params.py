"""Strict reading of what people type into a URL, a form, a JSON body or a command line: ids, whole
numbers, decimals, days and moments, and text without NUL.

Every view, API endpoint and command reads these through here, so a value means the same
everywhere and nothing odd reaches the database: digits are ASCII only (``"²".isdigit()`` is true
but ``int("²")`` fails, and ``int("١٢")`` is 12), numbers are range-checked (an id beyond a 64-bit
integer overflows SQLite), and dates stay within years a ``timedelta`` cannot push past Python's
``date`` range (``until=9999-12-31`` plus one day overflows).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

ID_MAX = 2**63 - 1  # the largest BigAutoField value; also the largest integer SQLite stores
INT_MAX = 2**31 - 1  # the largest IntegerField / PositiveIntegerField value
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2999, 12, 31)
EARLIEST_MOMENT = datetime.combine(EARLIEST_DAY, time.min, tzinfo=UTC)
LATEST_MOMENT = datetime.combine(LATEST_DAY, time.max, tzinfo=UTC)


class BadParam(ValueError):
    """A value that does not parse or is out of range; ``str()`` is a message for the person."""


def without_nul(value: str) -> str:
    """``value`` without NUL characters: nobody types them, and PostgreSQL text cannot hold them."""
    return value.replace("\x00", "")


def query_without_nul(data: QueryDict) -> QueryDict:
    """A query string's or form's fields with NUL dropped from names and values (``data`` itself
    when it has none)."""
    if not any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()):
        return data
    clean = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        clean.setlist(without_nul(key), [without_nul(value) for value in values])
    clean._mutable = False
    return clean


def _digits(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        return None
    return text


def parse_int(value: object, *, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """A whole number written in ASCII digits (or an ``int`` from JSON) within [minimum, maximum]."""
    text = _digits(value)
    # Twenty digits are more than any allowed maximum; longer strings are not even converted.
    if text is None or len(text) > 20 or not minimum <= int(text) <= maximum:
        raise BadParam(
            _("Enter a whole number from %(minimum)s to %(maximum)s.") % {"minimum": minimum, "maximum": maximum}
        )
    return int(text)


def parse_id(value: object) -> int:
    """An object's id: ASCII digits, 1 to ``ID_MAX``."""
    text = _digits(value)
    if text is None or len(text) > 19 or not 1 <= int(text) <= ID_MAX:
        raise BadParam(_("Must be a whole number (an id)."))
    return int(text)


def id_or_none(value: object) -> int | None:
    """``parse_id`` for lenient readers (links in the browser): None when missing or not an id."""
    try:
        return parse_id(value)
    except BadParam:
        return None


def ids(values: Iterable[object]) -> list[int]:
    """The ids among ``values`` (a form's checkboxes), leaving out whatever is not one."""
    return [pk for pk in map(id_or_none, values) if pk is not None]


def parse_decimal(value: object, *, minimum: float, maximum: float) -> float:
    """A finite decimal number (ASCII, e.g. ``-0.5``) within [minimum, maximum]."""
    message = _("Enter a number between %(minimum)s and %(maximum)s.") % {"minimum": minimum, "maximum": maximum}
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadParam(message)
    text = str(value).strip()
    try:
        number = float(text) if text.isascii() and len(text) <= 40 else math.nan
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and minimum <= number <= maximum):
        raise BadParam(message)
    return number


def _out_of_range() -> BadParam:
    return BadParam(
        _("Use a date between %(earliest)s and %(latest)s.")
        % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}
    )


def _day(text: str, message: str) -> date:
    try:
        # Django's parser reads any Unicode digit; ASCII only keeps one spelling per day.
        day = parse_date(text) if text.isascii() and len(text) == 10 else None
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        day = None
    if day is None:
        raise BadParam(message)
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise _out_of_range()
    return day


def parse_day(value: str) -> date:
    """A calendar day written YYYY-MM-DD, between ``EARLIEST_DAY`` and ``LATEST_DAY``."""
    return _day(value.strip() if isinstance(value, str) else "", _("Dates are written YYYY-MM-DD."))


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """An aware moment from an ISO date-time, or from a date (its start; with ``end_of_day`` the
    next day's start, so an exclusive bound includes the whole day). Naive times are read in the
    current time zone.

    A date is read as a date before trying a date-time: Python 3.11 would read "2026-03-03" as that
    day's midnight, and an ``until`` would leave the whole day out.
    """
    text = value.strip() if isinstance(value, str) else ""
    message = _("Use a date (2026-01-31) or an ISO date-time.")
    if not text.isascii() or len(text) > 40:
        raise BadParam(message)
    if len(text) == 10:
        day = _day(text, message)
        return timezone.make_aware(datetime.combine(day + timedelta(days=1) if end_of_day else day, time.min))
    try:
        moment = parse_datetime(text)
    except ValueError:  # well-formed but impossible: 2026-02-30T10:00, an offset of 99 hours
        moment = None
    if moment is None:
        raise BadParam(message)
    if not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
        raise _out_of_range()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def id_argument(value: str) -> int:
    """``parse_id`` as an ``argparse`` type: a command's ``--channel 12``."""
    try:
        return parse_id(value)
    except BadParam as error:
        raise argparse.ArgumentTypeError(str(error)) from None
