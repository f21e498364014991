"""Reading the rows of a page's keys: one probe of a unique index per key, whatever the
database's statistics say of the rows around them.

A page asks which of its hundred items a channel holds already, and which of their parents.
Written as ``filter(channel=…, external_id__in=[…])``, PostgreSQL's planner weighs a hundred
probes of the (channel, external id) index against reading every row of the channel and keeping
the wanted ones, and chooses by its statistics of the table. Those are taken now and then
(``ANALYZE``, autovacuum after a tenth of the table changed): for a channel that is new, or grew
since, they say it holds a handful of rows, the planner reads "all" of them, and every page then
read the whole channel, slower as it grew (a channel of 19,000 mentions: 5 to 8 ms a lookup, where
the probes take 0.2). ``rows_by_keys`` looks each key up on its own (a LATERAL subquery, kept
apart by its OFFSET): reading the channel would then cost the planner as much for every key as
all the probes together, and a unique index whose every column is given answers each key in one
row. Use it for such lookups only. Where another index begins with the same columns and the
statistics say they match a single row, the two cost the same and the planner may take the
other, once per key: the authors' (platform, handle) index did, in a table analysed before a
platform's authors came, so the authors of a page are read with an ``IN`` list."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import Q


def rows_by_keys(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    key: str,
    keys: Collection[Any],
    where: Q,
) -> list[tuple[Any, ...]]:
    """The ``fields`` (attribute names) of the rows of ``model`` that match ``where`` and whose
    ``key`` is one of ``keys``, as ``values_list`` gives them. Rows come in no promised order.

    ``where`` names the columns an index begins with, and ``key`` the one that follows (a channel,
    then an external id): on PostgreSQL each key probes that index once. Elsewhere, the same filter
    through the ORM (SQLite chooses the index for an ``IN`` list on its own).
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    connection = connections[router.db_for_read(model)]
    manager = model._default_manager
    if connection.vendor != "postgresql":
        return list(manager.filter(where, **{f"{key}__in": keys}).values_list(*fields))
    opts = model._meta
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    key_field = opts.get_field(key)
    # The ORM writes the condition (its values as parameters); the key's comparison is added to it.
    query = manager.filter(where).query
    condition, condition_params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    columns = ", ".join(f"{table}.{quote(opts.get_field(name).column)}" for name in fields)
    # Table and column names come from the model; every value is a parameter. The array is of
    # the key's base type (text, not varchar(255): a cast to a length would cut a longer key to one
    # that may be stored).
    sql = (
        f"SELECT r.* FROM unnest(%s::{_base_type(key_field, connection)}[]) AS k(value) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} "
        f"WHERE {condition} AND {table}.{quote(key_field.column)} = k.value OFFSET 0) AS r"
    )
    params = [[key_field.get_db_prep_value(value, connection) for value in keys], *condition_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Values as the ORM gives them (JSON decoded, a value decrypted…).
    converters = [
        (i, field.from_db_value)
        for i, field in enumerate(opts.get_field(name) for name in fields)
        if hasattr(field, "from_db_value")
    ]
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i], None, connection)
        converted.append(tuple(values))
    return converted


def _base_type(field: models.Field, connection: Any) -> str:
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    return field.db_type(connection)
