from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_healthz_names_the_unreachable_broker_without_the_error_text(client: Client) -> None:
    refused = ConnectionRefusedError("[Errno 111] Connection refused to redis://:s3cret@10.0.0.7:6379/0")
    with mock.patch("config.views.celery_app.connection_for_write", side_effect=refused):
        response = client.get("/healthz")
    # Pages still work without the broker: web stays in service (200), and says what is missing.
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unreachable", "cache": "ok"},
    }
    for leak in ("s3cret", "10.0.0.7", "Connection refused", "ConnectionRefusedError"):
        assert leak not in response.content.decode()


@pytest.mark.django_db
def test_healthz_names_the_unreachable_database_without_the_error_text(client: Client) -> None:
    down = OperationalError('connection to server at "db.internal" (10.0.0.5), port 5432 failed')
    with mock.patch("config.views.connection.cursor", side_effect=down):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unreachable", "broker": "ok", "cache": "ok"}
    assert "db.internal" not in response.content.decode()
    assert "10.0.0.5" not in response.content.decode()
