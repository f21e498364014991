"""Writing many rows' fields at once, for the ingestion pipeline's batches."""

from __future__ import annotations

import functools
import io
import json
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any, TypeVar
from uuid import UUID

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import ModelSignal, post_init, pre_init
from psycopg2.extras import Json  # what Django gives psycopg2 for a JSON value (its Jsonb)

T = TypeVar("T")

CHUNK = 500  # rows per statement: a page of 1,000 is two
# Rows per statement when they travel as arrays (``unnest_rows``): no parameter count to keep
# under, only the size of one literal a huge import would build.
ARRAY_CHUNK = 5000


def bulk_set(model: type[models.Model], objs: Iterable[models.Model], fields: Sequence[str]) -> int:
    """Write each object's ``fields`` as they are in memory, in one UPDATE per ``CHUNK`` rows.

    What ``bulk_update`` does, without its cost: on PostgreSQL the new values travel as a VALUES
    list joined on the primary key, where ``bulk_update`` builds a ``CASE WHEN id = …`` per row
    and field (for a page of 100 mentions, most of the time of writing them). Other databases
    use ``bulk_update``. Returns the number of rows updated. Like ``bulk_update``, it calls no
    ``save()``: an ``auto_now`` field is written only when listed, with the value it holds.
    """
    objs = list(objs)
    if not objs or not fields:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objs, fields, batch_size=CHUNK)
    opts = model._meta
    columns = [opts.pk, *(opts.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    # Each value cast to its column's type: a VALUES list has no types of its own (a JSON value
    # would be text, an id unknown). Without a length (``unbounded_type``): the assignment refuses
    # a text too long, as an UPDATE of that row alone does.
    row = "(" + ", ".join(f"%s::{unbounded_type(column, connection)}" for column in columns) + ")"
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    names = ", ".join(quote(c.column) for c in columns)
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params = [
                column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in chunk for column in columns
            ]
            # Only quoted names and column types are formatted in; every value is a parameter.
            values = ", ".join([row] * len(chunk))
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) WHERE {table}.{pk} = v.{pk}"  # noqa: S608
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def _by_column(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` of a field (and a connection) worked out once for each, not for every statement:
    what a column's values take (its type, whether they are plain, what writes or prepares them)
    depends on nothing else. A page's statements had worked it out again column by column, about
    2 ms of each page's CPU. The connection is this thread's own wrapper, whether it is given as
    ``django.db.connection`` (a proxy) or as ``connections[alias]``."""
    cached = functools.lru_cache(maxsize=1024)(function)

    @functools.wraps(function)
    def call(column: models.Field, *connection: Any) -> T:
        return cached(
            column,
            *(given if isinstance(given, BaseDatabaseWrapper) else connections[given.alias] for given in connection),
        )

    return call


@_by_column
def unbounded_type(column: models.Field, connection: Any) -> str:
    """``column``'s database type without a length: ``varchar``, not ``varchar(255)``, for a value
    cast in a statement's text. An explicit cast to a length cuts a longer text to it without a
    word, where assigning it to the column refuses it ("value too long"): a value is stored as it
    was given or refused, never cut."""
    return _LENGTH.sub(r"\1", column.db_type(connection))


_LENGTH = re.compile(r"\b(varchar)\(\d+\)")


# Columns whose Python values the database drivers take as they are: ``insert_rows`` prepares
# every other column (JSON, dates…) the way Django's own INSERT would.
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)
# The classes among those (and their subclasses) whose preparing is their own: a subclass that
# prepares a value its own way (``listening.fields.EncryptedTextField`` encrypts it) is not plain.
_PLAIN_BASES = frozenset({*_PLAIN, models.AutoField, models.BigAutoField, models.SmallAutoField})
_PREPARING = ("get_db_prep_save", "get_db_prep_value", "get_prep_value")


@_by_column
def _is_plain(column: models.Field) -> bool:
    """Whether ``column``'s values go to the driver as they are: it is one of ``_PLAIN`` and its
    class prepares values as that class does (a foreign key, as the field it points to)."""
    base = next((cls for cls in type(column).__mro__ if cls in _PLAIN_BASES), None)
    if base is None or _prepares_otherwise(column, base):
        return False
    return base is not models.ForeignKey or _is_plain(column.target_field)


def _prepares_otherwise(column: models.Field, base: type[models.Field]) -> bool:
    """Whether ``column``'s class prepares a value for the database otherwise than ``base``."""
    return any(getattr(type(column), name) is not getattr(base, name) for name in _PREPARING)


@_by_column
def _preparer(column: models.Field, connection: Any) -> Callable[[Any], Any] | None:
    """What prepares a value of ``column`` for an INSERT as Django does (``get_db_prep_save``);
    None where that gives back the value itself (``_is_plain``)."""
    if _is_plain(column):
        return None

    def prepared(value: Any) -> Any:
        return column.get_db_prep_save(value, connection)

    if (
        connection.vendor == "postgresql"
        and isinstance(column, models.DateTimeField)
        and not _prepares_otherwise(column, models.DateTimeField)
    ):
        # An aware datetime is given to psycopg2 as it is; a naive one is made aware, with a warning.
        return lambda value: value if type(value) is datetime and value.utcoffset() is not None else prepared(value)
    return prepared


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (tuples of the values of ``fields``, attribute names) in one INSERT per
    ``CHUNK`` rows (``ARRAY_CHUNK`` as arrays), and return the ``returning`` columns of each row
    written.

    What ``bulk_create`` does for a batch, without a model instance per row nor its per-value
    compiling (for a page of mentions, most of the time of writing them). With ``conflict``, a row
    whose values of those fields are already stored updates that row's ``update`` fields instead.
    The returned rows come in no promised order: return a key with them. No ``save()``, no
    signals, no defaults: every column the table requires is in ``fields``. On PostgreSQL, rows
    that return nothing and meet no conflict are written with one COPY (``copy_rows``), the others
    as one array per column (``unnest_rows``) where their columns and values allow it.
    """
    rows = list(rows)
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    if (
        not returning
        and not conflict
        and connection.vendor == "postgresql"
        and all(isinstance(column, _COPYABLE) for column in columns)
    ):
        copy_rows(model, columns, rows)
        return []
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    sql = f"INSERT INTO {table} ({', '.join(quote(column.column) for column in columns)}) "
    tail = ""
    if conflict:
        keys = ", ".join(quote(opts.get_field(name).column) for name in conflict)
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in (opts.get_field(n).column for n in update))
        tail += f" ON CONFLICT ({keys}) DO " + (f"UPDATE SET {sets}" if sets else "NOTHING")
    if returning:
        tail += " RETURNING " + ", ".join(f"{table}.{quote(opts.get_field(name).column)}" for name in returning)
    written: list[tuple[Any, ...]] = []
    arrays = unnest_rows(model, fields, rows)
    if arrays is not None:
        with connection.cursor() as cursor:
            for rows_sql, params in arrays:
                cursor.execute(sql + "SELECT * FROM " + rows_sql + tail, params)  # noqa: S608
                if returning:
                    written += cursor.fetchall()
        return written
    prepare = [_preparer(column, connection) for column in columns]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    size = max(1, min(CHUNK, connection.ops.bulk_batch_size(columns, rows)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params = [
                value if prep is None else prep(value)
                for values in chunk
                for value, prep in zip(values, prepare, strict=True)
            ]
            # Only quoted names are formatted in; every value is a parameter.
            cursor.execute(sql + "VALUES " + ", ".join([row] * len(chunk)) + tail, params)
            if returning:
                written += cursor.fetchall()
    return written


# Columns whose values ``copy_rows`` writes: any other (binary, arrays, ranges…) goes
# through INSERT.
_COPYABLE = (
    *_PLAIN,
    models.FloatField,
    models.DecimalField,
    models.DateField,  # and DateTimeField, its subclass
    models.TimeField,
    models.UUIDField,
    models.JSONField,
)


NUL_REFUSED = "A string literal cannot contain NUL (0x00) characters."  # psycopg2's words
NULL = "\\N"  # COPY's NULL; a text "\N" is written "\\N"


def copy_text(value: Any) -> str:
    """``value``, prepared as the driver would be given it, as a field of COPY's text format.

    NUL cannot be written, as psycopg2 refuses it in an INSERT's literal (a ValueError both ways,
    so the ingestion pipeline sets the item aside the same way).
    """
    if type(value) is str:
        return _escaped(value)
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float; "inf", "nan" too
    if isinstance(value, int | Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # with its offset when it has one, as Django gives PostgreSQL dates
    if isinstance(value, Json):
        return _escaped(value.dumps(value.adapted))  # the JSON text an INSERT would send, with its encoder
    if isinstance(value, str):  # a subclass: a choice, a safe string
        return _escaped(value)
    raise TypeError(f"no COPY text for {type(value).__name__}")


def _escaped(text: str) -> str:
    if "\x00" in text:
        raise ValueError(NUL_REFUSED)
    return _escaped_block(text)


def _escaped_block(text: str) -> str:
    # COPY's text format ends a value at a tab and a row at a newline, and reads a backslash as
    # the start of an escape: those four are escaped, the backslash first.
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def _escaped_all(texts: Sequence[str]) -> list[str]:
    """``_escaped`` of each of ``texts``, done on all of them at once: they are joined by NUL, which
    none may hold (so each NUL found is a seam), escaped as one text and split again at the seams.
    A page's column of a thousand values is escaped in a handful of passes over one string rather
    than a handful of calls per value."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        raise ValueError(NUL_REFUSED)
    return _escaped_block(joined).split("\x00")


def _plain_texts(values: Sequence[Any]) -> list[str]:
    """COPY text of a plain column's values (``_is_plain``): ``copy_text`` of each, with the
    common columns written at once: all text (escaped together), all NULL, all whole numbers."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return _escaped_all(values)
    if kinds == {type(None)}:
        return [NULL] * len(values)
    if kinds == {int}:
        return list(map(str, values))
    if all(issubclass(kind, str) for kind in kinds):
        # Choices (a status, a kind): a str subclass is joined and escaped by its text, as
        # ``copy_text`` escapes it, whatever its ``str()`` says.
        return _escaped_all(values)
    return [copy_text(value) for value in values]


@_by_column
def _copy_writer(column: models.Field, connection: Any) -> Callable[[Sequence[Any]], list[str]]:
    """What writes the Python values of ``column`` (one per row) as COPY text: ``copy_text`` of
    the value Django prepares for an INSERT, with that preparing skipped where it gives back the
    value itself (the common values of a page of mentions: its columns are mostly text, dates,
    JSON and empty ones). Chosen once per column, and each writes the whole column."""
    if _is_plain(column):
        return _plain_texts

    def prepared(value: Any) -> str:
        return copy_text(column.get_db_prep_save(value, connection))

    if isinstance(column, models.DateTimeField) and not _prepares_otherwise(column, models.DateTimeField):

        def write_dates(values: Sequence[Any]) -> list[str]:
            # An aware datetime is given to psycopg2 as it is; a naive one is made aware, with a warning.
            kinds = set(map(type, values))
            if kinds == {datetime} and None not in map(datetime.utcoffset, values):
                return _instants_texts(values)  # a column of them at once, the common case
            if kinds == {type(None)}:
                return [NULL] * len(values)
            return [
                value.isoformat()
                if type(value) is datetime and value.utcoffset() is not None
                else NULL
                if value is None
                else prepared(value)
                for value in values
            ]

        return write_dates
    if type(column) is models.JSONField:
        # The JSON text of ``connection.ops.adapt_json_value``, with the field's encoder, without
        # its spaces: the column is ``jsonb``, which keeps the value, not the text it was given.
        json_encoder = _json_encoder(column)

        def write_json(values: Sequence[Any]) -> list[str]:
            encode = json_encoder()
            if set(map(type, values)) <= {dict, list}:
                return _escaped_all([encode(value) for value in values])
            return [
                _escaped(encode(value)) if type(value) in (dict, list) else NULL if value is None else prepared(value)
                for value in values
            ]

        return write_json
    if isinstance(column, models.FloatField) and not _prepares_otherwise(column, models.FloatField):
        return lambda values: [
            repr(value) if type(value) is float else NULL if value is None else prepared(value) for value in values
        ]
    return lambda values: [prepared(value) for value in values]


def _json_encoder(column: models.JSONField) -> Callable[[], Callable[[Any], str]]:
    """What gives, for one column of values, the function that encodes a dict or list of
    ``column`` as ``encoder.encode`` does with the field's encoder and no spaces.

    ``JSONEncoder.encode`` builds its C encoder anew for every value, most of the time of encoding
    a small one: this builds it once per column of values, exactly as ``iterencode`` builds it, with
    marks of its own (what tells a circular value apart), so an error in one column leaves none
    behind for the next. An encoder whose class encodes its own way, or a Python without the C
    encoder, is given ``encode`` itself."""
    encoder = (column.encoder or json.JSONEncoder)(separators=(",", ":"))
    kind = type(encoder)
    if (
        c_make_encoder is None
        or encoder.indent is not None
        or kind.encode is not json.JSONEncoder.encode
        or kind.iterencode is not json.JSONEncoder.iterencode
    ):
        return lambda: encoder.encode

    def for_a_column() -> Callable[[Any], str]:
        chunks = c_make_encoder(
            {} if encoder.check_circular else None,
            encoder.default,
            encode_basestring_ascii if encoder.ensure_ascii else encode_basestring,
            encoder.indent,
            encoder.key_separator,
            encoder.item_separator,
            encoder.sort_keys,
            encoder.skipkeys,
            encoder.allow_nan,
        )
        return lambda value: "".join(chunks(value, 0))

    return for_a_column


def _instants_texts(values: Sequence[datetime]) -> list[str]:
    """``isoformat`` of each of ``values``, aware datetimes; a column that holds one instant for
    every row (the time a page was fetched, or stored) formats it once, and one of instants in UTC
    (what ``timezone.now()`` and the connectors give) is formatted without working out each one's
    offset, half the time of ``isoformat``."""
    first = values[0]
    if all(value is first for value in values):
        return [first.isoformat()] * len(values)
    if all(value.tzinfo is UTC for value in values):
        return list(map(_utc_text, values))
    return list(map(datetime.isoformat, values))


def _utc_text(value: datetime) -> str:
    """``value.isoformat()`` of a datetime (not a subclass) in UTC, from its day and its time of
    day, each as ``isoformat`` writes it, and the offset UTC always has."""
    return f"{value.date().isoformat()}T{value.time().isoformat()}+00:00"


def copy_rows(model: type[models.Model], columns: Sequence[models.Field], rows: Sequence[Sequence[Any]]) -> None:
    """Write ``rows`` into ``columns`` of ``model``'s table with one COPY, on PostgreSQL.

    ``insert_rows`` writes with it what needs nothing back: the values travel as one block of
    text, where an INSERT has psycopg2 quote each of them into the statement (for a page of
    mentions, thousands of values, the larger part of the time of writing them). Each value is
    written as the INSERT would have it (``_copy_writer``), column by column; what the database
    refuses raises the same Django errors as an INSERT.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    data = io.BytesIO(copy_data(columns, rows, connection))
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c.column) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        # What ``cursor.execute`` does around a statement: no statement in a transaction already
        # broken, and the driver's errors raised as Django's (Django's debug cursor logs the COPY).
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor.copy_expert(sql, data, 1 << 16)


def copy_data(columns: Sequence[models.Field], rows: Sequence[Sequence[Any]], connection: Any) -> bytes:
    """``rows`` of ``columns`` as the text COPY reads (``copy_rows``), each value written as an
    INSERT would have it (``_copy_writer``), column by column."""
    by_column = list(zip(*rows, strict=True))  # raises, as a row of the wrong length does in an INSERT
    texts = [_copy_writer(column, connection)(values) for column, values in zip(columns, by_column, strict=True)]
    # Encoded here, not by the driver: a lone surrogate raises the UnicodeEncodeError (a
    # ValueError) it raises in an INSERT.
    return ("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n").encode()


# --- Rows as one array per column (PostgreSQL) ----------------------------------------------------
# An INSERT of a page's rows as a VALUES list has psycopg2 quote each value into the statement, and
# PostgreSQL parse the list: for a page of a thousand rollup rows, authors or tickets, thousands of
# values and most of the time of writing them. As arrays, a column's values are joined into one
# literal here (as ``copy_rows`` writes a column's text at once), quoted once by the driver and read
# by ``unnest``, which gives the rows back in the arrays' order.


class _Unfit(Exception):
    """A column's values that ``unnest_rows`` does not write as an array (``_array_writer``)."""


def _array_of_texts(texts: Sequence[str | None]) -> str:
    """An array literal of ``texts``: each in double quotes, so that no text reads as anything but
    itself (braces, commas, spaces at its ends, "NULL"), with its backslashes and double quotes
    escaped; None is NULL. Escaped for all at once, joined by NUL as ``_escaped_all`` joins them."""
    given = [text for text in texts if text is not None]
    if not given:
        return "{" + ",".join(["NULL"] * len(texts)) + "}"
    joined = "\x00".join(given)
    if joined.count("\x00") != len(given) - 1:
        raise ValueError(NUL_REFUSED)  # as psycopg2 refuses it in an INSERT's literal
    if not joined.isascii():
        try:
            joined.encode()
        except UnicodeEncodeError:
            # A lone surrogate: raised as psycopg2 raises it for that value alone (the position
            # in its message is the one in the value, not in the array).
            for text in given:
                text.encode()
            raise
    if "\\" in joined:
        joined = joined.replace("\\", "\\\\")
    if '"' in joined:
        joined = joined.replace('"', '\\"')
    if len(given) == len(texts):
        return '{"' + joined.replace("\x00", '","') + '"}'
    escaped = iter(joined.split("\x00"))
    return "{" + ",".join("NULL" if text is None else f'"{next(escaped)}"' for text in texts) + "}"


def _array_of(texts: Iterable[str | None]) -> str:
    """An array literal of texts that need no quoting (numbers, dates); None is NULL."""
    return "{" + ",".join("NULL" if text is None else text for text in texts) + "}"


def _kinds(values: Sequence[Any]) -> set[type]:
    return set(map(type, values)) - {type(None)}


@_by_column
def _array_writer(column: models.Field, connection: Any) -> tuple[str, Callable[[Sequence[Any]], str]] | None:
    """The type of an array of ``column``'s values and what writes a column of them (one per row)
    as its literal, each value read back as a VALUES list reads it; None for a kind of column that
    does not go this way (one that prepares its values its own way, numbers with a fraction,
    binary…). The writer raises ``_Unfit`` for values of another kind than the column's usual ones
    (a bool in a number column, an expression), which go as a VALUES list, as before.

    The type is the column's type without a length (``unbounded_type``: ``varchar``, not
    ``varchar(255)``, as Django's own bulk_create casts its arrays): a cast to the column's type would cut a text too long for it,
    where the INSERT's assignment refuses it, as it refuses one in a VALUES list. Whole numbers
    are ``numeric``, as a VALUES list has a number too large for ``bigint``: one out of the
    column's range is refused with the same words ("integer out of range"), which the ingestion
    pipeline records as the reason it set an item aside.
    """
    base = unbounded_type(column, connection)
    target = column
    while isinstance(target, models.ForeignKey):
        target = target.target_field
    if _is_plain(column):
        if isinstance(target, models.BooleanField):

            def write_booleans(values: Sequence[Any]) -> str:
                if not _kinds(values) <= {bool}:
                    raise _Unfit
                return _array_of(None if value is None else "t" if value else "f" for value in values)

            return base, write_booleans
        if isinstance(target, models.IntegerField):  # and the auto fields, its subclasses

            def write_integers(values: Sequence[Any]) -> str:
                if not _kinds(values) <= {int}:  # a bool, an IntegerChoices member: as before
                    raise _Unfit
                return _array_of(None if value is None else str(value) for value in values)

            return "numeric", write_integers
        if isinstance(target, models.CharField | models.TextField):

            def write_texts(values: Sequence[Any]) -> str:
                if not all(issubclass(kind, str) for kind in _kinds(values)):  # a choice is a str
                    raise _Unfit
                return _array_of_texts(values)

            return base, write_texts
        return None
    if isinstance(column, models.DateTimeField):
        if _prepares_otherwise(column, models.DateTimeField):
            return None

        def write_instants(values: Sequence[Any]) -> str:
            if set(map(type, values)) == {datetime} and None not in map(datetime.utcoffset, values):
                return "{" + ",".join(_instants_texts(values)) + "}"  # the common case, as COPY writes it
            if not all(issubclass(kind, datetime) for kind in _kinds(values)):
                raise _Unfit
            # An aware datetime as its ISO text, as psycopg2 gives it; a naive one is made aware
            # first, with Django's warning.
            return _array_of(
                None
                if value is None
                else (
                    value if value.utcoffset() is not None else column.get_db_prep_save(value, connection)
                ).isoformat()
                for value in values
            )

        return base, write_instants
    if isinstance(column, models.DateField):
        if _prepares_otherwise(column, models.DateField):
            return None

        def write_days(values: Sequence[Any]) -> str:
            if not _kinds(values) <= {date}:  # a datetime is made a day by Django: as before
                raise _Unfit
            return _array_of(None if value is None else value.isoformat() for value in values)

        return base, write_days
    if type(column) is models.JSONField:
        # The JSON text ``copy_rows`` writes (``_copy_writer``): the field's encoder, no spaces.
        json_encoder = _json_encoder(column)

        def write_json(values: Sequence[Any]) -> str:
            if any(hasattr(value, "as_sql") for value in values):  # an expression
                raise _Unfit
            encode = json_encoder()
            texts = []
            for value in values:
                if value is None or type(value) in (dict, list):
                    texts.append(None if value is None else encode(value))
                else:
                    prepared = column.get_db_prep_save(value, connection)
                    if not isinstance(prepared, Json):
                        raise _Unfit
                    texts.append(prepared.dumps(prepared.adapted))  # the text an INSERT is given
            return _array_of_texts(texts)

        return base, write_json
    return None


def unnest_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[tuple[str, list[str]]] | None:
    """``rows`` (tuples of the values of ``fields``) as ``unnest(%s::T[], …)`` with one array
    literal per column, for a statement to read them from (``INSERT … SELECT * FROM``): a list of
    that SQL and its parameters, one per ``ARRAY_CHUNK`` rows. None off PostgreSQL, or where a
    column or its values do not go as an array.

    The arrays are of the columns' base types (``_array_writer``): the statement's assignment to
    the columns checks each value as it checks a VALUES list's. What the database or the driver
    refuses raises what it raises in a VALUES list, in the same words: a NUL a ValueError, a lone
    surrogate a UnicodeEncodeError, a text too long or a number out of range a DataError.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or not rows:
        return None
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    arrays = [_array_writer(column, connection) for column in columns]
    if None in arrays:
        return None
    types, writers = zip(*arrays, strict=True)
    sql = "unnest(" + ", ".join(f"%s::{base}[]" for base in types) + ")"  # types from the models
    statements = []
    for start in range(0, len(rows), ARRAY_CHUNK):
        by_column = list(zip(*rows[start : start + ARRAY_CHUNK], strict=True))
        try:
            params = [write(values) for write, values in zip(writers, by_column, strict=True)]
        except _Unfit:
            return None
        statements.append((sql, params))
    return statements


@functools.cache  # one per model and process, its work for each set of fields done once
def instance_maker(model: type[models.Model]) -> Callable[..., models.Model]:
    """``model(**values)`` for many new instances: the same instance, built the way Django builds
    one read from the database (every field by position), from what the keyword call works out
    again for each instance (which field each value is for, the others' defaults) worked out once.

    A related instance (or None) given by its foreign key's name (``channel=channel``) is stored
    by its id and cached, as the keyword call leaves it. A mention is built in a third of the time.
    """
    fields = model._meta.concrete_fields
    position = {field.attname: i for i, field in enumerate(fields)}
    related = {field.name: field for field in fields if field.many_to_one}  # foreign keys
    # A default worked out once where it is the same value for every instance; a callable one
    # (a new list, the time) or the database's (an expression) is made for each, as the keyword
    # call does.
    fresh_default = [
        (field.has_default() and callable(field.default)) or (not field.has_default() and field.has_db_default())
        for field in fields
    ]
    # An instance's attributes in field order, after its ``_state``: each new one starts as a copy.
    template = {"_state": None} | {
        field.attname: None if fresh else field.get_default()
        for field, fresh in zip(fields, fresh_default, strict=True)
    }
    plans: dict[tuple[str, ...], tuple[list[str], list[tuple[str, Callable[[], Any]]], list[tuple[str, ...]]]] = {}

    def plan(names: tuple[str, ...]) -> tuple[list[str], list[tuple[str, Callable[[], Any]]], list[tuple[str, ...]]]:
        given = [fields[position[related[name].attname if name in related else name]].attname for name in names]
        fresh = [(f.attname, f.get_default) for f, new in zip(fields, fresh_default, strict=True) if new]
        # Each related instance given: its name, its id's attribute, the id's name on the instance,
        # and the name it is cached by.
        links = [
            (name, related[name].attname, related[name].target_field.attname, related[name].cache_name)
            for name in names
            if name in related
        ]
        return given, [(attname, default) for attname, default in fresh if attname not in given], links

    def make(**values: Any) -> models.Model:
        names = tuple(values)
        if names not in plans:
            plans[names] = plan(names)
        given, fresh, links = plans[names]
        state = template.copy()
        state.update(zip(given, values.values(), strict=True))  # a related instance is replaced by its id below
        for attname, default in fresh:
            state[attname] = default()
        for name, attname, target, _cache_name in links:
            value = values[name]
            state[attname] = None if value is None else getattr(value, target)
        if not _made_at_once(model):
            del state["_state"]
            return _related_cached(model(*state.values()), [(related[link[0]], values[link[0]]) for link in links])
        # What the related fields' descriptors leave on a new instance: each related instance
        # cached, and the database of the first one as the instance's.
        model_state = state["_state"] = ModelState()
        model_state.fields_cache = {cache_name: values[name] for name, _attname, _target, cache_name in links}
        for name, *_names in links:
            if values[name] is not None:
                model_state.db = router.db_for_write(model, instance=values[name])
                break
        obj = model.__new__(model)
        obj.__dict__ = state
        return obj

    return make


def _related_cached(obj: models.Model, given: Sequence[tuple[models.ForeignKey, Any]]) -> models.Model:
    """``obj`` with each related instance (or None) given for its foreign key cached, as the key's
    descriptor caches it when the instance is made with it."""
    for field, value in given:
        if value is not None and obj._state.db is None:
            obj._state.db = router.db_for_write(type(obj), instance=value)
        field.set_cached_value(obj, value)
    return obj


@functools.cache
def _builder(model: type[models.Model]) -> Callable[[Sequence[Any]], models.Model]:
    """``model(*row)``, a row of every concrete field in order, at a fraction of its cost, where it
    can be made at once (``_made_at_once``)."""
    attnames = [field.attname for field in model._meta.concrete_fields]

    def build(row: Sequence[Any]) -> models.Model:
        if not _made_at_once(model):
            return model(*row)
        obj = model.__new__(model)
        obj._state = ModelState()
        obj.__dict__.update(zip(attnames, row, strict=True))
        return obj

    return build


def _made_at_once(model: type[models.Model]) -> bool:
    """Whether a new instance of ``model`` may be made by storing its fields' values in its
    ``__dict__`` at once. ``model(*row)`` stores each value as its attribute (through the
    attribute's descriptor) between a pre_init and a post_init signal: where no descriptor does
    more than store the value (a foreign key's id also forgets the instance cached for the old one,
    and a new instance has none) and no one listens to those signals for the model, that is all it
    does."""
    return _stored_as_given(model) and not _heard(pre_init, model) and not _heard(post_init, model)


@functools.cache
def _stored_as_given(model: type[models.Model]) -> bool:
    return all(_stores_only(getattr(model, field.attname, None)) for field in model._meta.concrete_fields)


def _heard(signal: ModelSignal, model: type[models.Model]) -> bool:
    """Whether anyone listens to ``signal`` for ``model``; without a receiver for any model (the
    usual case) not asked of the signal, whose answer costs as much as making the instance."""
    return bool(signal.receivers) and signal.has_listeners(model)


def stored_instance_maker(model: type[models.Model], db: str) -> Callable[[Sequence[Any]], models.Model]:
    """What makes the instance a query of database ``db`` makes of a row of every concrete field of
    ``model`` in order (``Model.from_db``), for rows read without the ORM."""
    build = _builder(model)

    def make(row: Sequence[Any]) -> models.Model:
        obj = build(row)
        obj._state.adding, obj._state.db = False, db
        return obj

    return make


def _stores_only(descriptor: Any) -> bool:
    """Whether setting an attribute of a new instance through ``descriptor`` (found on its class)
    only stores the value in the instance's ``__dict__``."""
    return not hasattr(type(descriptor), "__set__") or type(descriptor) is ForeignKeyDeferredAttribute


def stamp_new(model: type[models.Model], objs: Iterable[models.Model]) -> None:
    """Set the ``auto_now`` and ``auto_now_add`` dates of instances about to be inserted, as
    ``bulk_create`` sets them, but one instant per field for the whole batch: the rows are stored
    together, and a column that holds one instant is written as text once (``_instants_texts``)
    where ``bulk_create`` asks the clock again for each row. A field whose class stamps its own way
    is stamped row by row."""
    objs = list(objs)
    if not objs:
        return
    opts = model._meta
    stamped = [f for f in opts.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for field in stamped:
        if type(field).pre_save not in _DATE_STAMPS:
            for obj in objs:
                field.pre_save(obj, add=True)
            continue
        instant = field.pre_save(objs[0], add=True)
        for obj in objs:
            setattr(obj, field.attname, instant)


# The ``pre_save`` of Django's own date fields: each sets the field to the time it is called.
_DATE_STAMPS = (models.DateField.pre_save, models.DateTimeField.pre_save)


def insert_new(
    model: type[models.Model],
    objs: Iterable[models.Model],
    *,
    returning: Sequence[str] = (),
    stamp: bool = True,
) -> list[tuple[Any, ...]]:
    """``insert_rows`` for instances built in memory and not yet saved: every column with the value
    the instance holds, the id only when every instance has one (``reserve_ids``), its ``auto_now``
    and ``auto_now_add`` dates set first (``stamp_new``) unless ``stamp`` is False (set already)."""
    objs = list(objs)
    if stamp:
        stamp_new(model, objs)
    with_ids = bool(objs) and all(obj.pk is not None for obj in objs)
    columns = tuple(f.attname for f in model._meta.concrete_fields if with_ids or not f.primary_key)
    row = operator.itemgetter(*columns)  # a tuple of the values, for more than one column
    rows = [row(vars(obj)) for obj in objs] if len(columns) > 1 else [(vars(obj)[columns[0]],) for obj in objs]
    return insert_rows(model, columns, rows, returning=returning)


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """Take ``n`` ids from ``model``'s table, in increasing order, for rows inserted later with them.

    The ids are the table's own: no other writer gets them, nor a later INSERT that lets the
    database choose. On PostgreSQL they come from the id column's sequence (in a transaction
    that rolls back they are lost, as an INSERT's are). On SQLite, where Django's ids are
    ``AUTOINCREMENT``, the table's counter in ``sqlite_sequence`` is moved on by one statement,
    which takes the database's write lock until the transaction ends, so two writers take turns.
    """
    if n <= 0:
        return []
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(opts.db_table), opts.pk.column, n],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"reserve_ids on {connection.vendor}")
        cursor.execute("UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq", [n, opts.db_table])
        row = cursor.fetchone()
        if row is None:
            # No row yet: the table never had one inserted. The UPDATE above took the write lock
            # already, so no other writer adds this row meanwhile.
            table, pk = connection.ops.quote_name(opts.db_table), connection.ops.quote_name(opts.pk.column)
            cursor.execute(
                f"INSERT INTO sqlite_sequence (name, seq) SELECT %s, COALESCE(MAX({pk}), 0) + %s FROM {table} "  # noqa: S608
                "RETURNING seq",
                [opts.db_table, n],
            )
            row = cursor.fetchone()
    last = row[0]
    return list(range(last - n + 1, last + 1))
