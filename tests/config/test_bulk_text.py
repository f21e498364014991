"""The text ``config.bulk`` sends for a page (COPY's rows, array literals) is what preparing each
value on its own, as an INSERT does, gives: byte for byte, and the same refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, models
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from config.bulk import NULL, _array_of_texts, _array_writer, copy_data, copy_text
from listening.models import Mention
from tests.config.test_bulk import HOSTILE, hostile_text, instants, json_values

pytestmark = pytest.mark.postgres  # COPY and array literals are PostgreSQL's

COLUMNS = ("text", "status", "analysis", "tags", "published_at", "fetched_at", "checked_at", "sentiment_score")
# What the JSON columns were written with, one value at a time: the field's encoder, no spaces.
ENCODE = json.JSONEncoder(separators=(",", ":")).encode
FIELDS = [Mention._meta.get_field(name) for name in COLUMNS]


def one_by_one(column: models.Field, value: Any) -> str:
    """COPY text of one value, prepared on its own."""
    if isinstance(column, models.JSONField):
        return NULL if value is None else copy_text(ENCODE(value))
    return copy_text(column.get_db_prep_save(value, connection))


def outcome(make: Callable[[], Any]) -> Any:
    """What ``make`` gives, or the error it raises (kind and words)."""
    try:
        return make()
    except (ValueError, TypeError) as error:
        return type(error), str(error)


texts = st.one_of(hostile_text, st.sampled_from(["a\x00b", "\ud800", "😀\udfff"]))  # NUL, lone surrogates
json_or_none = st.none() | json_values.filter(lambda value: isinstance(value, dict | list))
statuses = st.sampled_from([*Mention.Status, "new", "\\N"])  # choices, and texts a status column may hold
at = datetime(2026, 1, 1, tzinfo=UTC)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            texts, statuses, json_or_none, json_or_none, instants, st.just(at) | instants,
            st.none() | instants, st.none() | st.floats(),
        ),
        min_size=1,
        max_size=6,
    )
)  # fmt: skip
@example(rows=[("\\N\t\n\r\\", Mention.Status.NEW, {"\\": ["\t", "😀"]}, [], at, at, None, 0.5)] * 3)
@example(rows=[(h, Mention.Status.OPEN, {h: h}, [h], at, at, at + timedelta(hours=1), None) for h in HOSTILE])
def test_a_pages_copy_text_is_each_value_prepared_on_its_own(rows: list[tuple[Any, ...]]) -> None:
    def expected() -> bytes:
        lines = ["\t".join(map(one_by_one, FIELDS, row)) for row in rows]
        return ("\n".join(lines) + "\n").encode()

    assert outcome(lambda: copy_data(FIELDS, rows, connection)) == outcome(expected)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(json_or_none, min_size=1, max_size=6))
@example(values=[{"a": [1.5, float("inf"), None, True]}, [], {}, None])
def test_a_json_column_as_an_array_is_each_value_encoded_on_its_own(values: list[Any]) -> None:
    _type, write = _array_writer(Mention._meta.get_field("analysis"), connection)
    expected = _array_of_texts([None if value is None else ENCODE(value) for value in values])
    assert write(values) == expected


def test_a_value_json_cannot_encode_is_refused_and_the_next_column_is_encoded_anew() -> None:
    # The encoder marks the containers it is in to tell a circular value; a value refused midway
    # must not leave its marks to the next column's values.
    looped: list[Any] = []
    looped.append(looped)
    shared = {"a": 1}
    analysis = Mention._meta.get_field("analysis")
    for bad, error in ((looped, "Circular reference"), ({"at": object()}, "not JSON serializable")):
        with pytest.raises((ValueError, TypeError), match=error):
            copy_data([analysis], [({"ok": [shared]},), (bad,)], connection)
    assert copy_data([analysis], [([shared, shared],), ({"b": shared},)], connection) == (
        b'[{"a":1},{"a":1}]\n{"b":{"a":1}}\n'
    )


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.none() | instants | st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=6))
@example(values=[at] * 3)
@example(values=[datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)])
def test_a_column_of_instants_is_each_instant_formatted_on_its_own(values: list[datetime | None]) -> None:
    # In UTC, an instant is written from its day and time of day; elsewhere, or once for a column
    # that holds one instant: the text must be the instant's own ``isoformat`` all the same.
    column = Mention._meta.get_field("checked_at")
    expected = [None if value is None else value.isoformat() for value in values]
    assert (
        copy_data([column], [(value,) for value in values], connection)
        == ("\n".join(NULL if text is None else text for text in expected) + "\n").encode()
    )
    _type, write = _array_writer(column, connection)
    assert write(values) == "{" + ",".join("NULL" if text is None else text for text in expected) + "}"
