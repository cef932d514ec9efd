"""Downloads from a real `streamlit run` (the session-scoped `server`
fixture) hold exactly what the signed-in viewer may see: a locality manager
gets their own locality's rows whatever the URL asks for; a board member's
counts from 1 to 5 are `c`. Each file is compared with the project lead's
download of the same table, so a test cannot pass on an empty file."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_browser import _idle, _no_traceback

from partnership import exports

WAIT = 45_000  # ms; Streamlit on a small machine is slow
TODAY = dt.date.today().isoformat()

pytestmark = pytest.mark.browser


def _as(browser: Browser, server: Server, username: str) -> Page:
    """A page of its own browser context: one viewer's cookies and session."""
    page = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(WAIT)
    sign_in(page, server, username)
    return page


def _cohort_tab(page: Page, server: Server, role: str, tab: str, query: str = "") -> None:
    page.goto(f"{server.url}/cohort{query}")
    expect(page.get_by_text(f"Signed in as {role}")).to_be_visible(timeout=WAIT)
    _idle(page)
    page.get_by_role("tab", name=tab, exact=True).click()
    _idle(page)


def _download(page: Page, block: str, label: str) -> tuple[str, bytes]:
    """Press one of a block's download buttons; the file is built on the click."""
    button = page.locator(f".st-key-exports_{block}").get_by_role("button", name=label, exact=True)
    expect(button).to_be_visible(timeout=WAIT)
    # A file is made on the click from what the button was drawn with. A click
    # that lands while a rerun redraws the page (the sign-in cookie asks for one
    # after a page loads) finds that generator gone and nothing downloads: as a
    # user would, wait for the page to settle and click again.
    for attempt in range(3):
        _idle(page)
        try:
            with page.expect_download(timeout=WAIT if attempt == 2 else 15_000) as info:
                button.click()
            break
        except PlaywrightTimeout:
            continue
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def _table(page: Page, block: str) -> tuple[str, pl.DataFrame, pl.DataFrame, bytes]:
    """CSV and Excel of one table block, read back as text columns."""
    csv_name, csv = _download(page, block, "CSV")
    xlsx_name, xlsx = _download(page, block, "Excel")
    assert xlsx_name == csv_name.removesuffix(".csv") + ".xlsx"
    from_csv = pl.read_csv(io.BytesIO(csv), infer_schema=False)
    from_excel = pl.read_excel(io.BytesIO(xlsx), sheet_name=exports.SHEET_DATA)
    from_excel = from_excel.select(pl.all().cast(pl.String))
    assert from_excel.equals(from_csv), (from_csv, from_excel)
    return csv_name, from_csv, from_excel, xlsx


def test_manager_exports_hold_their_own_locality_only(browser: Browser, server: Server) -> None:
    page = _as(browser, server, "lead")
    _cohort_tab(page, server, "lead", "Cohort by age")
    _, lead_list, _, _ = _table(page, "age_turning_18_list")
    _, lead_ages, _, _ = _table(page, "age_by_age")
    assert set(lead_list["Locality"]) == {"East", "Central", "North"}
    page.context.close()

    page = _as(browser, server, "manager_east")
    # The link asks for North: the page refuses it, and so do the files.
    _cohort_tab(page, server, "manager_east", "Cohort by age", "?locality=north")
    name, listed, _, _ = _table(page, "age_turning_18_list")
    assert name == f"cohort_turning-18-list_locality-east_period-2025_{TODAY}.csv"
    assert set(listed["Locality"]) == {"East"}
    assert listed.sort("Young person (key)").equals(
        lead_list.filter(pl.col("Locality") == "East").sort("Young person (key)")
    )

    name, ages, _, xlsx = _table(page, "age_by_age")
    assert name == f"cohort_by-age_locality-east_period-2025_{TODAY}.csv"
    # East only (no total row: it would repeat East's), as the lead sees it.
    assert ages["Locality"].to_list() == ["East"]
    assert ages.equals(lead_ages.filter(pl.col("Locality") == "East"))
    notes = pl.read_excel(io.BytesIO(xlsx), sheet_name=exports.SHEET_NOTES, has_header=False).to_series().to_list()
    assert any(note.startswith("Locality: East · Period: 2025") for note in notes)
    _no_traceback(page)
    page.context.close()


def _is_small(value: str | None) -> bool:
    return value is not None and value.isdigit() and 1 <= int(value) <= 5


def test_board_exports_show_small_counts_as_c(browser: Browser, server: Server) -> None:
    page = _as(browser, server, "lead")
    _cohort_tab(page, server, "lead", "Cohort by age")
    _, lead, _, _ = _table(page, "age_by_age")
    page.context.close()

    page = _as(browser, server, "board")
    _cohort_tab(page, server, "board", "Cohort by age")
    assert page.locator(".st-key-exports_age_turning_18_list").count() == 0  # no case list for the board
    name, board, _, xlsx = _table(page, "age_by_age")
    assert name == f"cohort_by-age_locality-all_period-2025_{TODAY}.csv"
    assert board.columns == lead.columns
    assert board["Locality"].to_list() == lead["Locality"].to_list()
    small = 0
    for column in board.columns[1:]:
        for shown, real in zip(board[column], lead[column], strict=True):
            assert not _is_small(shown), (column, shown)
            if _is_small(real):
                small += 1
                assert shown == "c", (column, real, shown)
            elif shown != "c":  # a cell hidden to protect another one is c too
                assert shown == real, (column, real, shown)
    assert small > 0, "no count from 1 to 5 in this table: the test would prove nothing"
    notes = pl.read_excel(io.BytesIO(xlsx), sheet_name=exports.SHEET_NOTES, has_header=False).to_series().to_list()
    assert any(note.startswith("Counts from 1 to 5 are shown as c") for note in notes)

    # The chart of the gap: its image labels are the board's, not the real counts.
    page.get_by_role("tab", name="The gap", exact=True).click()
    _idle(page)
    png_name, png = _download(page, "gap_gap_distribution", "PNG")
    assert png_name == f"cohort_gap-distribution_locality-all_period-2025_{TODAY}.png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    _, svg = _download(page, "gap_gap_distribution", "SVG")
    _, shown = _download(page, "gap_gap_distribution", "CSV")
    text = svg.decode()
    labels = re.search(r'class="mark-text role-mark layer_1_marks".*?</g>', text, re.S)
    assert labels is not None
    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", labels.group(0))
    counts = pl.read_csv(io.BytesIO(shown), infer_schema=False)
    assert drawn == counts.filter(pl.col("Gap") != "Total")["Young people"].to_list()
    # The file's total is the figure the page's sentence quotes (one measure, one value).
    gap_sentence = re.compile(r"^Of [0-9,]+ young people who turned 18 across all localities in \d{4} with both")
    sentence = page.get_by_text(gap_sentence).first
    quoted = re.match(r"^Of ([0-9,]+) ", sentence.inner_text())
    assert quoted is not None
    assert counts.filter(pl.col("Gap") == "Total")["Young people"].to_list() == [quoted.group(1)]
    assert not any(_is_small(label) for label in drawn)
    _no_traceback(page)
    page.context.close()
