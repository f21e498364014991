"""Shared fixtures: a brand with the three named users the permission tests speak of."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractUser

from config.env import host_port
from config.roles import COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER
from listening.models import Brand
from responses.models import Department
from tests.factories import BrandFactory, DepartmentFactory, MembershipFactory, UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_chromium = os.path.exists(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"))


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
