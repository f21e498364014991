"""Benchmark: many channels polled on schedule by beat's dispatcher and two workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/polling.py \\
        [channels=10000] [seconds=300] [workers=2]

Starts, on loopback only, as ``bench/soak.py`` does: its own redis-server (the broker; the Redis
that REDIS_URL names is never touched), gunicorn serving the sandbox's alert feed, and ``workers``
Celery workers of the ``polling`` queue, one pool process each, with the production settings,
against a throwaway database. Creates ``channels`` feed channels of the sandbox's feed with mixed
poll intervals (1, 5, 15 and 60 minutes), each as a channel polled before (its cursor holds the
feed's validators), their next polls spread over one interval. Then, for ``seconds``, sends the
dispatcher's task (``listening.dispatch_due_channels``) as often as beat sends it, to the queue the
polls are on, where a worker runs it between polls, and stops the workers once their polls are done.

Prints the dispatcher's time per tick (claiming the due channels and queueing their polls; target
under 100 ms); the polls made per second against those due per second; how late each poll started
against its channel's schedule (p50, p95, max); the polls that came later than their channel's
interval plus 10 % after its previous poll (target none), and the channels left due that long at the
end; polls that failed; and polls of one channel that ran at the same time (target none), beside the
polls the dispatcher queued twice that the poll lock turned away. A probe loaded into each worker
(``bench/poll_probe.py``) writes down every poll's start and end, and every dispatch's time.

The feed answers every poll "not modified": nothing new, as for most polls of most channels, so
this measures what polling itself costs. The sandbox's web server runs on this machine and takes
its share of the cores, which real platforms' servers do not.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import Process, database_url, django_with_production_settings, redis_server, wait_for_http  # noqa: E402

INTERVALS = [60, 300, 900, 3600]
LATE_SHARE = 0.1  # a poll later than its interval plus this share of it is late
STARTUP_SECONDS = 120


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main(channels: int = 10_000, seconds: float = 300, workers: int = 2) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/polling.py runs its workers on PostgreSQL: set DATABASE_URL=postgres://…")
    work = Path(tempfile.mkdtemp(prefix="escucha-polling-"))
    redis, redis_url = redis_server(work)
    site = django_with_production_settings(redis_url)  # it queues the polls on that Redis
    from bench.common import throwaway_database

    try:
        with throwaway_database() as name:
            run(channels, seconds, workers, work, name, site)
    finally:
        redis.stop()


def run(count: int, seconds: float, workers: int, work: Path, db_name: str, site: str) -> None:
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from config.bulk import bulk_set
    from listening.connectors import get_connector
    from listening.models import Brand, Channel, Platform
    from listening.tasks import dispatch_due_channels
    from sandbox import generator

    tick = settings.CELERY_BEAT_SCHEDULE["dispatch-due-channels"]["schedule"]  # as beat runs it
    polls_dir = work / "polls"
    polls_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db_name),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SANDBOX_ENABLED": "true",
        "SANDBOX_FAULT_RATE": "0",
        "ESCUCHA_VAR_DIR": str(work / "var"),
        "PYTHONUNBUFFERED": "1",
        "BENCH_POLL_LOG": str(polls_dir),
    }
    web = Process("web", [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", site.removeprefix("http://"),
                          "--workers", "2", "--timeout", "60"], env, work / "web.log")  # fmt: skip
    pollers = [
        Process(f"worker-{k}", [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "polling",
                                "--concurrency", "1", "-n", f"polling{k}@bench", "-l", "info",
                                "--include", "bench.poll_probe"], env, work / f"worker-{k}.log")
        for k in range(workers)
    ]  # fmt: skip
    try:
        for process in (web, *pollers):
            process.start()
        rng = random.Random(5)
        generator.generate(5, platform="feed", seed=1)
        brand = Brand.objects.create(name="bench", slug="bench")
        url = f"{site}/sandbox/feed/rss.xml"
        far = timezone.now() + timedelta(days=1)  # none due before the workers are ready
        Channel.objects.bulk_create(
            [
                Channel(brand=brand, platform=Platform.FEED, name=f"feed {n}", settings={"url": url},
                        poll_interval_seconds=rng.choice(INTERVALS), next_poll_at=far)
                for n in range(count)
            ],
            batch_size=2000,
        )  # fmt: skip
        wait_for_http(f"{site}/healthz", STARTUP_SECONDS)
        # Each channel as polled before: its cursor holds what the feed answered then.
        cursor = get_connector(Channel.objects.filter(brand=brand).first()).fetch({}).cursor
        Channel.objects.filter(brand=brand).update(cursor=cursor)
        wait_for_workers(pollers)

        interval_of = dict(Channel.objects.values_list("pk", "poll_interval_seconds"))
        now = timezone.now()
        first_due = {pk: now + timedelta(seconds=rng.uniform(0, interval)) for pk, interval in interval_of.items()}
        bulk_set(Channel, [Channel(pk=pk, next_poll_at=at) for pk, at in first_due.items()], ["next_poll_at"])
        print(
            f"channels: {count} feed channels, intervals {', '.join(str(i) for i in INTERVALS)} s, "
            f"{workers} workers, the dispatcher every {tick:g} s for {seconds:.0f} s",
            flush=True,
        )
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            started = time.perf_counter()
            dispatch_due_channels.delay()  # as beat sends it, to the queue the polls are on
            time.sleep(max(0.0, tick - (time.perf_counter() - started)))
        stopped = timezone.now()
    finally:
        connections.close_all()
        # The workers first, each told to finish the poll it is running (a warm shutdown: the
        # signal to its main process alone), then the feed's server.
        for poller in pollers:
            if poller.popen is not None:
                poller.popen.send_signal(signal.SIGTERM)
        for process in (*pollers, web):
            try:
                if process.popen is not None:
                    process.popen.wait(60)
            except subprocess.TimeoutExpired:
                pass
            process.stop()
    turned_away = sum(p.log.read_text().count("is already being polled") for p in pollers)
    report(polls_dir, interval_of, first_due, stopped, seconds, turned_away)


def wait_for_workers(workers: list[Process]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not all(" ready." in p.log.read_text() for p in workers):
        if time.monotonic() > deadline:
            raise SystemExit(f"the workers were not ready within {STARTUP_SECONDS} s; logs in {workers[0].log.parent}")
        time.sleep(0.5)


def report(
    polls_dir: Path,
    interval_of: dict[int, int],
    first_due: dict[int, datetime],
    stopped: datetime,
    seconds: float,
    turned_away: int,
) -> None:
    runs: dict[int, list[tuple[float, float, bool]]] = defaultdict(list)
    for log in polls_dir.glob("*.polls"):
        for line in log.read_text().splitlines():
            pk, start, end, failed = line.split()
            runs[int(pk)].append((float(start), float(end), failed == "1"))
    tick_ms: list[float] = []
    queued = 0
    for log in polls_dir.glob("*.dispatches"):
        for line in log.read_text().splitlines():
            ms, claimed = line.split()
            tick_ms.append(float(ms))
            queued += int(claimed)
    stop = stopped.timestamp()
    lateness: list[float] = []
    late = together = failed = 0
    left_due = 0
    for pk, interval in interval_of.items():
        polls = sorted(runs.get(pk, ()))
        # Due at its first due time; after a poll, one interval after that poll ended (as the poll
        # sets it). Before its first poll, it is taken as polled one interval before its first due time.
        due, previous_start, previous_end = first_due[pk].timestamp(), first_due[pk].timestamp() - interval, None
        for start, end, poll_failed in polls:
            if previous_end is not None and start < previous_end:
                together += 1
            lateness.append(start - due)
            late += start - previous_start > (1 + LATE_SHARE) * interval
            failed += poll_failed
            previous_start, previous_end, due = start, end, end + interval
        left_due += stop - due > LATE_SHARE * interval
    made = sum(len(polls) for polls in runs.values())
    due_rate = sum(1 / interval for interval in interval_of.values())
    print(
        f"dispatcher per tick (claim and queue): median {statistics.median(tick_ms or [0]):.0f} ms, "
        f"p95 {pct(tick_ms, 0.95):.0f} ms, max {max(tick_ms, default=0):.0f} ms over {len(tick_ms)} ticks "
        f"(target < 100 ms); {queued} polls queued"
    )
    print(f"polls made: {made}, {made / seconds:.1f} per second, against {due_rate:.1f} due per second")
    print(
        f"poll start against schedule: p50 {pct(lateness, 0.5):.1f} s, p95 {pct(lateness, 0.95):.1f} s, "
        f"max {max(lateness, default=0):.1f} s over {len(lateness)} polls"
    )
    print(
        f"polls later than their interval plus {LATE_SHARE:.0%}: {late} of {made}; "
        f"channels left due that long at the end: {left_due} of {len(interval_of)}"
    )
    print(f"polls failed: {failed}; queued twice and turned away by the poll lock: {turned_away}")
    print(f"polls of one channel at once: {together}")


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:4]]
    main(*arguments)
