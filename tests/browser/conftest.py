"""Real Chromium (Debian's package) driven by Playwright against Django's live server.

Every test in this folder is marked ``browser`` and skipped with its reason when Chromium is
missing. Playwright's sync API runs an event loop in the test thread, so the ORM calls the tests
make between clicks need DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractBaseUser

from tests.browser.walk import WALKS, Walk

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "pass-word-1234"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """Every role group, for the pages that read them (a user's roles in the admin's lists)."""
    from config.roles import ADMIN, ROLE_PERMISSIONS
    from tests.factories import role_groups

    role_groups([ADMIN, *ROLE_PERMISSIONS])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator[object]:
    # The database is asked for first, so it is emptied after the page is closed: a page still open
    # (the inbox asking for new mentions) could hold a table the emptying waits for, and deadlock it.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # a script-injection test asserts this stays empty
    # Errors the page logged: a Content-Security-Policy violation shows up here ("Refused to …").
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and console_errors.append(f"{message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.console_errors = console_errors
    yield page
    context.close()


@pytest.fixture(params=WALKS)
def walk(request, page) -> Walk:
    """The walk at one width and in one language (see walk.py): a test that takes it runs four times."""
    width, language = request.param
    page.set_viewport_size({"width": width, "height": 844})
    return Walk(page=page, width=width, language=language)


@pytest.fixture
def login(page):
    """``login(user)`` signs ``user`` in through the real login form and returns the page."""

    def sign_in(user: AbstractBaseUser, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return sign_in


@dataclass
class Demo:
    """The demo's users by username, and each role's main pages as (path, a control that must show)."""

    users: dict[str, AbstractBaseUser]
    pages: dict[str, list[tuple[str, str]]]


@pytest.fixture
def demo(role_groups: None, live_server, settings) -> Demo:
    """``make run``'s demo: demo_setup's brand, users and rules, and the sandbox's first week polled
    through the real connectors, so mentions are scored, routed and ticketed as in the product."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command

    from listening.models import Channel, Mention, Platform
    from responses.models import Ticket

    cache.clear()
    settings.SITE_URL = live_server.url
    with open(os.devnull, "w") as quiet:
        call_command("demo_setup", stdout=quiet)
    from listening.polling import channel_poll

    outcomes = [channel_poll(channel=channel) for channel in Channel.objects.all()]
    routed = Mention.objects.filter(tickets__isnull=False).exclude(channel__platform=Platform.FEED).first()
    ticket = Ticket.objects.filter(department__name="Billing").first()
    channel = Channel.objects.first()
    assert routed and ticket and channel, ("the demo should hold routed mentions and a Billing ticket", outcomes)
    community_manager = [
        ("/inbox/", "#inbox-tabs"),
        (f"/mentions/{routed.pk}/", "#reply-text"),
        (f"/authors/{routed.author_id}/", "h1"),
        ("/tickets/", "#ticket-rows"),
        (f"/tickets/{ticket.pk}/", "#note-body"),
        ("/follow-up/", "h1"),
        ("/notifications/", "h1"),
        ("/replies/pending/", "h1"),
        ("/rules/", "h1"),
        ("/rules/new/", "button[type=submit]"),
        ("/posts/", "#posts"),
        ("/posts/new/", "button[name=submit]"),
        ("/channels/", "h1"),
        (f"/channels/{channel.pk}/edit/", "button[type=submit]"),
        ("/brands/acme/terms/", "h1"),
        ("/accounts/password_change/", "button[type=submit]"),
    ]
    pages = {
        "cm": community_manager,
        "billing": [("/tickets/", "#ticket-rows"), (f"/tickets/{ticket.pk}/", "#note-body"), ("/notifications/", "h1")],
        "manager": [("/reports/", "select[name=frequency]")],
    }
    users = {user.username: user for user in get_user_model().objects.all()}
    return Demo(users, pages)
