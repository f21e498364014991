"""The processes a benchmark runs Escucha's parts in, on loopback: redis-server, gunicorn, Celery
workers, each in a session of its own so that its whole group can be stopped, its output in a log.
Used by ``bench/soak.py`` and ``bench/polling.py``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Process:
    """One process a benchmark started, in a session of its own, so its whole group can be killed."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def signal_group(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 5) -> None:
        if not self.popen:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(10)


def database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def wait_for_http(url: str, seconds: float) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def redis_server(work: Path) -> tuple[Process, str]:
    """A redis-server of the benchmark's own on a free port, started, and its URL: the Redis that
    REDIS_URL names is never touched. It keeps its append-only file in ``work``."""
    port = free_port()
    redis = Process(
        "redis",
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(work),
         "--appendonly", "yes", "--save", "", "--protected-mode", "yes"],
        dict(os.environ), work / "redis.log",
    )  # fmt: skip
    redis.start()
    return redis, f"redis://127.0.0.1:{port}/0"


def django_with_production_settings(redis_url: str) -> str:
    """Set up this process's Django as the processes a benchmark starts run it: the production
    settings, DEBUG off, talking to the benchmark's own Redis (never the one REDIS_URL names), its
    site on a free port of loopback, whose address it returns."""
    import uuid

    os.environ["REDIS_URL"] = redis_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)
    site = os.environ["SITE_URL"] = f"http://127.0.0.1:{free_port()}"
    import django

    django.setup()
    return site
