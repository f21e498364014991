"""Loaded into each polling worker that ``bench/polling.py`` starts (``celery worker --include
bench.poll_probe``): every poll's channel, start and end (wall-clock seconds) and whether it failed, appended to a file
of the pool process's own in the folder ``BENCH_POLL_LOG`` names. The worker is otherwise the
production one; the benchmark reads the files once the workers are stopped."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from listening import polling

_channel_poll = polling.channel_poll


def channel_poll(*, channel: Any) -> Any:
    started, failed = time.time(), True
    try:
        outcome = _channel_poll(channel=channel)
        failed = bool(outcome.error)
        return outcome
    finally:
        with (Path(os.environ["BENCH_POLL_LOG"]) / f"{os.getpid()}.log").open("a") as log:
            log.write(f"{channel.pk} {started:.6f} {time.time():.6f} {int(failed)}\n")


polling.channel_poll = channel_poll  # as ``listening.tasks.poll_channel`` calls it
