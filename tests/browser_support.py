"""Signing in through the real form in headless Chromium, shared by the
browser tests.

On a loaded machine the cookie component reruns the app just after the page
loads; that rerun can re-mount the form (wiping what was typed) or drop the
click. So: wait for the run to finish, type each field and check it stuck,
click, and start again if any of that was undone."""

from __future__ import annotations

import re
import time

from conftest import TEST_PASSWORD, Server
from playwright.sync_api import Page, expect

WAIT = 45_000  # ms; Streamlit on a small, busy machine is slow
ATTEMPTS = 5


def idle(page: Page) -> None:
    """Wait until the app's script run has finished."""
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=WAIT
    )


def sign_in(page: Page, server: Server, username: str) -> None:
    """Sign in on the front page, then wait for the session cookie so that a
    new page load (page.goto) is signed in too."""
    page.goto(server.url + "/")
    expect(page.get_by_text(re.compile(r"Sign in|Please sign in")).first).to_be_visible(timeout=WAIT)
    signed_in = page.get_by_text(f"Signed in as {username}")
    for _attempt in range(ATTEMPTS):
        idle(page)
        page.wait_for_timeout(300)
        try:
            for name, value in (("Username", username), ("Password", TEST_PASSWORD)):
                box = page.get_by_role("textbox", name=name)
                box.fill(value)
                expect(box).to_have_value(value, timeout=5_000)
                box.press("Tab")
            page.get_by_role("button", name="Sign in").click()
            expect(signed_in).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            continue  # the form was redrawn under us; fill it again
    expect(signed_in).to_be_visible(timeout=WAIT)
    wait_for_session_cookie(page)


def wait_for_session_cookie(page: Page) -> None:
    """The browser trades its sign-in ticket for the HttpOnly session cookie
    just after sign-in; a new page load (page.goto) is signed in once it has.
    Page scripts cannot see an HttpOnly cookie, so ask the browser context."""
    deadline = time.monotonic() + WAIT / 1000
    while not any(c["name"] == "tsd_session" for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("no session cookie after sign-in")
        page.wait_for_timeout(100)
