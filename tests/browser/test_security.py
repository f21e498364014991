"""Under the Content-Security-Policy (no inline script, nothing from other hosts) every page still
works, and the API documentation renders with no network beyond Escucha itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reports.rollups import rollups_refresh
from responses.models import RoutingRule
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory
from tests.reports.conftest import week  # noqa: F401 (the known week, a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _only_the_app(page, origin: str) -> list[str]:
    """Refuse every request to another host, as an offline install would, and list them."""
    elsewhere: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(origin) or url.startswith("data:") or url.startswith("blob:"):
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    page.route("**/*", route)
    return elsewhere


def test_the_working_pages_run_under_the_policy_with_no_console_errors(team, week, login, live_server) -> None:  # noqa: F811
    page = login(team.cm)
    elsewhere = _only_the_app(page, live_server.url)
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="the app logs me out")
    rule = RoutingRuleFactory(brand=team.brand, name="Refunds to billing")
    rollups_refresh()

    response = page.goto("/inbox/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.select_option("#filters select[name=sentiment]", "negative")  # htmx swaps the list
    page.wait_for_url("**/inbox/?sentiment=negative")

    page.goto(f"/mentions/{mention.pk}/")
    page.get_by_text("the app logs me out").first.wait_for()

    page.goto("/rules/new/")
    page.select_option("select[name=cond-0-field]", "sentiment")  # the builder's script runs
    page.get_by_role("button", name="Preview").click()  # an htmx request
    page.locator("#rule-preview").wait_for()

    page.goto(f"/reports/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.chart)")

    # The rule list's delete button asks first (a script file, not an onsubmit attribute).
    page.goto("/rules/")
    page.locator(f"form[action$='/rules/{rule.pk}/delete/'] button").click()
    assert page.dialogs == ["Delete this rule?"]
    assert RoutingRule.objects.filter(pk=rule.pk).exists()  # dismissed: nothing deleted

    # The language menu switches on change, no button, no inline handler.
    page.select_option("#language", "es")
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    assert page.console_errors == []
    assert elsewhere == []


def test_the_api_docs_list_the_operations_from_the_app_alone(team, login, live_server) -> None:
    page = login(team.cm)
    elsewhere = _only_the_app(page, live_server.url)
    page.goto("/api/docs/")
    paths = page.locator("#swagger-ui .opblock-summary-path")
    paths.first.wait_for()
    listed = {text.replace("\u200b", "") for text in paths.all_inner_texts()}
    assert {"/api/v1/mentions/", "/api/v1/channels/", "/api/v1/routing-rules/"} <= listed
    # Trying an operation out works too: the session is the API's authentication.
    brands = page.locator("#swagger-ui .opblock-get").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/brands/$"))
    )
    brands.locator(".opblock-summary").click()
    brands.get_by_role("button", name="Try it out").click()
    brands.get_by_role("button", name="Execute").click()
    expect(brands.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(brands.locator(".live-responses-table .microlight").first).to_contain_text("Acme")
    assert elsewhere == []
    assert page.console_errors == []
