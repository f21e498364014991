"""Loaded into each polling worker that ``bench/polling.py`` starts (``celery worker --include
bench.poll_probe``): every poll's channel, start and end (wall-clock seconds) and whether it failed,
and every dispatch's time and the polls it queued, appended to files of the pool process's own in
the folder ``BENCH_POLL_LOG`` names. The worker is otherwise the production one; the benchmark
reads the files once the workers are stopped."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun

from listening import polling

DISPATCH = "listening.dispatch_due_channels"

_channel_poll = polling.channel_poll


def _written(suffix: str, line: str) -> None:
    with (Path(os.environ["BENCH_POLL_LOG"]) / f"{os.getpid()}.{suffix}").open("a") as log:
        log.write(line + "\n")


def channel_poll(*, channel: Any) -> Any:
    started, failed = time.time(), True
    try:
        outcome = _channel_poll(channel=channel)
        failed = bool(outcome.error)
        return outcome
    finally:
        _written("polls", f"{channel.pk} {started:.6f} {time.time():.6f} {int(failed)}")


polling.channel_poll = channel_poll  # as ``listening.tasks.poll_channel`` calls it


_dispatch_began: dict[str, float] = {}


@task_prerun.connect
def _dispatch_begins(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    if task is not None and task.name == DISPATCH:
        _dispatch_began[task_id] = time.perf_counter()


@task_postrun.connect
def _dispatch_ends(task_id: str = "", retval: Any = None, **kwargs: Any) -> None:
    began = _dispatch_began.pop(task_id, None)
    if began is not None:
        _written("dispatches", f"{(time.perf_counter() - began) * 1000:.3f} {retval}")
