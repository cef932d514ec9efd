"""Fit for the room, role by role, in headless Chromium at 1440x900 against
a real `streamlit run` server: each role walks to the answers the issue on
the room asked for, and each stop is photographed to the test's tmp_path
(run with --basetemp to keep them and look at them).

Presenting is walked screen by screen in test_present_browser.py; the page a
role may not open, in test_data_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from test_browser import _idle, _no_traceback

WAIT = 45_000  # ms
CHART = '[data-testid="stVegaLiteChart"]'

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _room(page: Page) -> Iterator[None]:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    yield
    expect.set_options(timeout=5_000)


def _go(page: Page, server: Server, path: str, tab: str | None = None) -> None:
    page.goto(f"{server.url}/{path}")
    expect(page.get_by_text(re.compile(r"^Signed in as"))).to_be_visible()
    _idle(page)
    if tab:
        # The sign-in cookie's rerun just after a page loads disables the tabs for a moment and can drop a
        # click: click again until the tab is chosen.
        chosen = page.get_by_role("tab", name=tab, exact=True)
        for _attempt in range(5):
            _idle(page)
            chosen.click()
            try:
                expect(chosen).to_have_attribute("aria-selected", "true", timeout=5_000)
                break
            except AssertionError:
                continue
        expect(chosen).to_have_attribute("aria-selected", "true")
        _idle(page)


def _shot(page: Page, path: Path) -> None:
    """The whole page at 1440 wide: Streamlit scrolls inside its main block, so grow the window to it."""
    # Elements come into view drawn lazily: wait for their placeholders to go before measuring and after.
    drawn = "!document.querySelector('[data-testid^=\"stSkeleton\"]')"
    page.wait_for_function(drawn)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 60, 6000)})
    page.wait_for_function(drawn)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    _no_traceback(page)


def test_a_board_member_browses_the_answers(page: Page, server: Server, tmp_path: Path) -> None:
    sign_in(page, server, "board")
    # Headline cards: direction of travel against a year earlier, and England beside our NEET figure.
    _go(page, server, "")
    cards = page.locator('[data-testid="stMetric"]')
    expect(cards.filter(has_text="Adult service within 3 months of 18")).to_contain_text(re.compile(r" on \d{4}"))
    expect(page.get_by_text(re.compile(r"Care leavers \d{4}: England [\d.]+%, statistical neighbours"))).to_be_visible()
    _shot(page, tmp_path / "board_overview.png")
    # Programme progress opens on a picture: every indicator's status and trend.
    _go(page, server, "themes")
    expect(page.get_by_text(re.compile(r"^Every indicator at a glance: \d+ of \d+ on track"))).to_be_visible()
    expect(page.locator(CHART).first.locator("canvas, svg").first).to_be_visible()
    _shot(page, tmp_path / "board_progress.png")
    # Over-representation: the finding in words first.
    _go(page, server, "cohort", "Who is over-represented")
    finding = re.compile(r"^(Over-represented: |Under-represented: |No group is over- or under-represented)")
    expect(page.get_by_text(finding).first).to_be_visible()
    _shot(page, tmp_path / "board_representation.png")
    # What if: no promise of scenarios that are not there (other tests on this server may have saved some).
    _go(page, server, "capacity", "What if")
    tried_by = page.get_by_text(re.compile(r"^The project lead and locality managers try scenarios here\. "))
    expect(tried_by).to_be_visible()
    listed = page.get_by_role("heading", name="Saved scenarios")
    if "listed below" in tried_by.inner_text():
        expect(listed).to_be_visible()
    else:
        expect(tried_by).to_contain_text("None has been saved yet.")
        expect(listed).to_have_count(0)
    _shot(page, tmp_path / "board_what_if.png")


def test_a_manager_works_their_lists(page: Page, server: Server, tmp_path: Path) -> None:
    sign_in(page, server, "manager_east")
    # Who slipped through the net: pseudonymised keys, the service left, days since.
    _go(page, server, "cohort", "The gap")
    expect(page.get_by_role("heading", name="Who slipped through the net")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ young people in East whose 18th birthday fell in"))).to_be_visible()
    _shot(page, tmp_path / "manager_slipped.png")
    # The turning-18 list narrowed to those without an agreed plan.
    _go(page, server, "cohort", "Cohort by age")
    page.get_by_text("Only those without an agreed plan").click()
    narrowed = re.compile(r"^(\d+) of (\d+) shown \(only those without an agreed plan\)\. ")
    expect(page.get_by_text(narrowed)).to_be_visible()
    shown, of = (int(n) for n in narrowed.match(page.get_by_text(narrowed).inner_text()).groups())  # type: ignore[union-attr]
    assert 0 < shown < of
    _shot(page, tmp_path / "manager_no_plan.png")
    # A story is labelled with the locality the manager will see.
    _go(page, server, "stories")
    expect(page.get_by_text(re.compile(r"East, your locality")).first).to_be_visible()
    _shot(page, tmp_path / "manager_stories.png")


def test_the_lead_prepares_for_the_board(page: Page, server: Server, tmp_path: Path) -> None:
    sign_in(page, server, "lead")
    # NEET and homelessness at 19-21 on one view, beside England, region and neighbours.
    _go(page, server, "cohort?period=2025", "Outcomes at 19-21")
    heading = "NEET and homelessness at 19-21, beside England, our region and our statistical neighbours"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Homeless or in emergency housing at 19-21: \d+%"))).to_be_visible()
    _shot(page, tmp_path / "lead_outcomes.png")
    # What if: the save form is where the text says it is.
    _go(page, server, "capacity", "What if")
    expect(page.get_by_text(re.compile(r"to keep a scenario, name it in the form under the results"))).to_be_visible()
    expect(page.get_by_role("button", name="Save as a scenario")).to_be_visible()
    _shot(page, tmp_path / "lead_what_if.png")
