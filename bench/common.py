"""What every benchmark shares: a database of its own, never the one DATABASE_URL names.

``throwaway_database`` creates ``bench_<name>`` beside the configured database (apart from the
test suite's ``test_<name>``, so both can run at once), migrates it, and drops it afterwards; ``keep=True`` leaves it for the next run, which
reuses it as it is (a million mentions take minutes to load). The configured database is never
written, so a benchmark can run against a server that holds real data.

``tasks_queued_in_memory`` keeps the tasks a benchmark's pipeline queues (e-mails of routed
tickets) in this process, as a Redis broker would take them, whatever broker the settings name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def throwaway_database(*, keep: bool = False) -> Iterator[str]:
    configured = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # SQLite's throwaway database lives in memory
        connection.settings_dict["TEST"]["NAME"] = None
    else:
        # A kept database has a name the next run finds; a throwaway one is this process's own,
        # so two benchmarks running at once never drop each other's.
        suffix = "" if keep else f"_{os.getpid()}"
        connection.settings_dict["TEST"]["NAME"] = f"bench_{configured}{suffix}"
    # Not serialized: the test runner's copy of the contents (for TransactionTestCase) would read
    # every row of a kept million-mention database into memory before each run.
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep, serialize=False)
    print(f"benchmark database: {name}" + (" (kept for the next run)" if keep else " (dropped at the end)"))
    try:
        yield name
    finally:
        connection.close()
        connection.creation.destroy_test_db(configured, verbosity=0, keepdb=keep)


def tasks_queued_in_memory() -> None:
    """Tasks queued from now on go to an in-memory broker: the benchmark times the pipeline, not
    e-mail delivery. The transport is named as well as the URL: with REDIS_URL set, the settings
    pin Redis's transport (``config.broker``), which would otherwise take ``memory://`` for a Redis
    on localhost and leave every message of every run in its database 0."""
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    app.conf.broker_transport = "memory"
