"""Retention benchmark: N mentions in PostgreSQL, then time erasing the oldest in nightly-sized runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha \
        .venv/bin/python bench/retention.py --mentions 1000000 --runs 2 --per-run 100000

Loads N mentions spread over --days days (bench/reports.py's loader, COPY around the pipeline),
counts their rollups, sets the brand's retention so that most are past it, then runs
``retention_run`` --runs times with ``limit=--per-run`` (what the nightly task does, batches of
500) and prints each run's time and its time per 100,000 mentions: the later runs cost what the
first did only if each batch reads just what it erases, not the husks the earlier batches left.
Checks that the report's totals (QualityDay, ChannelDay) are the same after as before.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django

django.setup()

from django.db.models import Sum  # noqa: E402

from bench.common import throwaway_database  # noqa: E402
from bench.reports import load  # noqa: E402


def totals(brand_id: int) -> tuple[int, int]:
    from reports.models import ChannelDay, QualityDay

    quality = QualityDay.objects.filter(brand_id=brand_id).aggregate(n=Sum("total"))["n"] or 0
    channels = ChannelDay.objects.filter(brand_id=brand_id).aggregate(n=Sum("count"))["n"] or 0
    return quality, channels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--keep-days", type=int, default=30, help="the brand's retention period")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--per-run", type=int, default=100_000)
    args = parser.parse_args()

    from listening.models import Mention
    from listening.privacy import retention_cutoff, retention_due, retention_run
    from reports.rollups import rollups_refresh

    with throwaway_database():
        start = time.perf_counter()
        brand, _manager = load(args.mentions, args.days)
        print(f"load {args.mentions:,} mentions over {args.days} days: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        rollups_refresh()
        print(f"rollups counted: {time.perf_counter() - start:.1f} s")
        brand.retention_days = args.keep_days
        brand.save(update_fields=["retention_days"])
        due = retention_due(brand=brand, before=retention_cutoff(brand)).count()
        print(f"past a {args.keep_days}-day retention: {due:,} mentions")
        before = totals(brand.pk)
        for run in range(1, args.runs + 1):
            start = time.perf_counter()
            counts = retention_run(brand=brand, limit=args.per_run)
            took = time.perf_counter() - start
            erased = counts.get("listening.Mention", 0)
            per = took / erased * 100_000 if erased else 0.0
            print(f"run {run}: erased {erased:,} mentions in {took:.1f} s = {per:.1f} s per 100,000 mentions")
        after = totals(brand.pk)
        erased_total = Mention.objects.filter(brand=brand, erased_at__isnull=False).count()
        print(f"erased in all: {erased_total:,}; report totals before {before}, after {after}: "
              f"{'the same' if before == after else 'DIFFERENT'}")  # fmt: skip


if __name__ == "__main__":
    main()
