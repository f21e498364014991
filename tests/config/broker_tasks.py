"""Tasks for the broker tests' real worker (loaded with ``celery worker --include``): each writes a file,
so the test sees from outside what the worker did."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.write_after", acks_late=True, ignore_result=True)
def write_after(path: str, seconds: float) -> None:
    Path(path + ".started").touch()
    time.sleep(seconds)
    Path(path).touch()


@shared_task(name="tests.write_backend_pid", acks_late=True, ignore_result=True)
def write_backend_pid(path: str, fail: bool = False) -> None:
    """Write the PostgreSQL backend serving this task's connection; with ``fail``, fail after."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        Path(path).write_text(str(cursor.fetchone()[0]))
    if fail:
        raise RuntimeError("the task failed after its query")
