"""Writing many rows' fields at once, for the ingestion pipeline's batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, models, router

CHUNK = 500  # rows per statement: a page of 1,000 is two


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
    updated = 0
    with connection.cursor() as cursor:
        for sql, params in _updates(connection, model, objs, fields):
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def bulk_set_groups(model: type[models.Model], groups: Iterable[tuple[Iterable[models.Model], Sequence[str]]]) -> None:
    """``bulk_set`` of several groups of objects, each with its own fields (a routed page's mentions,
    grouped by what changed in them). On PostgreSQL all their UPDATEs go to the server in one round
    trip (psycopg2 sends them as one string, its parameters merged in on the client), in order."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        for objs, fields in groups:
            bulk_set(model, objs, fields)
        return
    statements = [
        statement for objs, fields in groups if fields for statement in _updates(connection, model, list(objs), fields)
    ]
    if statements:
        with connection.cursor() as cursor:
            cursor.execute("; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params])


def _updates(
    connection: Any, model: type[models.Model], objs: list[models.Model], fields: Sequence[str]
) -> Iterator[tuple[str, list[Any]]]:
    """PostgreSQL's UPDATE … FROM (VALUES …) statements writing ``fields`` of ``objs``, ``CHUNK`` rows each."""
    opts = model._meta
    columns = [opts.pk, *(opts.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    # Each value cast to its column's type: a VALUES list has no types of its own (a JSON value
    # would be text, an id unknown).
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    names = ", ".join(quote(c.column) for c in columns)
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start : start + CHUNK]
        params = [
            column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in chunk for column in columns
        ]
        # Only quoted names and column types are formatted in; every value is a parameter.
        values = ", ".join([row] * len(chunk))
        sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) WHERE {table}.{pk} = v.{pk}"  # noqa: S608
        yield sql, params


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> list[models.Model]:
    """``bulk_create`` of new objects (no primary key yet), with their ids set; each field's value
    made as ``bulk_create`` makes it (``pre_save`` then ``get_db_prep_save``).

    On PostgreSQL the rows go in as one INSERT … RETURNING per ``CHUNK`` without the query
    compiler's layers around each value (a mention has thirty-odd columns). Other databases use
    ``bulk_create``.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or not objs:
        return model._default_manager.bulk_create(objs, batch_size=CHUNK)
    opts = model._meta
    fields = [f for f in opts.concrete_fields if f is not opts.pk and not f.generated]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params = []
            for obj in chunk:
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
                params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
            # Only quoted names are formatted in; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {quote(opts.db_table)} ({names}) VALUES {', '.join([row] * len(chunk))} "  # noqa: S608
                f"RETURNING {quote(opts.pk.column)}",
                params,
            )
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
    return list(objs)
