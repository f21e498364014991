"""Shared fixtures: a brand with the three named users the permission tests speak of."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import factory.random
import hypothesis
import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractUser

from config.env import host_port
from config.roles import COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER
from listening.models import Brand
from responses.models import Department
from tests.factories import BrandFactory, DepartmentFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Every test starts in the site's language: a request in Spanish (a person's stored choice,
    the switcher) leaves Spanish active in the thread, as Django does between requests."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# On CI, each property test tries the same examples at every run (derived from the test itself):
# a run that fails fails again, and one that passed is not turned red by an example drawn that day.
# Elsewhere every run draws new ones, which is where they find what the fixed ones miss.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _factory_data_named_for_the_test(request: pytest.FixtureRequest) -> None:
    """The factories' random data (Faker's sentences and names) is drawn from a seed named for the
    test: a test runs on the same data every time, so one that fails on some sentence (one read as
    a question, say) fails again when run again, where it would pass once in a while and be called
    flaky."""
    factory.random.reseed_random(request.node.nodeid)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_chromium = os.path.exists(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…"))
        if "redis" in item.keywords and not shutil.which("redis-server"):
            item.add_marker(pytest.mark.skip(reason="needs redis-server on the PATH (apt-get install redis-server)"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"))
    # Browser tests last: their live server's thread keeps a database connection and a cache of its
    # own, which the fault tests (they stop Redis and drop connections) must not inherit.
    items[:] = [item for item in items if "browser" not in item.keywords] + [
        item for item in items if "browser" in item.keywords
    ]


class RedisServer:
    """A redis-server of the test's own on a free port, to stop and start again: "Redis is down"."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):  # until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def queued(self, queue: str) -> int:
        """How many messages wait in a Celery queue of this server."""
        import redis

        return redis.Redis.from_url(self.url).llen(queue)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Celery publishing to a Redis of the test's own, for real (not eagerly)."""
    from config.celery import app

    def forget_connections() -> None:  # Celery keeps its broker connections for the process
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_server.url, task_always_eager=False)
    forget_connections()
    try:
        yield redis_server
    finally:
        app.conf.update(saved)
        forget_connections()


@dataclass
class Team:
    brand: Brand
    other_brand: Brand
    billing: Department
    support: Department
    cm: AbstractUser  # community manager of brand
    billing_member: AbstractUser  # department staff in billing
    manager: AbstractUser
    outsider: AbstractUser  # a community manager of another brand


@pytest.fixture
def team(db: None) -> Team:
    brand = BrandFactory(name="Acme", slug="acme")
    other = BrandFactory(name="Globex", slug="globex")
    cm = UserFactory(username="carla", roles=[COMMUNITY_MANAGER])
    billing_member = UserFactory(username="bruno", roles=[DEPARTMENT_STAFF])
    manager = UserFactory(username="marta", roles=[MANAGER])
    outsider = UserFactory(username="olga", roles=[COMMUNITY_MANAGER])
    for user in (cm, billing_member, manager):
        MembershipFactory(brand=brand, user=user)
    MembershipFactory(brand=other, user=outsider)
    billing = DepartmentFactory(brand=brand, name="Billing")
    billing.members.add(billing_member)
    support = DepartmentFactory(brand=brand, name="Support")
    return Team(brand, other, billing, support, cm, billing_member, manager, outsider)


@pytest.fixture
def live_server(live_server, settings):
    """pytest-django's live server, reachable by the connectors: its ``host:port`` is on a private
    network, so it is added to ``PRIVATE_NETWORK_ALLOWLIST`` as a deployment lists its sandbox."""
    settings.PRIVATE_NETWORK_ALLOWLIST = [*settings.PRIVATE_NETWORK_ALLOWLIST, host_port(live_server.url)]
    return live_server
