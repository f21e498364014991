"""A real worker keeps its database connection from task to task, as a web process keeps its own."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.celery import app
from tests.config.test_broker_restart import started_worker, wait_until
from tests.conftest import RedisServer

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="a PostgreSQL backend per connection is what is counted",
)


@pytest.mark.redis
def test_a_worker_reuses_its_database_connection_and_drops_it_after_a_failed_task(broker: RedisServer, tmp_path):
    log = tmp_path / "worker.log"
    with started_worker(broker, log, "connections", concurrency=1) as worker:

        def backend(name: str, *, fail: bool = False) -> int:
            path = tmp_path / name
            app.send_task("tests.write_backend_pid", args=[str(path), fail], queue="default")
            assert wait_until(path.exists, 60, worker), log.read_text()[-3000:]
            return int(path.read_text())

        first, second, third = backend("1"), backend("2"), backend("3")
        # One connection for all three: each task once opened its own, a PostgreSQL backend started
        # for every poll of every channel.
        assert first == second == third
        failed = backend("4", fail=True)
        assert failed == third
        # A task that failed may have left its connection unusable: the next one opens another.
        assert backend("5") != failed
