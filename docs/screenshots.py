"""Take the README's screenshots from a running demo (``make run``) in Chromium.

    python docs/screenshots.py [--url http://127.0.0.1:8000] [--chromium /usr/bin/chromium]

Signs in as the demo's community manager and saves the inbox at a laptop's width
(docs/screenshot.png) and at a phone's, at twice the pixels as a phone shows it
(docs/screenshot-phone.png). The browser
asks for English; the demo's people have not picked a language.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
DEMO_USER, DEMO_PASSWORD = "cm", "escucha-demo"  # sandbox/management/commands/demo_setup.py
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=options.chromium, headless=True, args=ARGS)
        shots = [
            ("screenshot.png", {"width": 1400, "height": 860}, 1),
            ("screenshot-phone.png", {"width": 390, "height": 844}, 2),
        ]
        for name, viewport, scale in shots:
            context = browser.new_context(
                base_url=options.url, locale="en-US", viewport=viewport, device_scale_factor=scale
            )
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", DEMO_USER)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/inbox/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=DOCS / name)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
