"""Platform deletion benchmark: N mentions in PostgreSQL, then time the deletion checks over one channel.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha \
        .venv/bin/python bench/platform_deletions.py --mentions 1000000 --runs 3 --batch 100000

Loads N mentions spread over --days days on three channels (bench/reports.py's loader, COPY around
the pipeline) and counts their rollups. Then runs ``platform_deletions_check`` --runs times on one
channel whose platform is played by a stand-in connector: every stored mention is due (the
YouTube case: no window, refreshed 20 days after it was stored), --batch ids are asked a run, and
the platform says one in --gone-every is gone. Prints each run's time, split into reading the ids
due, marking the ones found, and erasing the ones gone, with its time per 100,000 ids asked: the
later runs cost what the first did only if each run reads just the ids due (mention_deletion_check_idx),
not the ones checked before. Checks that the report's totals (QualityDay, ChannelDay) are the same after.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django

django.setup()

from bench.common import throwaway_database  # noqa: E402
from bench.reports import load  # noqa: E402
from bench.retention import totals  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100_000, help="ids asked a run")
    parser.add_argument("--gone-every", type=int, default=100, help="the platform says 1 in this many is gone")
    args = parser.parse_args()

    from listening import privacy
    from listening.connectors.base import DeletionCheck
    from listening.models import Channel, Mention, Platform
    from reports.rollups import rollups_refresh

    timings: dict[str, float] = {}

    class StandIn:
        """A platform that knows every id and says one in ``--gone-every`` is gone."""

        deletion_batch = args.batch
        deletion_recheck_hours = 20 * 24

        @staticmethod
        def deletion_window_days() -> None:
            return None

        def check_deleted(self, external_ids: list[str], state: dict[str, Any]) -> DeletionCheck:
            timings["read"] = time.perf_counter() - timings["start"]
            gone = frozenset(external_ids[:: args.gone_every])
            timings["asked_at"] = time.perf_counter()
            return DeletionCheck(gone=gone, checked=frozenset(external_ids))

    erase = privacy.platform_deletions_apply

    def timed_apply(**kwargs: Any) -> int:
        timings["marked"] = time.perf_counter() - timings["asked_at"]
        started = time.perf_counter()
        try:
            return erase(**kwargs)
        finally:
            timings["erased"] = time.perf_counter() - started

    privacy.get_connector = lambda channel: StandIn()
    privacy.platform_deletions_apply = timed_apply

    with throwaway_database():
        start = time.perf_counter()
        brand, _manager = load(args.mentions, args.days)
        print(f"load {args.mentions:,} mentions over {args.days} days: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        rollups_refresh()
        print(f"rollups counted: {time.perf_counter() - start:.1f} s")
        channel = Channel.objects.get(brand=brand, platform=Platform.FACEBOOK)
        stored = Mention.objects.filter(channel=channel).count()
        print(f"channel under check: {stored:,} mentions")
        before = totals(brand.pk)
        for run in range(1, args.runs + 1):
            timings["start"] = start = time.perf_counter()
            outcome = privacy.platform_deletions_check(channel=channel)
            took = time.perf_counter() - start
            per = took / outcome.asked * 100_000 if outcome.asked else 0.0
            print(
                f"run {run}: asked {outcome.asked:,}, erased {outcome.erased:,} in {took:.1f} s "
                f"(read due {timings.get('read', 0):.1f} s, marked found {timings.get('marked', 0):.1f} s, "
                f"erased {timings.get('erased', 0):.1f} s) = {per:.1f} s per 100,000 ids asked"
            )
        after = totals(brand.pk)
        print(f"report totals before {before}, after {after}: {'the same' if before == after else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
