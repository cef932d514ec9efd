"""The Data and Data quality pages in headless Chromium against a real
`streamlit run` server (the session-scoped `server` fixture): the real
SSDA903 files uploaded through the browser and refused, the refusal on the
quality page, and the pages refused when other roles type their URLs.
Only refusals happen here, so the shared server's data stay as they were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from test_browser import _idle, _no_traceback, _open
from test_pages_browser import WAIT, _shot

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "ssda903"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _slow_page(page: Page) -> None:
    page.set_default_timeout(WAIT)


def _go(page: Page, server: Server, path: str) -> None:
    page.goto(f"{server.url}/{path}")
    expect(page.get_by_text(re.compile(r"Signed in as")).first).to_be_visible(timeout=WAIT)
    _idle(page)


def _tables_drawn(page: Page, count: int) -> None:
    """Tables are drawn on a canvas after the run ends, and only once shown:
    wait for the first `count` visible ones before a photograph."""
    tables = page.locator('[data-testid="stDataFrame"]:visible')
    expect(tables.nth(count - 1)).to_be_attached(timeout=WAIT)
    for i in range(count):
        expect(tables.nth(i).locator("canvas").first).to_be_attached(timeout=WAIT)


def test_admin_uploads_the_real_903_files_and_sees_every_problem(page: Page, server: Server) -> None:
    sign_in(page, server, "admin")
    _go(page, server, "data")
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=WAIT)
    year = page.get_by_role("spinbutton", name="Collection year ending 31 March (needed for oc3.csv)")
    year.fill("2018")
    year.press("Enter")
    _idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(sorted(SOURCE.glob("*.csv")))
    expect(page.get_by_role("tab", name="header.csv (2,675 rows)")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("tab", name="episodes.csv (5,050 rows)")).to_be_visible(timeout=WAIT)
    _idle(page)
    page.get_by_role("button", name="Import").click()
    refusal = page.get_by_text(
        re.compile(r"ssda903-east-2018: rejected, 15 problems in 7821 rows; nothing was imported")
    )
    expect(refusal).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Nothing was written")).to_be_visible(timeout=WAIT)
    _idle(page)
    _no_traceback(page)
    _tables_drawn(page, 2)  # the first file's preview and the problems
    _shot(page, "data_admin_refused")

    _go(page, server, "quality")
    expect(page.get_by_role("heading", name="Data quality")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"ssda903-east-2018: rejected, 15 problems"))).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("All 15 problems", exact=False)).to_be_visible(timeout=WAIT)
    _idle(page)
    _no_traceback(page)
    _tables_drawn(page, 4)  # problems, imports, tables, fields
    _shot(page, "quality_admin")


@pytest.mark.parametrize("username", ["board", "manager_east"])
def test_other_roles_typing_the_urls_are_refused(page: Page, server: Server, username: str) -> None:
    sign_in(page, server, username)
    for path in ("data", "quality"):
        _go(page, server, path)
        # Told why, in words, not "Page not found"; and the page is not in their sidebar.
        expect(page.get_by_text("This page is not available to your role")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page.locator('[data-testid="stSidebar"] a', has_text="Data quality")).to_have_count(0)
        expect(page.get_by_role("heading", name=re.compile(r"^Data"))).to_have_count(0)
        expect(page.locator('[data-testid="stFileUploader"]')).to_have_count(0)
        _no_traceback(page)


@pytest.mark.parametrize("path", ["data", "quality"])
def test_signed_out_visit_shows_nothing(page: Page, server: Server, path: str) -> None:
    _open(page, f"{server.url}/{path}")
    _idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT)
    # No page is listed before sign-in (Streamlit would list every file in pages/).
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.locator('[data-testid="stSidebar"] a')).to_have_count(0)
    expect(page.locator('[data-testid="stFileUploader"]')).to_have_count(0)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile(r"^Data"))).to_have_count(0)
