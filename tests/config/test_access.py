"""Every page is behind login; navigation and pages fit the role; brands stay apart."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from listening.selectors import brands_for_user
from tests.factories import MentionFactory, UserFactory

PAGES = ["responses:inbox", "listening:channel_list", "responses:ticket_list", "responses:rule_list", "reports:report"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", *PAGES])
def test_pages_redirect_anonymous_visitors_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_and_login(client: Client, team) -> None:
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "carla", "password": "pass-word-1234"})
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("responses:inbox")


@pytest.mark.django_db
def test_each_role_lands_on_its_screen(client: Client, team) -> None:
    expected = {
        team.cm: "responses:inbox",
        team.manager: "reports:report",
        team.billing_member: "responses:ticket_list",
    }
    for user, name in expected.items():
        client.force_login(user)
        assert client.get(reverse("home"))["Location"] == reverse(name)


@pytest.mark.django_db
def test_navigation_fits_the_role(client: Client, team) -> None:
    client.force_login(team.billing_member)
    html = client.get(reverse("responses:ticket_list")).content.decode()
    assert reverse("responses:ticket_list") in html
    assert reverse("responses:inbox") not in html
    assert reverse("reports:report") not in html
    client.force_login(team.cm)
    html = client.get(reverse("responses:inbox")).content.decode()
    for name in PAGES:
        assert reverse(name) in html


@pytest.mark.django_db
def test_department_staff_and_managers_cannot_open_the_inbox(client: Client, team) -> None:
    for user in (team.billing_member, team.manager):
        client.force_login(user)
        assert client.get(reverse("responses:inbox")).status_code == 403
    client.force_login(team.billing_member)
    assert client.get(reverse("reports:report")).status_code == 403


@pytest.mark.django_db
def test_users_see_only_their_brands(client: Client, team) -> None:
    MentionFactory(channel__brand=team.brand, text="about acme")
    MentionFactory(channel__brand=team.other_brand, text="about globex")
    assert list(brands_for_user(team.cm)) == [team.brand]
    assert list(brands_for_user(team.outsider)) == [team.other_brand]
    client.force_login(team.outsider)
    html = client.get(reverse("responses:inbox")).content.decode()
    assert "about globex" in html
    assert "about acme" not in html


@pytest.mark.django_db
def test_admins_see_every_brand(team) -> None:
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert set(brands_for_user(admin)) == {team.brand, team.other_brand}


@pytest.mark.django_db
def test_password_change_and_logout(client: Client, team) -> None:
    client.force_login(team.cm)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("responses:inbox")).status_code == 302
