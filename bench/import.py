"""Benchmark: ``import_mentions`` of a large generated history file, interrupted once and resumed.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/import.py [lines=100000] [batch=1000]

Writes ``lines`` JSON Lines (one in a thousand broken, to be reported) into a temporary file and
imports it with ``--no-route`` into the demo brand, as history is imported. Halfway, the process
sends itself SIGINT in the middle of a batch (as Ctrl-C would), then runs the same command again,
which resumes after the last committed batch. Prints the time, lines per second, the peak memory
of the process (getrusage maxrss) and the proof that nothing was stored twice or lost.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.core.management import CommandError, call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.common import tasks_queued_in_memory, throwaway_database  # noqa: E402
from bench.ingest import TEXTS  # noqa: E402

BROKEN_EVERY = 1000


def generate(path: Path, lines: int) -> int:
    """Writes the file line by line (memory stays flat); returns the number of good lines."""
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    good = 0
    with path.open("w", encoding="utf-8") as handle:
        for number in range(1, lines + 1):
            if number % BROKEN_EVERY == 0 or number == lines // 3:
                handle.write('{"id": "broken", "text": \n')
                continue
            good += 1
            row = {
                "id": str(number),
                "text": rng.choice(TEXTS),
                "created_at": (start + timedelta(seconds=number * 30)).isoformat(),
                "author": f"user{rng.randint(1, lines // 5 + 1)}",
                "author_followers": rng.randint(0, 50000),
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return good


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(lines: int, batch: int) -> None:
    tasks_queued_in_memory()
    setup_test_environment()
    with throwaway_database(), tempfile.TemporaryDirectory() as folder:
        run(Path(folder) / "history.jsonl", lines, batch)


def run(path: Path, lines: int, batch: int) -> None:
    from listening.language import detect_language
    from listening.management.commands import import_mentions
    from listening.models import Brand, Channel, ImportCheckpoint, Mention, Platform

    call_command("demo_setup", verbosity=0, stdout=open(os.devnull, "w"))
    channel = Channel.objects.create(
        brand=Brand.objects.get(slug="acme"), platform=Platform.X, name="history", settings={"user_id": "1"}
    )
    began = time.perf_counter()
    detect_language(TEXTS[0])  # the language models load once per process: not part of the import's rate
    print(f"language models loaded in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    good = generate(path, lines)
    print(
        f"file: {lines} lines ({lines - good} broken), {path.stat().st_size / 1e6:.1f} MB, "
        f"written in {time.perf_counter() - began:.1f} s; peak memory so far {peak_mb():.0f} MB"
    )
    batches = -(-good // batch)
    stop_at = max(1, batches // 2)
    real, calls = import_mentions.ingest_items, [0]

    def interrupted(**kwargs):
        result = real(**kwargs)
        calls[0] += 1
        if calls[0] == stop_at:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, inside the batch's transaction
        return result

    # A process started in the background may inherit SIGINT ignored; Ctrl-C's handler, as on a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    arguments = [str(path), "--channel", str(channel.pk), "--no-route", "--batch-size", str(batch), "--quiet"]
    import_mentions.ingest_items = interrupted
    began = time.perf_counter()
    err = StringIO()
    try:
        call_command("import_mentions", *arguments, stdout=StringIO(), stderr=err)
        raise SystemExit("the import was not interrupted")
    except CommandError as stopped:
        message = str(stopped)
    finally:
        import_mentions.ingest_items = real
    first = time.perf_counter() - began
    committed = ImportCheckpoint.objects.get(channel=channel).line
    stored_then = Mention.objects.filter(channel=channel).count()
    print(f"interrupted in batch {stop_at} of {batches} after {first:.1f} s: {message}")
    print(f"  committed: lines up to {committed}, {stored_then} mentions")

    out = StringIO()
    began = time.perf_counter()
    call_command("import_mentions", *arguments, stdout=out, stderr=err)
    second = time.perf_counter() - began
    elapsed = first + second
    print(f"resumed: {out.getvalue().strip().splitlines()[-1]} ({second:.1f} s)")
    stored = Mention.objects.filter(channel=channel).count()
    distinct = Mention.objects.filter(channel=channel).values("external_id").distinct().count()
    # A bad line in the batch that was interrupted is read, and reported, again by the resume.
    reported = len({line.split(": skipped, ")[0] for line in err.getvalue().splitlines() if ": skipped, " in line})
    print(
        f"stored: {stored} mentions, {distinct} distinct ids, {good} good lines in the file; bad lines reported: {reported} distinct"
    )
    print(f"import time: {elapsed:.1f} s, {lines / elapsed:,.0f} lines/s ({good / elapsed:,.0f} mentions/s)")
    print(f"peak memory (maxrss): {peak_mb():.0f} MB")
    if not (stored == distinct == good and reported == lines - good):
        raise SystemExit("stored twice or lost: see the figures above")


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    total = arguments[0] if arguments else 100_000
    main(total, arguments[1] if len(arguments) > 1 else min(1000, max(1, total // 10)))
