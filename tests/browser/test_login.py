"""The smallest walk through the real browser: sign in and land where the role belongs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_community_manager_signs_in_and_lands_in_the_inbox(team, login) -> None:
    page = login(team.cm)
    assert "/inbox" in page.url
    assert page.locator("nav").get_by_text("Inbox").first.is_visible()


def test_wrong_password_keeps_the_user_out_with_a_message(team, page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", team.cm.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "/accounts/login/" in page.url
    assert page.locator(".errorlist, .form-errors, [role=alert]").first.is_visible()
