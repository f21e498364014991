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
