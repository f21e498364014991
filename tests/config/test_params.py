"""The one reader of ids, numbers, days and moments, and the keyset cursor it guards."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest
from django.http import QueryDict
from django.utils import translation

from config import params
from config.pagination import decode_cursor


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", ["12", " 12 ", 12])
def test_an_id_is_ascii_digits(value: object) -> None:
    assert params.parse_id(value) == 12


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "\u0661\u0662",
        "\uff11\uff12",
        "0",
        "-1",
        "+1",
        "1_000",
        "1.0",
        "",
        "abc",
        "9" * 19,
        str(2**63),
        "9" * 5000,
        None,
        True,
        1.5,
    ],
)
def test_anything_else_is_not_an_id(value: object) -> None:
    with pytest.raises(params.BadParam, match="Must be a whole number"):
        params.parse_id(value)
    assert params.id_or_none(value) is None


def test_the_largest_id_is_the_largest_64_bit_integer() -> None:
    assert params.parse_id(str(2**63 - 1)) == 2**63 - 1


def test_ids_keeps_only_the_ids() -> None:
    assert params.ids(["3", "²", "x", "4", str(2**64)]) == [3, 4]


def test_whole_numbers_are_range_checked() -> None:
    assert params.parse_int("500", minimum=1, maximum=500) == 500
    for value in ("0", "501", "²", "5e2"):
        with pytest.raises(params.BadParam, match="from 1 to 500"):
            params.parse_int(value, minimum=1, maximum=500)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "\u0660.\u0665", "1.5", "-1.01", True, None, [0.5]])
def test_decimals_are_finite_ascii_and_in_range(value: object) -> None:
    with pytest.raises(params.BadParam):
        params.parse_decimal(value, minimum=-1, maximum=1)


def test_a_decimal_in_range() -> None:
    assert params.parse_decimal("-0.25", minimum=-1, maximum=1) == -0.25
    assert params.parse_decimal(1, minimum=-1, maximum=1) == 1.0


def test_days_are_bounded_so_a_day_more_or_less_cannot_overflow() -> None:
    assert params.parse_day("2026-03-01") == date(2026, 3, 1)
    for value in ("0001-01-03", "9999-12-31", "1969-12-31", "3000-01-01"):
        with pytest.raises(params.BadParam, match="between 1970-01-01 and 2999-12-31"):
            params.parse_day(value)
    for value in ("2026-02-30", "2026-3-1", "\uff12\uff10\uff12\uff16-03-01", "20260301", ""):
        with pytest.raises(params.BadParam, match="YYYY-MM-DD"):
            params.parse_day(value)


def test_moments() -> None:
    assert params.parse_moment("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert params.parse_moment("2026-03-01", end_of_day=True) == datetime(2026, 3, 2, tzinfo=UTC)
    assert params.parse_moment("2026-03-01T10:00:00+02:00") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    for value in ("2026-02-30T10:00:00", "2026-03-01T10:00:00+99:00", "0001-01-01T00:00:00+05:00", "today", "x" * 41):
        with pytest.raises(params.BadParam):
            params.parse_moment(value)


def test_nul_is_dropped_from_names_and_values() -> None:
    clean = params.query_without_nul(QueryDict("q=a%00b&x%00y=1&ids=1&ids=2%00"))
    assert clean["q"] == "ab" and clean["xy"] == "1" and clean.getlist("ids") == ["1", "2"]
    untouched = QueryDict("q=ab")
    assert params.query_without_nul(untouched) is untouched


@pytest.mark.parametrize(
    "raw",
    [
        "2026-02-30T00:00:00+00:00|1",  # no such day
        "2026-01-01T00:00:00+00:00|99999999999999999999999",  # beyond any database integer
        "0001-01-01T00:00:00+05:00|1",  # year 1 in UTC is before year 1
        "9999-12-31T23:59:59-05:00|1",
        "2026-01-01T00:00:00|1",  # naive
        "2026-01-01T00:00:00+00:00|²",
        "2026-01-01T00:00:00+00:00|0",
    ],
)
def test_odd_cursors_are_not_positions(raw: str) -> None:
    assert decode_cursor(cursor_of(raw)) is None


def test_a_real_cursor_and_non_ascii_ones() -> None:
    assert decode_cursor(cursor_of("2026-01-01T00:00:00+00:00|5")) == (datetime(2026, 1, 1, tzinfo=UTC), 5)
    assert decode_cursor("é") is None
    assert decode_cursor("A" * 500) is None
