"""Benchmark: the memory of each Celery pool process after its first ingestion.

Needs PostgreSQL and Redis (the worker is a process of its own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/memory.py [concurrency=2] [batch=200]

Starts a real worker (prefork, ``concurrency`` pool processes) on a throwaway database and a queue
of its own, has every pool process ingest a mixed-language batch through ``ingest_items`` (the
path of every poll and webhook: language, sentiment, intent, terms, routing), and prints, from
/proc, each process's resident memory (RSS), its proportional share (PSS: shared pages divided
among the processes that share them) and what is its alone (USS).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

from config.celery import app  # noqa: E402

TASK = "bench.memory_ingest"
# One line each in the languages lingua tells apart, as a brand's mentions mix them.
TEXTS = (
    "I love my new Acme anvil, best purchase this year!",
    "@acme I was charged twice for the same order, I want a refund now",
    "Me encanta el nuevo yunque de Acme, la mejor compra del año",
    "@acme me cobraron dos veces el mismo pedido y nadie contesta",
    "Adorei a bigorna nova da Acme, recomendo a todos os meus amigos",
    "J'adore la nouvelle enclume d'Acme, livraison rapide et soignée",
    "Der neue Amboss von Acme ist großartig, aber die Lieferung war langsam",
    "Adoro la nuova incudine di Acme, spedizione veloce e ottimo servizio",
    "M'encanta la nova enclusa d'Acme, el servei ha estat molt bo",
    "¿Alguien sabe si el Roadrunner Pro es compatible con los cohetes viejos?",
)


if os.environ.get("BENCH_MEMORY_QUEUE"):  # in the worker: its queue ingests, as `polling` does
    from listening import tasks as listening_tasks

    listening_tasks.INGESTING_QUEUES = listening_tasks.INGESTING_QUEUES | {os.environ["BENCH_MEMORY_QUEUE"]}


@app.task(name=TASK, ignore_result=True)
def memory_ingest(channel_id: int, batch: int, size: int) -> None:
    """Ingest ``size`` mixed-language items; each mention's source names the pool process."""
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import Channel

    channel = Channel.objects.select_related("brand").get(pk=channel_id)
    now = datetime.now(UTC)
    items = [
        FetchedItem(
            external_id=f"{batch}-{n}",
            text=f"{TEXTS[n % len(TEXTS)]} #{n}",
            author=FetchedAuthor(external_id=f"person-{n % 50}", handle=f"person{n % 50}"),
            published_at=now,
            source=f"pid:{os.getpid()}",
        )
        for n in range(size)
    ]
    ingest_items(channel=channel, items=items)


def memory_of(pid: int) -> dict[str, int]:
    """RSS, PSS and USS of ``pid`` in KiB, from /proc."""
    figures = {"rss": 0, "pss": 0, "uss": 0}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        value = int(rest.split()[0]) if rest.strip() and rest.split()[0].isdigit() else 0
        if name == "Rss":
            figures["rss"] = value
        elif name == "Pss":
            figures["pss"] = value
        elif name in ("Private_Clean", "Private_Dirty"):
            figures["uss"] += value
    return figures


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return sorted(found)


def main(concurrency: int = 2, size: int = 200) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from bench.common import throwaway_database
    from listening.models import Brand, Channel, Mention, Platform

    setup_test_environment()
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        sys.exit("bench/memory.py needs DATABASE_URL (PostgreSQL) and REDIS_URL: the worker is a process of its own.")
    with throwaway_database() as name:
        brand = Brand.objects.create(name="Acme", slug="acme")
        channel = Channel.objects.create(brand=brand, platform=Platform.X, name="Acme on X")
        queue = f"bench-memory-{os.getpid()}"
        params = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST'] or '127.0.0.1'}:"
            f"{params['PORT'] or 5432}/{name}",
            "CELERY_BROKER_URL": os.environ["REDIS_URL"],
            "BENCH_MEMORY_QUEUE": queue,
        }
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork"),
                *(f"--concurrency={concurrency}", "-Q", queue, "--include=bench.memory", "--loglevel=WARNING"),
                *("-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # the worker's banner; its errors still show
        )
        try:
            pool: list[int] = []
            for _ in range(240):  # the worker loads Django, then forks its pool
                pool = children_of(worker.pid)
                if len(pool) >= concurrency:
                    break
                time.sleep(0.5)
            time.sleep(2)
            before = {pid: memory_of(pid) for pid in [worker.pid, *pool]}
            sent = 0
            deadline = time.monotonic() + 600
            # Until every pool process has ingested a batch (prefetch 1: an idle process takes the next),
            # at most one batch in flight per pool process. On a loaded machine one process may take
            # batch after batch while the other waits for a turn, so batches go on until each had one.
            while time.monotonic() < deadline:
                busy = set(Mention.objects.filter(channel=channel).values_list("source", flat=True).distinct())
                if {f"pid:{pid}" for pid in pool} <= busy and Mention.objects.count() == sent * size:
                    break
                if sent < len(pool) * 50 and Mention.objects.count() >= (sent - len(pool)) * size:
                    app.send_task(TASK, args=[channel.pk, sent, size], queue=queue)
                    sent += 1
                time.sleep(0.5)
            else:
                sys.exit("the worker did not ingest every batch within 10 minutes")
            after = {pid: memory_of(pid) for pid in [worker.pid, *pool]}
            print(f"worker: prefork, {len(pool)} pool processes, {sent} batches of {size} mixed-language items")
            print(f"{'process':<22}{'RSS before':>12}{'RSS after':>12}{'PSS after':>12}{'USS after':>12}")
            for pid in [worker.pid, *pool]:
                role = "parent" if pid == worker.pid else "pool"
                row = [before[pid]["rss"], after[pid]["rss"], after[pid]["pss"], after[pid]["uss"]]
                print(f"{role + f' {pid}':<22}" + "".join(f"{value / 1024:>9.1f} MiB" for value in row))
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


if __name__ == "__main__":
    arguments = [int(argument) for argument in sys.argv[1:3]]
    main(*arguments)
