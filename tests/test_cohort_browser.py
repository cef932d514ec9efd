"""The "Cohort flow across 18" page in headless Chromium against a real
`streamlit run` server (the session-scoped `server` fixture, 2000 synthetic
young people). Screenshots of every tab go to test-results/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from test_browser import _no_traceback, _open, _signed_in

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-results"
WAIT = 45_000  # ms; Streamlit on two cores is slow
TABS = [
    "Flow across 18",
    "Cohort by age",
    "The gap",
    "Outcomes at 19-21",
    "Shared view of risk",
    "Who is over-represented",
]
CHART = '[data-testid="stVegaLiteChart"]'

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _slow_page(page: Page) -> None:
    page.set_default_timeout(WAIT)


def _open_cohort(page: Page, server: Server, username: str, query: str = "") -> None:
    """Sign in on the front page, wait for the session cookie, then open /cohort by URL."""
    sign_in(page, server, username)
    _signed_in(page, username)
    page.goto(server.url + "/cohort" + query)
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Cohort flow across 18").first).to_be_visible(timeout=WAIT)
    for name in TABS:
        expect(page.get_by_role("tab", name=name, exact=True)).to_be_visible(timeout=WAIT)


def _wait_for_flow_chart(page: Page) -> None:
    panel = page.get_by_role("tabpanel").filter(has=page.locator(CHART)).first
    drawn = panel.locator(f"{CHART} canvas, {CHART} svg").first
    expect(drawn).to_be_visible(timeout=WAIT)
    box = drawn.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100, box


def _shot(page: Page, name: str) -> Path:
    """Whole-page screenshot: Streamlit scrolls inside its main block, so grow the window to the content."""
    OUT.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 100, 4000)})
    page.wait_for_timeout(700)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10 * 1024
    page.set_viewport_size({"width": 1280, "height": 900})
    return path


def _visit_tabs(page: Page, prefix: str, tabs: list[str]) -> None:
    for n, name in enumerate(tabs, start=1):
        tab = page.get_by_role("tab", name=name, exact=True)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true", timeout=WAIT)
        page.wait_for_timeout(800)  # let the tab's chart draw
        _no_traceback(page)
        _shot(page, f"{prefix}_{n}")


def test_unauthenticated_visit_to_cohort_shows_no_data(page: Page, server: Server) -> None:
    _open(page, server.url + "/cohort")
    page.wait_for_timeout(1500)  # let any late element arrive before checking its absence
    body = page.locator("body").inner_text()
    assert re.search(r"Please sign in|Sign in", body)
    assert "Cohort flow across 18" not in body
    assert "Flow across 18" not in body
    assert "Signed in as" not in body
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator(CHART).count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
    _no_traceback(page)


def test_lead_sees_the_flow_chart_and_every_tab(page: Page, server: Server) -> None:
    _open_cohort(page, server, "lead", "?period=2025")
    expect(page.get_by_text(re.compile(r"^All localities · 18th birthdays in 2025"))).to_be_visible(timeout=WAIT)
    _wait_for_flow_chart(page)
    sentence = re.compile(r"young people who turned 18 across all localities in 2025")
    expect(page.get_by_text(sentence).first).to_be_visible()
    _visit_tabs(page, "cohort_lead", TABS)
    # The lead's case list is on the "Cohort by age" tab.
    page.get_by_role("tab", name="Cohort by age", exact=True).click()
    expect(page.get_by_text("Young people turning 18 in the next 12 months")).to_be_visible(timeout=WAIT)
    _no_traceback(page)


def test_board_sees_counts_only(page: Page, server: Server) -> None:
    _open_cohort(page, server, "board")
    expect(page.get_by_text(re.compile(r"counts from 1 to 5 are shown as c"))).to_be_visible(timeout=WAIT)
    _wait_for_flow_chart(page)
    _visit_tabs(page, "cohort_board", TABS[:2])
    expect(page.get_by_text("Board members see counts only; managers see their own young people here.")).to_be_visible(
        timeout=WAIT
    )
    assert page.get_by_text("Young people turning 18 in the next 12 months").count() == 0
    assert page.get_by_text("Who slipped through the net").count() == 0
    assert "Young person (key)" not in page.content()
    _no_traceback(page)


def test_manager_sees_east(page: Page, server: Server) -> None:
    _open_cohort(page, server, "manager_east", "?locality=north")
    expect(page.get_by_text("You can see East only")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"^East · 18th birthdays in \d{4}"))).to_be_visible(timeout=WAIT)
    _wait_for_flow_chart(page)
    _visit_tabs(page, "cohort_manager", TABS[:2])
    expect(page.get_by_text("Young people turning 18 in the next 12 months")).to_be_visible(timeout=WAIT)
    case_list = re.compile(r"^\d+ young people in East\. Pseudonymised keys only")
    expect(page.get_by_text(case_list)).to_be_visible(timeout=WAIT)
    # The case list's heading is in the page (the board test checks it is absent there).
    assert "Young person (key)" in page.content()
    _no_traceback(page)
