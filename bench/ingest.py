"""Benchmark: the ingestion pipeline, page by page, as a poll feeds it.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/ingest.py [items=20000] [page=100]

Each page goes through ingest_items with the demo brand's terms and routing rules: language
detection, sentiment (English and Spanish), term matching, authors, threads and routing.
Prints items per second for new items, next to bare VADER scoring of the same texts in the same
run and their ratio, this process's CPU time, and the time of a redelivered page (everything
already known). What a worker does once per process (loading the language models, fitting the
built-in intent models, importing the URLconf) is done before timing and printed apart, with the rate including it.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.common import tasks_queued_in_memory, throwaway_database  # noqa: E402

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


def main(total: int, page_size: int) -> None:
    tasks_queued_in_memory()
    setup_test_environment()
    with throwaway_database():
        run(total, page_size)


def run(total: int, page_size: int) -> None:
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import Brand, Channel, Mention, Platform

    call_command("demo_setup", verbosity=0, stdout=open(os.devnull, "w"))
    brand = Brand.objects.get(slug="acme")
    channel = Channel.objects.create(brand=brand, platform=Platform.X, name="bench", settings={"user_id": "1"})
    rng = random.Random(3)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def page(first: int) -> list[FetchedItem]:
        return [
            FetchedItem(
                external_id=str(i),
                text=rng.choice(TEXTS),
                author=FetchedAuthor(
                    external_id=str(rng.randint(1, total // 5 + 1)), handle=f"u{i}", followers=rng.randint(0, 50000)
                ),
                published_at=start + timedelta(seconds=i),
                parent_external_id=str(i - 1) if i % 7 == 0 else "",
            )
            for i in range(first, min(first + page_size, total))
        ]

    # What a worker does once per process, at its first page, is done before timing: loading
    # lingua's language models and fitting the built-in intent models. Its time is printed apart.
    tick = time.perf_counter()
    warm_up(brand)
    warm = time.perf_counter() - tick

    per_page: list[float] = []
    texts: list[str] = []
    began, cpu = time.perf_counter(), time.process_time()
    for first in range(0, total, page_size):
        items = page(first)
        texts += [item.text for item in items]
        tick = time.perf_counter()
        ingest_items(channel=channel, items=items, cursor={"since_id": items[-1].external_id})
        per_page.append(time.perf_counter() - tick)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    stored = Mention.objects.filter(channel=channel).count()

    from listening.sentiment import vader

    analyzer = vader()
    tick = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    bare = len(texts) / (time.perf_counter() - tick)
    print(f"database: {connection.vendor}; {total} items in pages of {page_size}; {stored} mentions stored")
    print(f"bare VADER scoring of the same texts: {bare:,.0f} texts/s")
    print(
        f"new items: {total / elapsed:,.0f} items/s; per page median {statistics.median(per_page) * 1000:.1f} ms, "
        f"p95 {sorted(per_page)[int(len(per_page) * 0.95) - 1] * 1000:.1f} ms"
    )
    print(f"ratio to bare VADER: {total / elapsed / bare:.3f}")
    # On a shared machine the wall clock counts other processes' turns: this process's own CPU
    # time (the database server's is not in it) shows what the pipeline costs.
    print(f"this process's CPU time: {cpu:.1f} s of {elapsed:.1f} s, {total / cpu:,.0f} items per CPU second")
    print(f"warm-up (once per process): {warm:.1f} s; with it: {total / (elapsed + warm):,.0f} items/s")

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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000, int(sys.argv[2]) if len(sys.argv) > 2 else 100)
