"""Sign in as a user in headless Chromium and save screenshots of a page,
one per tab named (or one of the page as it opens).

Usage: python scripts/screenshot.py URL USERNAME PASSWORD OUT_PREFIX [PATH] [TAB ...]
Writes OUT_PREFIX.png, or OUT_PREFIX_<n>.png per tab.
"""

from __future__ import annotations

import sys

from playwright.sync_api import Page, sync_playwright

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


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for(timeout=30000)
    # The browser trades a ticket for the HttpOnly session cookie just after sign-in.
    for _ in range(150):
        if any(c["name"] == "tsd_session" for c in page.context.cookies()):
            break
        page.wait_for_timeout(100)


def idle(page: Page) -> None:
    """Wait for the script run to finish (twice: the cookie component starts
    a second run just after the first), so no half-drawn page is captured."""
    for _ in range(2):
        page.wait_for_timeout(800)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120000)


def shoot(page: Page, path: str) -> None:
    """Streamlit scrolls inside its main section, so a full-page screenshot
    shows one screen; grow the viewport to the section's height first."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1400, "height": max(1100, min(int(height) + 40, 12000))})
    page.wait_for_timeout(300)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1100})


def main(base: str, username: str, password: str, out: str, path: str = "", *tabs: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        sign_in(page, base, username, password)
        if path:
            page.goto(base.rstrip("/") + "/" + path.lstrip("/"))
        idle(page)
        if not tabs:
            shoot(page, f"{out}.png")
        for i, tab in enumerate(tabs):
            page.get_by_role("tab", name=tab, exact=True).first.click()
            idle(page)
            shoot(page, f"{out}_{i}.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
