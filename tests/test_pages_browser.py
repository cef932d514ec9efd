"""The "Team capacity" and "Programme progress" pages in headless Chromium
against a real `streamlit run` server (the session-scoped `server` fixture).
Every tab is clicked and photographed to test-results/<page>_<role>_<n>.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from sqlalchemy import text
from test_browser import _idle, _no_traceback, _open

from models.db import get_engine

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-results"
WAIT = 45_000  # ms; Streamlit on a small machine is slow

PAGES = {
    "capacity": ("Team capacity", ["Establishment", "Caseloads", "Trend", "What if"], "Record a month"),
    "themes": (
        "Programme progress by theme",
        ["Programme summary", "Theme 1", "Theme 2", "Theme 3", "Theme 4"],
        "Record values",
    ),
}
RECORDERS = {"lead"}

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _slow_page(page: Page) -> None:
    page.set_default_timeout(WAIT)


def _shot(page: Page, name: str) -> Path:
    """Whole-page screenshot: Streamlit scrolls inside its main block, so grow the window to the content."""
    OUT.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 100, 5000)})
    page.wait_for_timeout(600)  # charts redraw at the new size
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10 * 1024
    page.set_viewport_size({"width": 1280, "height": 900})
    return path


def _funded_posts(server: Server, locality: str | None) -> int:
    """Posts in the latest staffing month, counted from the server's own database."""
    engine = get_engine(f"sqlite:///{server.log.parent / 'browser.db'}")
    sql = (
        "SELECT COUNT(DISTINCT s.post_id) FROM postsnapshot s JOIN post p ON p.id = s.post_id "
        "JOIN locality l ON l.id = p.locality_id WHERE s.month = (SELECT MAX(month) FROM postsnapshot)"
        + (" AND l.name = :loc" if locality else "")
    )
    with engine.connect() as conn:
        return int(conn.execute(text(sql), {"loc": locality} if locality else {}).scalar_one())


def _visit(page: Page, server: Server, role: str, slug: str) -> None:
    heading, tabs, record_tab = PAGES[slug]
    page.goto(f"{server.url}/{slug}")
    expect(page.get_by_text(f"Signed in as {role}")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=WAIT)
    _idle(page)
    names = [*tabs, *([record_tab] if role in RECORDERS else [])]
    for name in names:
        expect(page.get_by_role("tab", name=name, exact=True)).to_be_visible(timeout=WAIT)
    assert page.get_by_role("tab", name=record_tab, exact=True).count() == (1 if role in RECORDERS else 0)
    for n, name in enumerate(names, start=1):
        tab = page.get_by_role("tab", name=name, exact=True)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        panel = page.get_by_role("tabpanel").filter(visible=True).first
        expect(panel).not_to_be_empty()
        page.wait_for_timeout(300)
        _no_traceback(page)
        _shot(page, f"{slug}_{role}_{n}")


@pytest.mark.parametrize("role", ["lead", "board", "manager_east"])
def test_capacity_and_themes_tabs(page: Page, server: Server, role: str) -> None:
    sign_in(page, server, role)

    _visit(page, server, role, "capacity")
    posts = _funded_posts(server, "East" if role == "manager_east" else None)
    assert posts == (20 if role == "manager_east" else 65)
    page.get_by_role("tab", name="Establishment", exact=True).click()
    card = page.locator('[data-testid="stMetric"]').filter(has_text="Funded posts")
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(str(posts))
    if role == "manager_east":
        expect(page.get_by_text(re.compile(r"^East · staffing for"))).to_be_visible()

    _visit(page, server, role, "themes")
    page.get_by_role("tab", name="Programme summary", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Of the four themes: "))).to_be_visible()
    _no_traceback(page)


@pytest.mark.parametrize("slug", ["capacity", "themes"])
def test_unauthenticated_visit_shows_no_data(page: Page, server: Server, slug: str) -> None:
    _open(page, f"{server.url}/{slug}")
    page.wait_for_timeout(1500)  # let any late element arrive before checking its absence
    body = page.locator("body").inner_text()
    heading, tabs, record_tab = PAGES[slug]
    for word in (heading, *tabs, record_tab, "Funded posts", "Signed in as", "On track", "Off track"):
        assert word not in body, word
    assert page.get_by_role("tab").count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 0
    assert re.search(r"Please sign in|Sign in", body)
    _no_traceback(page)
