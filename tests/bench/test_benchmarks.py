"""The benchmarks run at any size, in a database of their own, and leave nothing behind.

They are timed by a person, not here: this only proves each one still runs end to end on a tiny
load, prints its figures, and never writes into the database DATABASE_URL names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

BENCHMARKS = [
    (["bench/ingest.py", "120", "40"], "new items:", False),
    (["bench/ingest.py", "120", "40", "2"], "2 processes at once, a channel each:", True),
    (["bench/ingest.py", "120", "40", "2", "--varied", "--one-channel"], "2 processes at once, one channel:", True),
    (["bench/ingest.py", "120", "40", "--sql"], "COPY listening_mention", True),
    (["bench/ingest.py", "120", "40", "--steps"], "pipeline step responses.routing.mentions_route", False),
    (["bench/ingest.py", "120", "40", "--refused"], "pages with one item the database refuses:", False),
    (
        ["bench/ingest.py", "120", "40", "--no-route"],
        "routing: off (--no-route), as imported history is stored; tickets opened: 0",
        False,
    ),
    (["bench/import.py", "200"], "peak memory (maxrss):", False),
    # Its own Redis, gunicorn serving the sandbox's feed and two polling workers, all stopped again.
    (["bench/polling.py", "60", "12"], "polls of one channel at once: 0", True),
    (["bench/routing.py", "200"], "route_mentions:", False),
    (["bench/mention_page.py", "60"], "author page, near the end", False),
    (["bench/inbox.py", "--mentions", "120", "--requests", "1"], "new-mentions poll", True),
    (["bench/reports.py", "--mentions", "120", "--days", "3", "--runs", "1"], "summary API, 30 days", True),
    # The whole stack for a few seconds: its own Redis, gunicorn, two workers and beat, all stopped again.
    (["bench/soak.py", "--minutes", "0.2", "--users", "1", "--drain", "0"], "webhook → inbox", True),
]


def databases() -> set[str]:
    import psycopg2

    base = settings.DATABASES["default"]
    with (
        psycopg2.connect(
            dbname="postgres",
            user=base["USER"],
            password=base["PASSWORD"],
            host=base["HOST"],
            port=base["PORT"] or 5432,
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(("command", "last_figure", "needs_postgres"), BENCHMARKS, ids=lambda v: str(v))
def test_a_benchmark_runs_on_a_tiny_load_in_its_own_database(command, last_figure, needs_postgres):
    if needs_postgres and not on_postgres:
        pytest.skip("this benchmark measures PostgreSQL: set DATABASE_URL=postgres://…")
    before = databases() if on_postgres else set()
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert last_figure in result.stdout
    if on_postgres:
        configured = settings.DATABASES["default"]["NAME"].removeprefix("test_")
        assert f"benchmark database: bench_{configured}" in result.stdout
        # Dropped again; the configured database was never the target. Only this configuration's
        # benchmark databases count: others on a shared server come and go with their own runs.
        assert {name for name in databases() - before if name.startswith(f"bench_{configured}")} == set()


def test_the_language_benchmark_reads_the_labelled_texts_in_both_modes():
    """It needs no database: it reads the project's labelled texts with each of lingua's modes."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "bench/language.py", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "20-29 words:" in result.stdout
    assert "high accuracy" in result.stdout and "low accuracy" in result.stdout
