from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client: Client) -> None:
    with mock.patch("config.views.celery_app.connection_for_write", side_effect=ConnectionRefusedError("refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "ConnectionRefusedError: refused"
    assert response.json()["checks"]["database"] == "ok"
