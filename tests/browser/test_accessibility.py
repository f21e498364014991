"""Accessibility of each role's main pages: axe-core (shipped inside the pinned
``axe-playwright-python`` test dependency, injected by Playwright, never fetched at run time) finds
no moderate, serious or critical violation (a skipped heading level, "heading-order", is moderate:
screen-reader users move by headings); every control can be reached from the keyboard and shows where
the focus is."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from sandbox.management.commands.demo_setup import DEMO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
BLOCKING = {"moderate", "serious", "critical"}


def blocking_violations(page) -> list[str]:
    results = AXE.run(page, options={"resultTypes": ["violations"]})
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("role", ["cm", "billing", "manager"])
def test_axe_finds_nothing_moderate_or_worse_on_each_main_page(demo, login, page, role) -> None:
    login(demo.users[role], DEMO_PASSWORD)
    found = {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for path, _control in demo.pages[role]:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            if violations := blocking_violations(page):
                found[f"{width} {path}"] = violations
    assert not found, found


def test_the_login_page_passes_axe(page, live_server) -> None:
    page.goto("/accounts/login/")
    assert blocking_violations(page) == []


def test_tab_reaches_the_inbox_controls_with_a_visible_focus_ring(demo, login, page) -> None:
    login(demo.users["cm"], DEMO_PASSWORD)
    page.goto("/inbox/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    assert skip.is_visible() and skip.evaluate("el => el === document.activeElement")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement, style = getComputedStyle(el);
              const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
              return {key: el.id || el.name || el.textContent.trim().slice(0, 30), ring, tag: el.tagName,
                      style: `${style.outlineStyle} ${style.outlineWidth}`, focus: el.matches(":focus")};
            }"""
        )
        assert focused["ring"], focused  # every stop shows where the focus is
        seen.add(focused["key"])
    assert {"search", "platform", "sentiment"} <= seen, seen
