"""Guessing passwords: a username is locked from one address after a few failures, with a message
on the login page, until the cool-off passes or an administrator runs `axes_reset`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "pass-word-1234"
ATTACKER = "203.0.113.9"


def _log_in(client: Client, username: str, password: str, address: str = ATTACKER):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_twenty_wrong_passwords_then_the_right_one_does_not_log_in_until_reset(team) -> None:
    client = Client()
    for attempt in range(20):
        _log_in(client, team.cm.username, f"guess-{attempt}")
    response = _log_in(client, team.cm.username, PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)
    assert "Too many failed attempts to log in with this username from here" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()

    call_command("axes_reset", verbosity=0)
    response = _log_in(client, team.cm.username, PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


@pytest.mark.django_db
def test_the_lock_holds_for_the_username_from_that_address_only(team, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    for attempt in range(5):
        response = _log_in(Client(), team.cm.username, f"guess-{attempt}")
    assert response.status_code == 429  # the fifth failure locks

    assert _log_in(Client(), team.cm.username, PASSWORD).status_code == 429
    # The colleague at her own desk still logs in, and so does anyone else from the attacker's address.
    elsewhere = Client()
    assert _log_in(elsewhere, team.cm.username, PASSWORD, address="198.51.100.20").status_code == 302
    same_address = Client()
    assert _log_in(same_address, team.manager.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lock_lifts_after_the_cool_off(team, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    for attempt in range(3):
        _log_in(Client(), team.cm.username, f"guess-{attempt}")
    assert _log_in(Client(), team.cm.username, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
        client = Client()
        assert _log_in(client, team.cm.username, PASSWORD).status_code == 302
        assert _logged_in(client)


@pytest.mark.django_db
def test_a_few_mistakes_before_the_right_password_are_forgiven(team) -> None:
    client = Client()
    for attempt in range(4):
        assert _log_in(client, team.cm.username, f"guess-{attempt}").status_code == 200
    assert _log_in(client, team.cm.username, PASSWORD).status_code == 302
    # A success clears the count: four more mistakes later do not lock either.
    for attempt in range(4):
        assert _log_in(Client(), team.cm.username, f"again-{attempt}").status_code == 200


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    for attempt in range(3):
        client.post("/admin/login/", {"username": admin.username, "password": f"guess-{attempt}"}, REMOTE_ADDR=ATTACKER)
    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_client_address_behind_trusted_proxies(rf, settings) -> None:
    from config.auth import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy trusted: the header is the client's word
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw, not what the client claims
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # fewer hops than proxies: not through them


@pytest.mark.django_db
def test_the_lockout_message_is_in_the_reader_s_language(team, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    for attempt in range(2):
        _log_in(client, team.cm.username, f"guess-{attempt}")
    response = _log_in(client, team.cm.username, PASSWORD)
    assert response.status_code == 429
    assert "Vuelva a intentarlo dentro de 15 minutos" in response.content.decode()


@pytest.mark.django_db
def test_logins_without_a_request_still_work(team) -> None:
    """The test client's login() has no request to count by: it is not a web login to throttle."""
    client = Client()
    assert client.login(username=team.cm.username, password=PASSWORD)
    assert client.get("/inbox/").status_code == 200
    assert not Client().login(username=team.cm.username, password="wrong")
