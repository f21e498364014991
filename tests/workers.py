"""A worker process killed at a chosen step, as a deploy or the OOM killer kills one."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from types import ModuleType

from django.db import connections


def worker_killed_in(module: ModuleType, step: str, work: Callable[[], object]) -> None:
    """Run ``work`` in a forked worker and SIGKILL it inside ``module.step`` (the step that records
    what the platform answered): the platform has what was sent, the row still says it is on its way."""
    read, write = os.pipe()
    connections.close_all()  # the worker opens its own connection, as a pool process does
    pid = os.fork()
    if pid == 0:  # the worker
        try:

            def killed_here(*args: object, **kwargs: object) -> None:
                os.write(write, b"sent")
                time.sleep(60)

            setattr(module, step, killed_here)
            work()
        finally:
            os._exit(0)
    try:
        assert os.read(read, 10) == b"sent", "the worker ended before it reached the step"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(read)
        os.close(write)
