"""Benchmark: beat's dispatcher over many channels: its time per tick and how late it claims each.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/polling.py [channels=10000] [seconds=60]

Creates the channels with mixed poll intervals (1, 5, 15 and 60 minutes), their next polls spread
over one interval, then runs the dispatcher's claim (``channels_claim_due``) every 5 seconds, as
beat does, for ``seconds``. No worker polls: a claimed channel is treated as polled at once (its
next poll one interval after its due time). Prints the claim time per tick (median, p95, max;
target under 100 ms), how late each channel was claimed against its schedule (p50, p95, max),
the channels still waiting at the end, and any channel claimed twice in one tick.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import throwaway_database  # noqa: E402

INTERVALS = [60, 300, 900, 3600]
TICK = 5.0


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main(channels: int, seconds: float) -> None:
    setup_test_environment()
    with throwaway_database():
        run(channels, seconds)


def run(count: int, seconds: float) -> None:
    from config.bulk import bulk_set
    from listening.models import Brand, Channel, Platform
    from listening.polling import channels_claim_due

    rng = random.Random(5)
    brand = Brand.objects.create(name="bench", slug="bench")
    now = timezone.now()
    rows = []
    for number in range(count):
        interval = rng.choice(INTERVALS)
        rows.append(
            Channel(
                brand=brand,
                platform=Platform.FEED,
                name=f"feed {number}",
                settings={"url": f"https://example.com/{number}.xml"},
                poll_interval_seconds=interval,
                next_poll_at=now + timedelta(seconds=rng.uniform(0, interval)),
            )
        )
    Channel.objects.bulk_create(rows, batch_size=2000)
    interval_of = dict(Channel.objects.values_list("pk", "poll_interval_seconds"))
    due_at = dict(Channel.objects.values_list("pk", "next_poll_at"))
    print(
        f"channels: {count}, intervals {', '.join(str(i) for i in INTERVALS)} s, ticks every {TICK:.0f} s for {seconds:.0f} s"
    )

    tick_ms: list[float] = []
    lateness: list[float] = []
    twice = 0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        started = time.perf_counter()
        claimed = channels_claim_due()
        tick_ms.append((time.perf_counter() - started) * 1000)
        at = timezone.now()
        twice += len(claimed) - len(set(claimed))
        polled = []
        for pk in claimed:
            lateness.append((at - due_at[pk]).total_seconds())
            # Polled at once: the next poll one interval after this one was due (as channel_poll sets it).
            due_at[pk] = due_at[pk] + timedelta(seconds=interval_of[pk])
            polled.append(Channel(pk=pk, next_poll_at=due_at[pk]))
        # The workers' writes, which run beside the dispatcher, in one statement: one UPDATE per
        # channel here made the ticks themselves late.
        bulk_set(Channel, polled, ["next_poll_at"])
        time.sleep(max(0.0, TICK - (time.perf_counter() - started)))
    waiting = Channel.objects.filter(next_poll_at__lte=timezone.now()).count()
    print(
        f"dispatcher claim per tick: median {statistics.median(tick_ms):.0f} ms, p95 {pct(tick_ms, 0.95):.0f} ms, "
        f"max {max(tick_ms):.0f} ms over {len(tick_ms)} ticks (target < 100 ms)"
    )
    print(
        f"claim lateness against schedule: p50 {pct(lateness, 0.5):.1f} s, p95 {pct(lateness, 0.95):.1f} s, "
        f"max {max(lateness, default=0):.1f} s over {len(lateness)} claims"
    )
    print(f"due and not yet claimed at the end: {waiting}; claimed twice in one tick: {twice}")


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    main(arguments[0] if arguments else 10_000, arguments[1] if len(arguments) > 1 else 60)
