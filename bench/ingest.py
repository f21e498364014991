"""Benchmark: the ingestion pipeline, page by page, as a poll feeds it.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/ingest.py \
        [items=20000] [page=100] [processes=1] [--varied] [--one-channel] [--sql] [--steps] [--refused] \
        [--no-route]

Each page goes through ingest_items with the demo brand's terms and routing rules: language
detection, sentiment (English and Spanish), term matching, authors, threads and routing.
Prints items per second for new items, next to bare VADER scoring of the same texts in the same
run (each page's texts scored straight after the page, so that a machine whose speed moves from
one minute to the next moves both) and their ratio; this process's CPU time and, where the
database server runs on this machine, its process's for this connection: the CPU a new item
costs, which other processes' load moves far less than the wall clock; and the time of a
redelivered page (everything already known). What a worker does once per process (loading the
language models, fitting the built-in intent models, importing the URLconf) is done before timing
and printed apart, with the rate including it.

With a third argument, ``processes`` above 1, it then runs that many processes at once, forked
after the warm-up as a prefork worker's pool is. Each stores the same number of new items in pages
into a channel of its own of the same brand, with people of its own, as a brand's channels on
different platforms have (the brand's rollup rows are shared, as its channels share them). It
prints their items per second together: what the machine takes with that many pool processes
(``--concurrency``), beside what one process takes. With ``--one-channel`` they all store into one channel
instead, as workers share a burst of one channel's webhooks.

With ``--sql`` it also prints where a new page's database time goes: the statements it sends by kind
(verb and table; a COPY with the encoding of its rows), each one's time and count per page, and
COMMIT's (the page's deferred foreign-key checks). These are steadier than the whole run's rate on a
machine whose speed moves by a tenth from one minute to the next; the timers cost a little, so the
rate is read from a run without them. With ``--steps`` it prints where a new page's wall time goes:
each step of ``ingest_items`` (the channel's read, the look-ups, reading the texts, the lock, the
authors, each pipeline step, the rows, COMMIT and what runs after it), for comparing two versions
of a step on a noisy machine the same way. With ``--refused`` it then stores pages with one item the
database refuses as data in their middle, alternated with whole ones, and prints the median time of
each: what one bad value in a webhook burst or an import batch costs its page. With ``--no-route``
every page is stored as ``import_mentions --no-route`` stores history: counted in the reports, no
rule run, no ticket opened, nothing announced. Beside a run without it, what routing costs a page,
with everything it brings (tickets, their events and notifications, their e-mails queued, their
foreign keys checked at COMMIT). Each run prints how many tickets its pages opened.

The items repeat ten texts, so a page reads each text once and most of what it measures is storing
and routing. With ``--varied`` every item says something of its own, as real traffic does: the
sandbox's customer posts in English and Spanish, their blanks (order numbers, places, days, endings)
filled in anew for each item, so reading the texts (language, sentiment, intent and the words behind
it) counts as it does in production.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.common import tasks_queued_in_memory, throwaway_database  # noqa: E402
from config import bulk  # noqa: E402
from sandbox.generator import CATEGORY_WEIGHTS, CUSTOMER_TEXTS, fill_blanks  # noqa: E402

TEXTS = [
    "I love my new Acme anvil, best purchase this year!",
    "@acme I was charged twice, I want a refund now",
    "Globex is cheaper and their support actually answers",
    "Is the Roadrunner Pro compatible with the old rockets?",
    "Me encanta Acme, el envío llegó en un día 😍",
    "Acme me cobró dos veces, quiero un reembolso ya",
    "La app de Acme no funciona desde ayer, qué desastre",
    "¿Alguien sabe si Initech tiene mejor garantía que Acme?",
    "Acme's #AcmeSummer campaign is everywhere this week",
    "Just got the Roadrunner Pro, unboxing later today",
]


def main(
    total: int = 20000,
    page_size: int = 100,
    processes: int = 1,
    *,
    varied: bool = False,
    one_channel: bool = False,
    sql: bool = False,
    steps: bool = False,
    refused: bool = False,
    route: bool = True,
) -> None:
    tasks_queued_in_memory()
    setup_test_environment()
    draw_text = varied_text if varied else ten_texts
    with throwaway_database():
        run(
            total,
            page_size,
            draw_text,
            StatementTimes() if sql else None,
            StepTimes() if steps else None,
            refused=refused,
            route=route,
        )
        if processes > 1 and connection.vendor == "sqlite":
            print("processes at once: not run; SQLite's throwaway database lives in this process's memory")
        elif processes > 1:
            run_together(total, page_size, processes, draw_text, one_channel=one_channel, route=route)


def ten_texts(rng: random.Random) -> str:
    return rng.choice(TEXTS)


def varied_text(rng: random.Random) -> str:
    """A customer's post as the sandbox writes them, in English or Spanish, its blanks filled anew."""
    category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    language = rng.choice(("en", "es"))
    return fill_blanks(rng.choice(CUSTOMER_TEXTS[category][language]), rng)


def items_page(
    rng: random.Random, first: int, page_size: int, total: int, prefix: str = "", draw_text: Any = ten_texts
) -> list:
    """Items ``first`` to ``first + page_size`` of ``total``: texts drawn by ``draw_text``, authors drawn
    among a fifth as many people as items, one item in seven answering the one before."""
    from listening.connectors import FetchedAuthor, FetchedItem

    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        FetchedItem(
            external_id=f"{prefix}{i}",
            text=draw_text(rng),
            author=FetchedAuthor(
                external_id=f"{prefix}{rng.randint(1, total // 5 + 1)}",
                handle=f"{prefix}u{i}",
                followers=rng.randint(0, 50000),
            ),
            published_at=start + timedelta(seconds=i),
            parent_external_id=f"{prefix}{i - 1}" if i % 7 == 0 else "",
        )
        for i in range(first, min(first + page_size, total))
    ]


class StatementTimes:
    """The database time of the pages run ``within`` it, by kind of statement, and COMMIT's."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.commit = 0.0

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind[kind][0] += 1
        self.by_kind[kind][1] += seconds

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Django's ``execute_wrapper``: each statement timed."""
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.add(kind_of(sql), time.perf_counter() - began)

    @contextmanager
    def within(self) -> Iterator[None]:
        """Statements, COPYs (``config.bulk.copy_rows``, with their rows' encoding) and COMMITs timed."""
        copy_rows, commit = bulk.copy_rows, connection._commit

        def timed_copy(model: Any, columns: Any, rows: Any) -> None:
            began = time.perf_counter()
            try:
                copy_rows(model, columns, rows)
            finally:
                if rows:
                    self.add(f"COPY {model._meta.db_table}", time.perf_counter() - began)

        def timed_commit() -> None:
            began = time.perf_counter()
            try:
                commit()
            finally:
                self.commit += time.perf_counter() - began

        bulk.copy_rows, connection._commit = timed_copy, timed_commit
        try:
            with connection.execute_wrapper(self):
                yield
        finally:
            bulk.copy_rows = copy_rows
            del connection._commit  # the class's own again

    def report(self, pages: int, page_size: int) -> None:
        statements = sum(count for count, _seconds in self.by_kind.values())
        seconds = sum(seconds for _count, seconds in self.by_kind.values())
        print(
            f"database per page of {page_size} (--sql): {seconds / pages * 1000:.1f} ms in "
            f"{statements / pages:.1f} statements, and COMMIT {self.commit / pages * 1000:.1f} ms"
        )
        for kind, (count, spent) in sorted(self.by_kind.items(), key=lambda entry: -entry[1][1]):
            print(f"  {spent / pages * 1000:6.2f} ms  {count / pages:4.1f}x  {kind}")


class StepTimes:
    """The wall time of the pages run ``within`` it, by step of ``listening.ingest``: each step's
    own, without the steps it calls (the authors' upsert writes its rows with ``insert_rows``)."""

    # The steps of a page, as ``listening.ingest`` names them, in the order a page takes them; the
    # rows written (no label) are named after their table.
    STEPS: dict[str, str | None] = {
        "_channel_read": "channel read",
        "_known": "known items look-up",
        "suppressed_author_ids": "suppressed authors look-up",
        "_read": "reading (language, sentiment, intent, terms)",
        "_lock": "channel lock",
        "_keep_source_titles": "source titles",
        "_upsert_authors": "authors (their look-up and what is not the rows)",
        "insert_new": None,
        "insert_rows": None,
        "_link_threads": "thread links",
    }

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._inner: list[float] = []  # the time of the steps called by each step running

    def timed(self, label: str | None, call: Any) -> Any:
        def step(*args: Any, **kwargs: Any) -> Any:
            name = label or f"rows of {args[0]._meta.db_table}"
            self._inner.append(0.0)
            began = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent = time.perf_counter() - began
                self.seconds[name] += spent - self._inner.pop()
                if self._inner:
                    self._inner[-1] += spent

        return step

    @contextmanager
    def within(self) -> Iterator[None]:
        from listening import ingest, pipeline

        # A step an older or newer version does not have is left untimed (counted in the rest).
        saved = {name: getattr(ingest, name) for name in self.STEPS if hasattr(ingest, name)}
        lists = (pipeline._before_store_steps, pipeline._steps)
        saved_lists, history = [list(steps) for steps in lists], set(pipeline._history_steps)
        for name, call in saved.items():
            setattr(ingest, name, self.timed(self.STEPS[name], call))
        for steps in lists:
            for i, step in enumerate(steps):
                steps[i] = self.timed(f"pipeline step {step.__module__}.{step.__name__}", step)
                if step in history:
                    pipeline._history_steps.add(steps[i])
        commit, hooks = connection._commit, connection.run_and_clear_commit_hooks
        connection._commit = self.timed("COMMIT", commit)
        connection.run_and_clear_commit_hooks = self.timed("after commit (task messages)", hooks)
        try:
            yield
        finally:
            for name, call in saved.items():
                setattr(ingest, name, call)
            for steps, kept in zip(lists, saved_lists, strict=True):
                steps[:] = kept
            pipeline._history_steps.intersection_update(history)
            connection._commit, connection.run_and_clear_commit_hooks = commit, hooks

    def report(self, per_page: list[float], page_size: int) -> None:
        pages, total = len(per_page), sum(per_page)
        print(f"wall time per page of {page_size} (--steps): {total / pages * 1000:.1f} ms")
        for label, spent in sorted(self.seconds.items(), key=lambda entry: -entry[1]):
            print(f"  {spent / pages * 1000:6.2f} ms  {label}")
        print(
            f"  {(total - sum(self.seconds.values())) / pages * 1000:6.2f} ms  the rest (building the mentions, savepoint, ...)"
        )


def server_cpu_clock() -> Callable[[], float] | None:
    """A clock of the CPU time of the database server's process serving this connection, where the
    server runs on this machine (PostgreSQL's backend, read from /proc); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        process = Path(f"/proc/{cursor.fetchone()[0]}")
    try:
        if process.joinpath("comm").read_text().strip() != "postgres":
            return None
    except OSError:
        return None  # a server on another machine, or a process of this one it cannot read

    def seconds() -> float:
        # The fields after the command's closing parenthesis, from the third (state) on: user and
        # system time are the 14th and 15th, in clock ticks.
        fields = process.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return seconds


def kind_of(sql: str) -> str:
    """A statement's verb and first table ("INSERT reports_channelday"), and how many more
    statements it carries (the rollups send theirs as one)."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql) or re.search(r"FROM\s+(\w+)", sql)
    more = sql.count(";")
    return " ".join(
        part for part in (verb, table.group(1) if table else "", f"and {more} more" if more else "") if part
    )


def run(
    total: int,
    page_size: int,
    draw_text: Any = ten_texts,
    statements: StatementTimes | None = None,
    steps: StepTimes | None = None,
    *,
    refused: bool = False,
    route: bool = True,
) -> None:
    from listening.ingest import ingest_items
    from listening.models import Brand, Channel, Mention, Platform
    from responses.models import Ticket

    call_command("demo_setup", verbosity=0, stdout=open(os.devnull, "w"))
    brand = Brand.objects.get(slug="acme")
    channel = Channel.objects.create(brand=brand, platform=Platform.X, name="bench", settings={"user_id": "1"})
    rng = random.Random(3)

    def page(first: int) -> list:
        return items_page(rng, first, page_size, total, draw_text=draw_text)

    # What a worker does once per process, at its first page, is done before timing: loading
    # lingua's language models and fitting the built-in intent models. Its time is printed apart.
    tick = time.perf_counter()
    warm_up(brand)
    warm = time.perf_counter() - tick

    from listening.sentiment import vader

    analyzer = vader()
    server_clock = server_cpu_clock()
    per_page: list[float] = []
    distinct: set[str] = set()
    # Bare VADER scores each page's texts straight after the page is stored, so both sides of the
    # ratio are timed on the machine as it is at that moment: a shared machine's speed moves by half
    # from one minute to the next, and the ratio of a run's pages to a scoring after them moved with it.
    bare_seconds = scoring_seconds = cpu = 0.0
    began, server_began = time.perf_counter(), server_clock() if server_clock else 0.0
    with statements.within() if statements else nullcontext(), steps.within() if steps else nullcontext():
        for first in range(0, total, page_size):
            items = page(first)
            texts = [item.text for item in items]
            distinct.update(texts)
            tick, cpu_tick = time.perf_counter(), time.process_time()
            ingest_items(channel=channel, items=items, cursor={"since_id": items[-1].external_id}, route=route)
            per_page.append(time.perf_counter() - tick)
            cpu += time.process_time() - cpu_tick
            # Twice: timed the second time, with the processor's caches its own again, as in a loop of
            # its own; neither is counted in the pages' time.
            scoring = time.perf_counter()
            for timed in (False, True):
                tick = time.perf_counter()
                for text in texts:
                    analyzer.polarity_scores(text)
                bare_seconds += (time.perf_counter() - tick) * timed
            scoring_seconds += time.perf_counter() - scoring
    elapsed = time.perf_counter() - began - scoring_seconds
    stored = Mention.objects.filter(channel=channel).count()
    bare = total / bare_seconds
    print(f"database: {connection.vendor}; {total} items in pages of {page_size}; {stored} mentions stored")
    print(f"texts: {len(distinct):,} distinct among {total:,}")
    tickets = Ticket.objects.filter(mention__channel=channel).count()
    routing = "the demo brand's rules" if route else "off (--no-route), as imported history is stored"
    print(f"routing: {routing}; tickets opened: {tickets:,}")
    print(f"bare VADER scoring of the same texts: {bare:,.0f} texts/s")
    print(
        f"new items: {total / elapsed:,.0f} items/s; per page median {statistics.median(per_page) * 1000:.1f} ms, "
        f"p95 {sorted(per_page)[int(len(per_page) * 0.95) - 1] * 1000:.1f} ms"
    )
    print(f"ratio to bare VADER: {total / elapsed / bare:.3f}")
    # On a shared machine the wall clock counts other processes' turns: the CPU time of this process
    # (its ingest_items calls) and of the database server's process serving it show what the
    # pipeline costs, whatever else the machine runs.
    print(f"this process's CPU time: {cpu:.1f} s of {elapsed:.1f} s, {total / cpu:,.0f} items per CPU second")
    if server_clock:
        server_cpu = server_clock() - server_began
        print(
            f"database server's CPU time (its process for this connection): {server_cpu:.1f} s; "
            f"both: {(cpu + server_cpu) / total * 1e6:,.0f} µs of CPU per new item"
        )
    print(f"warm-up (once per process): {warm:.1f} s; with it: {total / (elapsed + warm):,.0f} items/s")
    if statements:
        statements.report(len(per_page), page_size)
    if steps:
        steps.report(per_page, page_size)

    redelivered = []
    for first in range(0, min(total, 50 * page_size), page_size):
        items = page(first)
        tick = time.perf_counter()
        result = ingest_items(channel=channel, items=items)
        redelivered.append(time.perf_counter() - tick)
        assert not result.created
    print(
        f"redelivered pages (all known): median {statistics.median(redelivered) * 1000:.1f} ms per page of {page_size}"
    )
    if refused:
        refused_pages(channel, page_size, draw_text, route=route)


def refused_pages(channel: Any, page_size: int, draw_text: Any, pages: int = 5, *, route: bool = True) -> None:
    """New pages stored alternately whole and with one item the database refuses (a follower count
    past its column's range) in their middle: the time such a page takes beside a clean one."""
    from dataclasses import replace

    from listening.connectors import FetchedAuthor
    from listening.ingest import ingest_items

    rng, prefix = random.Random(5), "refused-"
    times: dict[bool, list[float]] = {False: [], True: []}
    for n in range(2 * pages):
        items = items_page(rng, n * page_size, page_size, 2 * pages * page_size, prefix=prefix, draw_text=draw_text)
        bad = n % 2 == 1
        if bad:
            middle = len(items) // 2
            items[middle] = replace(items[middle], author=FetchedAuthor(external_id=f"{prefix}liar", followers=10**19))
        tick = time.perf_counter()
        result = ingest_items(channel=channel, items=items, route=route)
        times[bad].append(time.perf_counter() - tick)
        assert len(result.rejected) == bad and len(result.created) == len(items) - bad
    print(
        f"pages with one item the database refuses: median {statistics.median(times[True]) * 1000:.1f} ms "
        f"per page of {page_size}, against {statistics.median(times[False]) * 1000:.1f} ms for a whole one"
    )


def run_together(
    total: int,
    page_size: int,
    processes: int,
    draw_text: Any = ten_texts,
    *,
    one_channel: bool = False,
    route: bool = True,
) -> None:
    """``total`` new items, a ``processes``-th each, stored by ``processes`` processes at once: each
    into a channel of its own, or with ``one_channel`` all into one."""
    import multiprocessing

    from listening.models import Brand, Channel, Platform

    brand = Brand.objects.get(slug="acme")
    channels = [
        Channel.objects.create(brand=brand, platform=Platform.X, name=f"bench {k}", settings={"user_id": str(k)})
        for k in range(1 if one_channel else processes)
    ]
    connection.close()  # each process opens its own, as a pool process does
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    pool = [
        context.Process(
            target=_store_pages,
            args=(
                channels[0 if one_channel else k].pk,
                k,
                total // processes,
                page_size,
                draw_text,
                route,
                go,
                results,
            ),
        )
        for k in range(processes)
    ]
    for process in pool:
        process.start()
    began = time.perf_counter()
    go.set()
    reports = [results.get() for _ in pool]
    elapsed = time.perf_counter() - began
    for process in pool:
        process.join()
    for count, failure in reports:
        if count is None:
            raise SystemExit(f"a process failed:\n{failure}")
    stored = sum(count for count, _pages in reports)
    per_page = sorted(seconds for _count, pages in reports for seconds in pages)
    print(
        f"{processes} processes at once, {'one channel' if one_channel else 'a channel each'}: "
        f"{stored / elapsed:,.0f} new items/s; per page median "
        f"{statistics.median(per_page) * 1000:.1f} ms, p95 {per_page[int(len(per_page) * 0.95) - 1] * 1000:.1f} ms"
    )


def _store_pages(
    channel_id: int, k: int, total: int, page_size: int, draw_text: Any, route: bool, go: Any, results: Any
) -> None:
    from listening.ingest import ingest_items
    from listening.models import Channel, Mention

    try:
        channel = Channel.objects.get(pk=channel_id)
        rng = random.Random(100 + k)
        prefix = f"w{k}-"  # this process's own items and people
        pages = [items_page(rng, first, page_size, total, prefix, draw_text) for first in range(0, total, page_size)]
        go.wait()
        per_page = []
        for items in pages:
            tick = time.perf_counter()
            ingest_items(channel=channel, items=items, cursor={"since_id": items[-1].external_id}, route=route)
            per_page.append(time.perf_counter() - tick)
        results.put((Mention.objects.filter(channel_id=channel_id, external_id__startswith=prefix).count(), per_page))
    except BaseException:
        results.put((None, traceback.format_exc()))  # the parent waits for every process's word
        raise
    finally:
        connection.close()


def warm_up(brand: object) -> None:
    import gc

    from django.urls import get_resolver

    from listening.language import detect_languages
    from listening.learning import analyzer_for

    get_resolver().url_patterns  # noqa: B018 (as the worker's parent does before it forks)

    analyze = analyzer_for(brand.pk)  # type: ignore[attr-defined]
    for text, language in zip(TEXTS, detect_languages(TEXTS), strict=True):
        analyze(text, language)
    # As the worker's parent does once it has loaded them (listening.tasks): the collector leaves
    # the models alone, where each full collection would otherwise walk lingua's ~140 MiB of objects.
    gc.freeze()


if __name__ == "__main__":
    flags = {"--varied", "--one-channel", "--sql", "--steps", "--refused", "--no-route"}
    unknown = [argument for argument in sys.argv[1:] if argument.startswith("--") and argument not in flags]
    if unknown:
        raise SystemExit(f"unknown option {unknown[0]}; the options are {', '.join(sorted(flags))}")
    main(
        *(int(argument) for argument in sys.argv[1:] if not argument.startswith("--")),
        varied="--varied" in sys.argv,
        one_channel="--one-channel" in sys.argv,
        sql="--sql" in sys.argv,
        steps="--steps" in sys.argv,
        refused="--refused" in sys.argv,
        route="--no-route" not in sys.argv,
    )
