"""Benchmark: routing a batch of new mentions, and previewing a rule over 30 days of mentions.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    .venv/bin/python bench/routing.py [mentions=100000]

Prints the wall time and the number of SQL queries of each step.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import throwaway_database  # noqa: E402

WORDS = "refund charged invoice broken great love hate slow app order delivery late price factura cobro".split()


def main(total: int) -> None:
    setup_test_environment()
    with throwaway_database():
        run(total)


def run(total: int) -> None:
    from listening.models import Author, Brand, Channel, Mention, Platform, TrackedTerm
    from responses.models import Department, RoutingRule
    from responses.routing import route_mentions
    from responses.selectors import rule_preview

    rng = random.Random(7)
    brand = Brand.objects.create(name="Bench", slug="bench")
    channels = [Channel.objects.create(brand=brand, platform=p, name=p) for p in (Platform.X, Platform.YOUTUBE)]
    Department.objects.create(brand=brand, name="Billing")
    rival = TrackedTerm.objects.create(brand=brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    authors = Author.objects.bulk_create(
        [Author(platform="x", external_id=str(i), handle=f"a{i}", followers=rng.randint(0, 50000)) for i in range(2000)]
    )
    now = timezone.now()
    started = time.perf_counter()
    batch: list[Mention] = []
    for i in range(total):
        batch.append(
            Mention(
                brand=brand,
                channel=channels[i % 2],
                external_id=str(i),
                author=authors[i % len(authors)],
                text=" ".join(rng.choices(WORDS, k=12)),
                language=rng.choice(["en", "es"]),
                sentiment_score=rng.choice([None, rng.uniform(-1, 1)]),
                published_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 40)),
                routing_log=[{"did": []}],
            )
        )
        if len(batch) == 5000:
            Mention.objects.bulk_create(batch)
            batch = []
    Mention.objects.bulk_create(batch)
    print(f"setup: {total} mentions in {time.perf_counter() - started:.1f}s")

    billing_rule = RoutingRule.objects.create(
        brand=brand,
        name="Billing",
        conditions=[
            {"field": "text", "op": "any", "value": ["refund", "charged", "factura"]},
            {"field": "sentiment", "op": "below", "value": -0.05},
        ],
        actions=[{"type": "tag", "tag": "billing"}],
        stop_processing=False,
        position=0,
    )
    RoutingRule.objects.create(
        brand=brand,
        name="Rivals",
        match="any",
        conditions=[
            {"field": "term_kind", "op": "any", "value": ["competitor"]},
            {"field": "followers", "op": "above", "value": 40000},
        ],
        actions=[{"type": "tag", "tag": "watch"}],
        position=1,
    )

    for label, rule in (("preview (all, sentiment prefilter)", billing_rule),):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = rule_preview(rule=rule)
            elapsed = time.perf_counter() - started
        print(f"{label}: {result.count} matches of {result.scanned} scanned in {elapsed:.2f}s, {len(queries)} queries")

    new = Mention.objects.bulk_create(
        [
            Mention(
                brand=brand,
                channel=channels[i % 2],
                external_id=f"new-{i}",
                author=authors[i],
                text=" ".join(rng.choices(WORDS, k=12)),
                sentiment_score=rng.uniform(-1, 1),
                published_at=now,
            )
            for i in range(500)
        ]
    )
    Mention.terms.through.objects.bulk_create(
        [Mention.terms.through(mention_id=m.pk, trackedterm_id=rival.pk) for m in new[::10]]
    )
    fresh = list(Mention.objects.filter(external_id__startswith="new-"))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        route_mentions(fresh)
        elapsed = time.perf_counter() - started
    tagged = sum(1 for m in fresh if m.tags)
    print(f"route_mentions: 500 new mentions ({tagged} tagged) in {elapsed:.2f}s, {len(queries)} queries")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
