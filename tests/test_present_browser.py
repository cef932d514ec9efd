"""Presentation mode in headless Chromium against a real `streamlit run`
server (the session-scoped `server` fixture, 2000 synthetic young people):
the lead opens the demo story "Board meeting" from the Presentations page
and walks its eight steps with Next (the button, and once Page Down, as a
presenter's clicker sends). Each step is photographed to the test's tmp_path;
run with --basetemp to keep them where you can look at them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from sqlalchemy import text
from test_browser import _idle, _no_traceback

from models.db import get_engine

WAIT = 45_000  # ms; Streamlit on a small machine is slow
SIDEBAR = 'section[data-testid="stSidebar"]'
# The demo story, step by step: the view's label and a heading that only that view shows.
STEPS = [
    ("Programme progress: summary", re.compile(r"^Programme progress by theme$")),
    ("Cohort: flow across 18", re.compile(r"^From the service at 17 to how young people fare at 19-21$")),
    ("Cohort: the gap", re.compile(r"^How long the gap was$")),
    ("Capacity: establishment", re.compile(r"^By locality$")),
    ("Programme progress: theme 1", re.compile(r"^Theme 1: ")),
    ("Programme progress: theme 2", re.compile(r"^Theme 2: ")),
    ("Programme progress: theme 3", re.compile(r"^Theme 3: ")),
    ("Programme progress: theme 4", re.compile(r"^Theme 4: ")),
]
BY_KEYBOARD = 3  # leave this step with Page Down rather than the Next button
SCREENS = ((1440, 900), (1920, 1080))

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _slow_page(page: Page) -> Iterator[None]:
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)  # expect() has its own 5 s default
    yield
    expect.set_options(timeout=5_000)


def _shot(page: Page, path: Path) -> None:
    """Whole-page screenshot: Streamlit scrolls inside its main block, so grow the window to the content."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 100, 5000)})
    page.wait_for_timeout(600)  # charts redraw at the new size
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10 * 1024
    page.set_viewport_size({"width": 1440, "height": 900})


def _db(server: Server) -> str:
    return f"sqlite:///{server.log.parent / 'browser.db'}"


def _count(server: Server, sql: str) -> int:
    with get_engine(_db(server)).connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _step_caption(number: int, label: str) -> re.Pattern[str]:
    return re.compile(
        rf"^Board meeting · step {number} of 8: {re.escape(label)}( · part \d+ of \d+)? · shown at board level"
    )


def _part(page: Page) -> tuple[int, int]:
    """The part on screen and the view's number of parts, from the presenter's line."""
    line = page.get_by_text(re.compile(r"^(Board meeting · )?step \d+ of \d+: ")).inner_text()
    found = re.search(r" · part (\d+) of (\d+)", line)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def _fits(page: Page) -> list[str]:
    """Whether the screen on show fits, without scrolling, a 1440x900 and a
    1920x1080 window: the screens a presentation is given on. Returns what did not."""
    misfits = []
    for width, height in SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        # Charts lay themselves out again at the new width: wait until the page's height settles.
        tall = page.evaluate(
            """async () => {
                const main = document.querySelector('[data-testid="stMain"]');
                let last = -1;
                for (let i = 0; i < 40; i++) {
                    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                    await new Promise(r => setTimeout(r, 50));
                    if (main.scrollHeight === last) break;
                    last = main.scrollHeight;
                }
                return [main.scrollHeight, main.clientHeight];
            }"""
        )
        if tall[0] > tall[1]:
            line = page.get_by_text(re.compile(r"^(Board meeting · )?step \d+ of \d+: ")).inner_text()
            misfits.append(f"{line} at {width}x{height}: {tall[0]} px tall in a {tall[1]} px window")
    page.set_viewport_size({"width": 1440, "height": 900})
    return misfits


def _at_step(page: Page, number: int) -> None:
    label, heading = STEPS[number - 1]
    expect(page.get_by_text(_step_caption(number, label))).to_be_visible(timeout=WAIT)
    _idle(page)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?present=1&.*story=1&step={number}(&part=\d+)?$"))
    # Presenting: no sidebar (so no filters and no navigation), no header, no page tabs, no downloads.
    expect(page.locator(SIDEBAR)).to_be_hidden()
    expect(page.locator('header[data-testid="stHeader"]')).to_be_hidden()
    expect(page.get_by_text(re.compile(r"^Signed in as"))).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Present this page"))).to_have_count(0)
    assert page.locator('[data-testid="stDownloadButton"]').filter(visible=True).count() == 0
    for tab in ("Flow across 18", "The gap", "Establishment", "Theme 1", "Record values", "Record a month"):
        expect(page.get_by_role("tab", name=tab, exact=True)).to_have_count(0)
    _no_traceback(page)


def test_lead_presents_the_board_meeting(page: Page, server: Server, tmp_path: Path) -> None:
    turned_18_in_2025 = _count(server, "SELECT COUNT(*) FROM youngperson WHERE strftime('%Y', birth_month) = '2007'")
    funded_posts = _count(
        server, "SELECT COUNT(DISTINCT post_id) FROM postsnapshot WHERE month = (SELECT MAX(month) FROM postsnapshot)"
    )
    assert turned_18_in_2025 > 5 and funded_posts == 65

    sign_in(page, server, "lead")
    page.goto(f"{server.url}/stories")
    expect(page.get_by_role("heading", name="Presentations").first).to_be_visible(timeout=WAIT)
    _idle(page)
    expect(page.locator(SIDEBAR)).to_be_visible()
    expect(page.get_by_text("Board meeting · for the board")).to_be_visible()
    present = page.locator('a[href*="present=1&story=1&step=1"]')
    expect(present).to_have_text(re.compile(r"Present$"))
    present.click()

    misfits: list[str] = []
    for number in range(1, 9):
        _at_step(page, number)
        if number == 2:
            flow = re.compile(rf"^Of {turned_18_in_2025} young people who turned 18 across all localities in 2025")
            expect(page.get_by_text(flow).first).to_be_visible()
        if number == 4:
            card = page.locator('[data-testid="stMetric"]').filter(has_text="Funded posts")
            expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(str(funded_posts))
        previous = page.get_by_role("button", name=re.compile("Previous"))
        following = page.get_by_role("button", name=re.compile("Next"))
        # A long view is shown a screen at a time: Next walks its parts, then goes on to the next step.
        part, parts = _part(page)
        while True:
            misfits += _fits(page)
            if part == 1:
                _shot(page, tmp_path / f"step_{number}.png")
            if number == 1 and part == 1:
                expect(previous).to_be_disabled()
            else:
                expect(previous).to_be_enabled()
            if part == parts:
                break
            following.click()
            part += 1
            expect(page.get_by_text(re.compile(rf" · part {part} of {parts}"))).to_be_visible()
            _idle(page)
        if number == 8:
            expect(following).to_be_disabled()
        elif number == BY_KEYBOARD:
            page.keyboard.press("PageDown")  # nothing clicked first: a clicker just sends the key
        else:
            following.click()
    assert not misfits, "Presentation screens that scroll:\n" + "\n".join(misfits)

    # Back from the first part of a view is the last part of the view before.
    for part in range(_part(page)[0] - 1, 0, -1):
        page.get_by_role("button", name=re.compile("Previous")).click()
        expect(page.get_by_text(_step_caption(8, STEPS[7][0]))).to_contain_text(f"part {part} of")
    page.get_by_role("button", name=re.compile("Previous")).click()
    _at_step(page, 7)
    expect(page).to_have_url(re.compile(r"&part=\d+$"))
    assert _part(page)[0] == _part(page)[1] > 1

    page.get_by_role("button", name=re.compile("Leave")).click()
    expect(page.get_by_role("tab", name="Theme 3", exact=True)).to_be_visible(timeout=WAIT)
    _idle(page)
    expect(page).not_to_have_url(re.compile(r"present="))
    expect(page.locator(SIDEBAR)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Signed in as lead"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Present this page"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"step \d of 8"))).to_have_count(0)
    _no_traceback(page)


PRESENTER_LINE = re.compile(r"^(Board meeting · )?step \d+ of \d+: ")


@pytest.mark.parametrize(("path", "views"), [("", 1), ("cohort", 6), ("capacity", 3), ("themes", 5)])
def test_every_screen_of_present_this_page_fits(page: Page, server: Server, path: str, views: int) -> None:
    """The lead presents each page from its "Present this page" button and
    walks every view and every part of it with Next: no screen scrolls at
    1440x900 or at 1920x1080."""
    sign_in(page, server, "lead")
    page.goto(f"{server.url}/{path}")
    _idle(page)
    page.get_by_role("button", name=re.compile("Present this page")).click()
    line = page.get_by_text(PRESENTER_LINE)
    expect(line).to_have_text(re.compile(rf"^step 1 of {views}: "), timeout=WAIT)
    _idle(page)
    misfits: list[str] = []
    shown: list[str] = []
    following = page.get_by_role("button", name=re.compile("Next"))
    while True:
        shown.append(line.inner_text())
        misfits += _fits(page)
        _no_traceback(page)
        if following.is_disabled():
            break
        following.click()
        expect(line).not_to_have_text(shown[-1])
        _idle(page)
    # Every view was reached, each to its last part.
    assert shown[-1].startswith(f"step {views} of {views}: ")
    for number in range(1, views + 1):
        last = [text for text in shown if text.startswith(f"step {number} of ")][-1]
        found = re.search(r"part (\d+) of (\d+)", last)
        assert found is None or found.group(1) == found.group(2), last
    assert not misfits, "Presentation screens that scroll:\n" + "\n".join(misfits)
