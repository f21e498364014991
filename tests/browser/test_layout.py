"""Every main page of each role at a phone's width (390 px) and a laptop's (1280 px): the page never
scrolls sideways and its key control is on screen, within the width."""

from __future__ import annotations

import pytest

from sandbox.management.commands.demo_setup import DEMO_PASSWORD
from tests.browser.walk import overflow

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [390, 1280]


@pytest.mark.parametrize("role", ["cm", "billing", "manager"])
def test_each_main_page_fits_a_phone_and_a_laptop(demo, login, page, role) -> None:
    login(demo.users[role], DEMO_PASSWORD)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844})
        for path, control in demo.pages[role]:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            measured = overflow(page)
            assert measured["scroll"] <= measured["width"], (width, path, measured)
            key = page.locator(control).first
            assert key.is_visible(), (width, path, control)
            box = key.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, path, control, box)
            # The way out stays reachable too: the header's log-out button.
            assert page.get_by_role("button", name="Log out").is_visible(), (width, path)


def test_the_inbox_is_cards_and_the_mention_page_one_column_on_a_phone(demo, login, page) -> None:
    login(demo.users["cm"], DEMO_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/inbox/")
    first = page.locator("#mention-list > li.mention").first
    box = first.bounding_box()
    assert box and box["width"] > 300, box  # a card as wide as the screen, not a squeezed column
    mention_path = demo.pages["cm"][1][0]
    page.goto(mention_path)
    main, side = page.locator(".mention-main").bounding_box(), page.locator(".mention-side").bounding_box()
    assert side["y"] >= main["y"] + main["height"] - 1, (main, side)  # stacked, the side panel below
