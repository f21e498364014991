"""The API answers 429 once a client passes its rate: per user when authenticated (session or
token), per address when anonymous."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory

from config.api import AnonThrottle


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"},
    }
    cache.clear()  # earlier requests of the suite in the same minute must not count here
    yield
    cache.clear()


@pytest.mark.django_db
def test_a_token_client_past_its_rate_gets_429_and_others_go_on(team, low_rates) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=team.cm).key}")
    for _ in range(3):
        assert client.get("/api/v1/brands/").status_code == 200
    response = client.get("/api/v1/brands/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # Counted per user: a colleague is not slowed down by the busy integration.
    colleague = APIClient()
    colleague.force_authenticate(team.manager)
    assert colleague.get("/api/v1/brands/").status_code == 200


@pytest.mark.django_db
def test_a_session_client_is_throttled_too(team, low_rates) -> None:
    client = APIClient()
    client.force_login(team.cm)
    statuses = [client.get("/api/v1/mentions/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_anonymous_clients_are_counted_by_address_whatever_they_claim(low_rates) -> None:
    factory = APIRequestFactory()

    def allowed(forwarded_for: str) -> bool:
        request = factory.get("/api/v1/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=forwarded_for)
        request.user = AnonymousUser()
        return AnonThrottle().allow_request(request, view=None)

    assert allowed("1.1.1.1") and allowed("2.2.2.2")
    assert not allowed("3.3.3.3")  # a new X-Forwarded-For each time does not reset the count
