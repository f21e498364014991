"""Rows written as one array per column (``config.bulk.unnest_rows``): upserts with rows back store
every text as it was given (and ``bulk_set`` writes them back as they are), refuse what an INSERT
refuses with the same errors, and on PostgreSQL send one parameter per column however many rows a
page holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError, connection, models, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from config.bulk import ARRAY_CHUNK, NUL_REFUSED, _array_of_texts, bulk_set, insert_rows
from listening.ingest import AUTHOR_FIELDS
from listening.models import Author

pytestmark = pytest.mark.django_db

# Pieces an array literal gives a meaning to, and text a careless quoting mangles or reads as NULL.
HOSTILE = ["NULL", "null", "", " ", " x ", "{", "}", "{}", ",", '"', '\\"', "\\", "\\\\", "'", '{"a",NULL}', "\t", "\n"]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from([*HOSTILE, "\r\n", "😡", "é", "\u202b", "%s", "%(x)s", "$1"]),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    ),
    max_size=6,
).map("".join)
COLUMNS = ("platform", "external_id", *AUTHOR_FIELDS, "is_internal", "created_at", "updated_at")
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _rows(profiles: list[tuple[str, str, int, bool]], platform: str = "x") -> list[tuple[Any, ...]]:
    return [
        (platform, f"p{i}", handle, name, followers, verified, handle, name, False, T0, T0 + timedelta(seconds=i))
        for i, (handle, name, followers, verified) in enumerate(profiles)
    ]


def _stored(platform: str = "x") -> dict[str, tuple[Any, ...]]:
    return {
        row[0]: row[1:]
        for row in Author.objects.filter(platform=platform).values_list("external_id", *AUTHOR_FIELDS, "updated_at")
    }


profile = st.tuples(hostile_text, hostile_text, st.integers(0, 2**63 - 1), st.booleans())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(profile, min_size=1, max_size=6), then=st.lists(profile, min_size=1, max_size=6))
@example(first=[(h, h, 0, False) for h in HOSTILE], then=[("NULL", "", 2**63 - 1, True)])
def test_hostile_rows_upserted_and_set_come_back_as_they_were_given(
    first: list[tuple[str, str, int, bool]], then: list[tuple[str, str, int, bool]]
) -> None:
    # Each example in a savepoint of its own, undone after it.
    with transaction.atomic():
        rows = _rows(first)
        ids = dict(
            insert_rows(
                Author, COLUMNS, rows, returning=("external_id", "id"), conflict=("platform", "external_id"), update=()
            )
        )
        assert set(ids) == {row[1] for row in rows}
        assert _stored() == {row[1]: (*row[2:8], row[10]) for row in rows}
        # The same people again, with other profiles: their rows are updated, not added.
        again = _rows(then)
        ids_again = dict(
            insert_rows(
                Author,
                COLUMNS,
                again,
                returning=("external_id", "id"),
                conflict=("platform", "external_id"),
                update=(*AUTHOR_FIELDS, "updated_at"),
            )
        )
        assert all(ids_again[key] == ids[key] for key in ids_again.keys() & ids.keys())
        expected = {row[1]: (*row[2:8], row[10]) for row in rows} | {row[1]: (*row[2:8], row[10]) for row in again}
        assert _stored() == expected
        # And written back as they are in memory, the texts of one row swapped with another's.
        authors = list(Author.objects.filter(platform="x").order_by("external_id"))
        texts = [(a.handle, a.name) for a in authors]
        for author, (handle, name) in zip(authors, [*texts[1:], texts[0]], strict=True):
            author.handle, author.name, author.profile_url = name, handle, handle
        assert bulk_set(Author, authors, ["handle", "name", "profile_url", "verified", "followers"]) == len(authors)
        stored = (
            Author.objects.filter(platform="x").order_by("external_id").values_list("handle", "name", "profile_url")
        )
        assert list(stored) == [(a.handle, a.name, a.profile_url) for a in authors]
        transaction.set_rollback(True)


@pytest.mark.postgres  # the array literal is PostgreSQL's
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.none() | hostile_text, max_size=8))
@example(texts=[None, "NULL", "", '"', "\\", " a ", "{b,c}"])
@example(texts=[None, None])
def test_an_array_of_texts_reads_back_as_the_texts_and_nulls_it_was_made_of(texts: list[str | None]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [_array_of_texts(texts)])
        assert cursor.fetchone()[0] == texts


@contextmanager
def _statements() -> Iterator[list[tuple[str, int]]]:
    """The statements sent meanwhile, each with its number of parameters."""
    sent: list[tuple[str, int]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


@pytest.mark.postgres  # the arrays are PostgreSQL's; SQLite is given a VALUES list
@pytest.mark.parametrize("n", [1, 3, 1200])
def test_a_page_upserted_is_sent_as_one_parameter_per_column_whatever_its_rows(n: int) -> None:
    rows = _rows([(f"h{i}", "Name", i, i % 2 == 0) for i in range(n)])
    with _statements() as sent:
        insert_rows(
            Author,
            COLUMNS,
            rows,
            returning=("external_id", "id"),
            conflict=("platform", "external_id"),
            update=AUTHOR_FIELDS,
        )
    assert [params for _sql, params in sent] == [len(COLUMNS)]
    assert Author.objects.filter(platform="x").count() == n


@pytest.mark.postgres  # the arrays are PostgreSQL's
def test_an_import_larger_than_a_statement_holds_is_written_in_several() -> None:
    rows = _rows([(f"h{i}", "", 0, False) for i in range(ARRAY_CHUNK + 1)])
    with _statements() as sent:
        ids = insert_rows(Author, COLUMNS, rows, returning=("external_id", "id"), conflict=("platform", "external_id"))
    assert [params for _sql, params in sent] == [len(COLUMNS)] * 2
    assert len(ids) == len(rows) == Author.objects.filter(platform="x").count()


@pytest.mark.postgres  # the refusals are PostgreSQL's and psycopg2's
def test_what_the_database_refuses_as_arrays_raises_what_it_raises_in_a_values_list() -> None:
    def upsert(handle: str = "ok", followers: int = 0) -> None:
        with transaction.atomic():
            insert_rows(
                Author,
                COLUMNS,
                _rows([("ok", "ok", 0, False), (handle, "ok", followers, False)]),
                returning=("id",),
                conflict=("platform", "external_id"),
                update=AUTHOR_FIELDS,
            )

    # Too long for the column: refused, never cut to fit (the pipeline sets that item aside, and
    # records the first line of the message as the reason).
    with pytest.raises(DataError, match=r"^value too long for type character varying\(255\)$"):
        upsert(handle="a" * 256)
    with pytest.raises(DataError, match=r"^bigint out of range$"):
        upsert(followers=2**63)
    with pytest.raises(DataError, match=r"^bigint out of range$"):
        upsert(followers=2**70)
    with pytest.raises(ValueError, match=re.escape(NUL_REFUSED)):
        upsert(handle="a\x00b")
    with pytest.raises(UnicodeEncodeError) as refused:  # a lone surrogate, as psycopg2 refuses it
        upsert(handle="a\ud800b")
    assert refused.value.start == 1  # its place in the value, as psycopg2 tells it
    assert not Author.objects.filter(platform="x").exists()
    upsert(handle="a" * 255, followers=2**63 - 1)
    assert Author.objects.get(platform="x", external_id="p1").handle == "a" * 255


@pytest.mark.postgres  # the arrays are PostgreSQL's
def test_values_of_another_kind_than_the_columns_go_as_a_values_list_as_before() -> None:
    # A Decimal in a whole-number column is given to the driver as it was and rounded by the
    # column, as a VALUES list has it; as an array of whole numbers it would be refused.
    rows = [("x", "p0", "h", "n", Decimal("5.5"), False, "", "", False, T0, T0)]
    with _statements() as sent:
        insert_rows(Author, COLUMNS, rows, returning=("id",), conflict=("platform", "external_id"), update=("name",))
    assert [params for _sql, params in sent] == [len(COLUMNS)]
    assert "VALUES" in sent[0][0]
    assert Author.objects.get(platform="x").followers == 6


@pytest.mark.postgres  # the arrays and COPY are PostgreSQL's ways; SQLite is given VALUES lists
def test_a_columns_way_of_writing_is_worked_out_once_not_for_every_page(monkeypatch):
    # What a column's values take (their type, what writes them) depends on the field alone: a
    # page after the first asks no column for its database type again, upserted or copied.
    def page(platform: str) -> None:
        rows = _rows([(f"h{i}", "Name", i, i % 2 == 0) for i in range(3)], platform=platform)
        insert_rows(Author, COLUMNS, rows, returning=("id",), conflict=("platform", "external_id"), update=("name",))
        insert_rows(Author, COLUMNS, [("copied-" + platform, *row[1:]) for row in rows])

    page("x")
    asked: list[str] = []
    db_type = models.Field.db_type

    def counted(field: models.Field, connection: Any) -> Any:
        asked.append(field.name)
        return db_type(field, connection)

    monkeypatch.setattr(models.Field, "db_type", counted)
    page("instagram")
    assert asked == []
    assert Author.objects.filter(platform__in=["instagram", "copied-instagram"]).count() == 6
