"""Sessions in a real browser, against two real app processes sharing one
database: the cookie is HttpOnly and SameSite=Strict, and a cookie copied
into another browser stops working at the next click once its session is
ended by sign-out, a password reset, a lock or disabling, on either process.
Forged, old and idle cookies show the sign-in form, never an error."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_support import WAIT, idle, sign_in
from conftest import CHROMIUM, ROOT, TEST_PASSWORD, Server, seed_small, start_streamlit
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session

from models import UserSession
from models.db import get_engine
from partnership import sessions
from partnership.settings import get_settings

pytestmark = pytest.mark.browser
KEY = "session-browser-test-key-" + "x" * 24


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, str]]:
    """Two app processes on one database and one cookie key, as a deployment runs them."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("sessions")
    db = f"sqlite:///{tmp / 'sessions.db'}"
    seed_small(db, 400, 7)
    before = os.environ.get("DASHBOARD_COOKIE_KEY")
    os.environ["DASHBOARD_COOKIE_KEY"] = KEY
    try:
        first = start_streamlit(db, tmp / "first.log")
        second = start_streamlit(db, tmp / "second.log")
    finally:
        if before is None:
            os.environ.pop("DASHBOARD_COOKIE_KEY")
        else:
            os.environ["DASHBOARD_COOKIE_KEY"] = before
    yield first, second, db
    for server in (first, second):
        server.proc.terminate()
        server.proc.wait(timeout=20)


def _session_cookie(context: BrowserContext) -> dict:
    (cookie,) = [c for c in context.cookies() if c["name"] == sessions.COOKIE_NAME]
    return dict(cookie)


def _signed_in_page(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(page, server, username)
    return page


def _with_cookie(browser: Browser, server: Server, cookie: dict) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(server.url + "/")
    return page


def _shows_signed_in(page: Page, username: str) -> None:
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=WAIT)
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=WAIT)


def _refused(page: Page, words: str | None = None) -> None:
    expect(page.get_by_role("textbox", name="Username").or_(page.get_by_text("Please sign in")).first).to_be_visible(
        timeout=WAIT
    )
    if words:
        expect(page.get_by_text(words)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    expect(page.get_by_text(re.compile("Traceback|Exception|Error:"))).to_have_count(0)


def _next_click(page: Page) -> None:
    """What a person does next: open another page from the sidebar."""
    idle(page)
    page.locator('[data-testid="stSidebar"] a', has_text="How figures are worked out").click()


def _cli(db: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": db, "DASHBOARD_NEW_PASSWORD": "a-brand-new-password-1"}
    subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, check=True, capture_output=True)


def _lock(db: str, username: str) -> None:
    """Wrong passwords from two addresses (one address alone cannot lock an account)."""
    with Session(get_engine(db)) as session:
        for address in ("203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"):
            sessions.sign_in(session, username, "a-wrong-guess", address, get_settings(), sessions.now())
        session.commit()


def test_the_session_cookie_is_httponly_strict_and_out_of_reach_of_scripts(
    browser: Browser, servers: tuple[Server, Server, str]
) -> None:
    page = _signed_in_page(browser, servers[0], "lead")
    cookie = _session_cookie(page.context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # served over plain HTTP on loopback; Secure when behind HTTPS
    assert 0 < cookie["expires"] - dt.datetime.now(dt.UTC).timestamp() <= 12 * 3600 + 60
    assert sessions.COOKIE_NAME not in page.evaluate("document.cookie")
    assert cookie["value"].count(".") == 1  # a signed random token, not a token of claims


ENDINGS: dict[str, tuple[str, Callable[[Page, str], None], str | None]] = {
    # username, what ends the session, what the first browser is told at its next click
    "sign-out": ("lead", lambda page, db: page.get_by_role("button", name="Sign out").click(), None),
    "password reset": (
        "manager_central",
        lambda page, db: _cli(db, "users", "reset-password", "manager_central"),
        "Your password was reset. Please sign in again.",
    ),
    "lockout": ("board", lambda page, db: _lock(db, "board"), "Your account was locked. Please sign in again."),
    "disabling": (
        "manager_north",
        lambda page, db: (_cli(db, "users", "disable", "manager_north"), _cli(db, "users", "enable", "manager_north")),
        "Your account was disabled. Please sign in again.",
    ),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_copied_cookie_stops_working_at_the_next_click_once_the_session_ends(
    browser: Browser, servers: tuple[Server, Server, str], ending: str
) -> None:
    first, second, db = servers
    username, end, told = ENDINGS[ending]
    page = _signed_in_page(browser, first, username)
    # The same cookie in another browser, on the other app process: signed in there too.
    copy = _with_cookie(browser, second, _session_cookie(page.context))
    _shows_signed_in(copy, username)

    end(page, db)  # disabling is undone at once: enabling the account again brings no session back

    if ending == "sign-out":
        _refused(page)
        assert _cookie_gone(page)
    else:
        _next_click(page)
        _refused(page, told)
    _next_click(copy)
    _refused(copy, told)
    copy.reload()
    _refused(copy)


def _cookie_gone(page: Page) -> bool:
    """Sign-out also asks the browser to forget the cookie (it is dead either way)."""
    for _ in range(50):
        if not [c for c in page.context.cookies() if c["name"] == sessions.COOKIE_NAME]:
            return True
        page.wait_for_timeout(100)
    return False


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _aged_cookie(db: str, username: str, signed_in_ago: dt.timedelta, seen_ago: dt.timedelta) -> str:
    """A real, correctly signed session cookie whose session began and was last used a while ago."""
    now = sessions.now()
    with Session(get_engine(db)) as session:
        session_id, ticket = sessions.open_session(session, username, "203.0.113.9", now - signed_in_ago)
        token = sessions.trade_ticket(session, ticket, now - signed_in_ago)
        assert token is not None
        row = session.get(UserSession, session_id)
        assert row is not None
        row.last_seen_at = now - seen_ago
        session.add(row)
        session.commit()
    return sessions.cookie_value(token, KEY)


@pytest.mark.parametrize(
    ("name", "value", "told"),
    [
        ("alg none", lambda db: _jwt({"username": "admin", "exp_date": 4_102_444_800}), None),
        ("another key", lambda db: sessions.cookie_value("made-up-token", "not-the-key-" * 4), None),
        (
            "past the lifetime",
            lambda db: _aged_cookie(db, "admin", dt.timedelta(hours=12, minutes=5), dt.timedelta(minutes=1)),
            "Your session reached its maximum length. Please sign in again.",
        ),
        (
            "idle",
            lambda db: _aged_cookie(db, "admin", dt.timedelta(hours=1), dt.timedelta(minutes=31)),
            "Your session ended after a period without activity. Please sign in again.",
        ),
    ],
)
def test_forged_old_and_idle_cookies_get_the_sign_in_form(
    browser: Browser, servers: tuple[Server, Server, str], name: str, value: Callable[[str], str], told: str | None
) -> None:
    first, _second, db = servers
    host = first.url.split("//", 1)[1].split(":")[0]
    cookie = {"name": sessions.COOKIE_NAME, "value": value(db), "domain": host, "path": "/"}
    page = _with_cookie(browser, first, cookie)
    _refused(page, told)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_wrong_password_reads_the_same_for_real_and_unknown_accounts(
    browser: Browser, servers: tuple[Server, Server, str]
) -> None:
    messages = []
    for username in ("admin", "no-such-person"):
        page = browser.new_context().new_page()
        page.goto(servers[1].url + "/")
        idle(page)
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill("not-" + TEST_PASSWORD)
        page.get_by_role("textbox", name="Password").press("Tab")
        page.get_by_role("button", name="Sign in").click()
        alert = page.locator('[data-testid="stAlertContentError"]')
        expect(alert).to_be_visible(timeout=WAIT)
        messages.append(alert.inner_text().strip())
    assert messages == ["Username or password is not right."] * 2
