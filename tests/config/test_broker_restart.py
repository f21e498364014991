"""A real worker under a Redis restart: it reconnects and runs what is queued after, instead of exiting."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.celery import app
from tests.conftest import RedisServer


def wait_until(condition: Callable[[], bool], seconds: float, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def started_worker(broker: RedisServer, log: Path, name: str, concurrency: int) -> Iterator[subprocess.Popen]:
    """A real worker of the ``default`` queue with the production settings on ``broker``, the broker
    tests' tasks loaded, ready; stopped at the end."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": broker.url, "PYTHONUNBUFFERED": "1"}
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--include", "tests.config.broker_tasks"]
    command += ["-Q", "default", "--concurrency", str(concurrency), "-n", f"{name}@test", "-l", "info"]
    with log.open("w") as out:
        worker = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    try:
        assert wait_until(lambda: "ready." in log.read_text(), 120, worker), log.read_text()[-3000:]
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.mark.redis
def test_a_worker_outlives_a_redis_restart_amid_tasks_and_runs_the_next_task(broker: RedisServer, tmp_path):
    log = tmp_path / "worker.log"
    with started_worker(broker, log, "restart", concurrency=2) as worker:
        # Redis stops while tasks (acknowledged late) keep arriving and finishing: acknowledgements
        # fail, messages stay unacknowledged in the worker's hands, and it must reconnect with them.
        flowing = threading.Event()
        flowing.set()

        def publish() -> None:
            n = 0
            while flowing.is_set():
                with contextlib.suppress(Exception):  # refused while Redis is down
                    app.send_task("tests.write_after", args=[str(tmp_path / f"flow-{n}"), 0.03], queue="default")
                n += 1
                time.sleep(0.05)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        try:
            flowed = wait_until(lambda: len(list(tmp_path.glob("flow-*.started"))) > 5, 60, worker)
            assert flowed, log.read_text()[-3000:]
            broker.stop()
            time.sleep(2)  # the worker tries to reconnect to a Redis that is not there
            broker.start()
            time.sleep(5)
        finally:
            flowing.clear()
            publisher.join()

        after = tmp_path / "after"
        app.send_task("tests.write_after", args=[str(after), 0], queue="default")
        ran = wait_until(after.exists, 60, worker)
        assert worker.poll() is None, [line for line in log.read_text().splitlines() if "CRITICAL" in line]
        assert ran, log.read_text()[-3000:]
