"""Sign in as a user in headless Chromium and save a full-page screenshot.

Usage: python scripts/screenshot.py URL USERNAME PASSWORD OUT.png [PATH]
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(base: str, username: str, password: str, out: str, path: str = "") -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base)
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as").wait_for(timeout=30000)
        # The session cookie is written by a component just after sign-in.
        page.wait_for_function("document.cookie.includes('tsd_session')", timeout=15000)
        if path:
            page.goto(base.rstrip("/") + "/" + path.lstrip("/"))
            page.get_by_text("Signed in as").wait_for(timeout=30000)
        page.wait_for_timeout(2500)
        page.screenshot(path=out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
