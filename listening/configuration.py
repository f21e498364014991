"""A brand's configuration read once by a worker, and again only once it has changed.

Every page ingestion stores reads what its brand is set up with: tracked terms, analyzer models,
routing rules, departments with their SLA policies, webhook endpoints. The same for page after
page, until someone changes it, from wherever: a form, the API, the admin, a management command,
a ``QuerySet.update()``, a restore. So the database itself says when: triggers on those tables
give the brand a new random ``configuration_stamp`` (``stamp_triggers``), and any update of the
brand row does too, so a brand saved from an instance read earlier cannot write an old stamp back.
Random, never a counter: a counter comes back after a rolled-back transaction or a restore, and
with it configuration read before them.

Ingestion reads the stamp with the channel row it locks for a page (``stamped``), at no cost of a
statement; within that page (``page``), ``brand_configurations`` hands out what this process read
under the same stamp, or reads it and keeps it. A change made before the page read the stamp is
in what it uses; one made later gives the next page another stamp. Outside a page (a view, a rule
tool) nothing is kept: each call reads.

What is kept is shared by the pages that follow: readers keep it as it is and hand out new
lists and dicts of it where a page could change them. The members of a brand's departments are part
of it: a member added or taken away, made inactive, given another address or language stamps every
brand they are a member of (``responses`` migration 0013); a login does not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.migrations import RunPython

if TYPE_CHECKING:
    from uuid import UUID

    from listening.models import Brand

T = TypeVar("T")

# An agency runs hundreds of brands; one worker keeps those it read last, a few kB each (the
# analyzer models are kept by ``listening.learning`` itself).
BRANDS_KEPT = 1000

# The stamps read under lock by the page being ingested, by brand id; None outside a page.
_stamps: ContextVar[dict[int, UUID] | None] = ContextVar("brand_configuration_stamps", default=None)
# Brand id → (stamp, what was read under it by name), the least recently used first.
_kept: OrderedDict[int, tuple[UUID, dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()  # a web process ingests webhooks in several threads


@contextmanager
def page() -> Iterator[None]:
    """Within it, configuration read under a brand's stamp (``stamped``) is kept and used again."""
    token = _stamps.set({})
    try:
        yield
    finally:
        _stamps.reset(token)


def stamped(brand: Brand) -> None:
    """The brand's stamp as this page read it: the configuration it uses is what it was then, or newer."""
    stamps = _stamps.get()
    if stamps is not None:
        stamps[brand.pk] = brand.configuration_stamp


def brand_configurations(
    brand_ids: Iterable[int], name: str, read: Callable[[set[int]], Mapping[int, T]]
) -> dict[int, T]:
    """Each brand's configuration ``name``: as kept under the stamp its page read, or ``read`` (one
    value for each brand id it is given, all of them together) and kept."""
    wanted = set(brand_ids)
    stamps = _stamps.get() or {}
    found: dict[int, T] = {}
    with _lock:
        for brand_id in wanted & stamps.keys():
            entry = _kept.get(brand_id)
            if entry is not None and entry[0] == stamps[brand_id] and name in entry[1]:
                found[brand_id] = entry[1][name]
                _kept.move_to_end(brand_id)
    unread = wanted - found.keys()
    if not unread:
        return found
    fresh = read(unread)
    with _lock:
        for brand_id in unread & stamps.keys():
            entry = _kept.get(brand_id)
            if entry is None or entry[0] != stamps[brand_id]:
                entry = _kept[brand_id] = (stamps[brand_id], {})
            entry[1][name] = fresh[brand_id]
            _kept.move_to_end(brand_id)
        while len(_kept) > BRANDS_KEPT:
            _kept.popitem(last=False)
    return {**found, **{brand_id: fresh[brand_id] for brand_id in unread}}


def brand_configuration(brand_id: int, name: str, read: Callable[[], T]) -> T:
    """``brand_configurations`` of one brand."""
    return brand_configurations((brand_id,), name, lambda _ids: {brand_id: read()})[brand_id]


# --- The triggers that stamp ---------------------------------------------------------------------
NEW_STAMP = {"postgresql": "gen_random_uuid()", "sqlite": "lower(hex(randomblob(16)))"}
EVENTS = ("insert", "update", "delete")


def brand_restamp_sql(vendor: str) -> tuple[list[str], list[str]]:
    """SQL that gives a brand a new stamp at every update of its row, and SQL that undoes it.

    A form or the admin saves every column of a brand read earlier, its stamp with them: the
    stamp a trigger set since would be lost, and the configuration kept under the old one used.
    """
    if vendor == "postgresql":
        return [
            f"""CREATE FUNCTION listening_brand_restamp() RETURNS trigger AS $$
            BEGIN NEW.configuration_stamp := {NEW_STAMP[vendor]}; RETURN NEW; END $$ LANGUAGE plpgsql""",
            """CREATE TRIGGER listening_brand_restamp BEFORE UPDATE ON listening_brand
            FOR EACH ROW EXECUTE FUNCTION listening_brand_restamp()""",
        ], ["DROP TRIGGER listening_brand_restamp ON listening_brand", "DROP FUNCTION listening_brand_restamp()"]
    # SQLite runs no trigger again from its own statement (recursive triggers are off unless a
    # connection turns them on, which Django does not).
    return [
        f"""CREATE TRIGGER listening_brand_restamp AFTER UPDATE ON listening_brand
        BEGIN UPDATE listening_brand SET configuration_stamp = {NEW_STAMP[vendor]} WHERE id = NEW.id; END"""  # noqa: S608
    ], ["DROP TRIGGER listening_brand_restamp"]


def stamp_triggers_sql(
    vendor: str, table: str, brand_of: str, *, events: Sequence[str] = EVENTS, columns: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """SQL that gives the brand of each row of ``table`` inserted, updated or deleted a new stamp
    (both brands, when a row moves), and SQL that undoes it. ``brand_of``: the brand id of the row
    named ``{row}``, e.g. ``{row}.brand_id``, or a ``SELECT`` of the brand ids it counts in (a
    person is a member of departments of many brands). ``events``: of ``EVENTS``, those that
    stamp; ``columns``: when given, an update stamps only where it sets one of them."""
    name = f"{table}_restamps_brand"
    stamp = NEW_STAMP[vendor]

    def restamp(*rows: str) -> str:
        brands = " OR ".join(f"id IN ({brand_of.format(row=row)})" for row in rows)
        return f"UPDATE listening_brand SET configuration_stamp = {stamp} WHERE {brands};"  # noqa: S608 (migrations' own SQL)

    rows = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    when = {event: update if event == "update" else event.upper() for event in events}
    if vendor == "postgresql":
        branches = " ELSIF ".join(f"TG_OP = '{event.upper()}' THEN {restamp(*rows[event])}" for event in events)
        return [
            f"""CREATE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN
                IF {branches}
                END IF;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {name} AFTER {" OR ".join(when.values())} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {name}()""",
        ], [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"]
    return [
        f"CREATE TRIGGER {name}_{event} AFTER {when[event]} ON {table} BEGIN {restamp(*rows[event])} END"
        for event in events
    ], [f"DROP TRIGGER {name}_{event}" for event in events]


def restamping(*, brand: bool = False, tables: Mapping[str, str | Mapping[str, Any]] | None = None) -> RunPython:
    """A migration's operation that creates the stamp's triggers on the brand row (``brand``) and
    on ``tables`` (table → ``brand_of``, or the keyword arguments, as ``stamp_triggers_sql`` takes
    them), and drops them when reversed."""

    def statements(vendor: str) -> tuple[list[str], list[str]]:
        parts = [brand_restamp_sql(vendor)] if brand else []
        for table, how in (tables or {}).items():
            parts.append(stamp_triggers_sql(vendor, table, **({"brand_of": how} if isinstance(how, str) else how)))
        return [sql for create, _drop in parts for sql in create], [sql for _create, drop in parts for sql in drop]

    def create(_apps: Any, schema_editor: Any) -> None:
        for sql in statements(schema_editor.connection.vendor)[0]:
            schema_editor.execute(sql)

    def drop(_apps: Any, schema_editor: Any) -> None:
        for sql in statements(schema_editor.connection.vendor)[1]:
            schema_editor.execute(sql)

    return RunPython(create, drop)
