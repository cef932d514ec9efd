"""One truth per figure: a figure that appears on more than one surface has
the same value there, read from the surfaces themselves (AppTest elements of
the Overview, the cohort, capacity and progress pages, the Board meeting
story's steps, and the board pack's text), for each role and a set of views
with and without the SEND and care filters; and what a board member sees is
what the lead sees wherever the board is shown a number at all.

The database is the 2,000-person demo; ONE_TRUTH_PEOPLE=100000 runs the same
checks on a 100,000-person partnership (minutes, so not in the suite)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from models.db import get_engine
from partnership.boardpack import build_board_pack
from tests.apptest_support import private_copy, signed_in
from tests.conftest import DEMO_AS_OF, seed_small
from tests.test_boardpack import rows

VIEWS = [("2025", "all"), ("2025", "east"), ("2024", "north")]
# Cohort filters (not offered at board level): the Overview and the cohort page apply them alike.
FILTERED = [
    ("lead", "2025", "all", {"send": "send"}),
    ("lead", "2024", "central", {"care": "care_experienced"}),
    ("manager_east", "2025", "east", {"send": "no_send", "care": "not_care"}),
]
PEOPLE = int(os.environ.get("ONE_TRUTH_PEOPLE", "2000"))
DIRECTION = "Direction (on a year before)"
NUMBER = re.compile(r"^[0-9][0-9,]*(\.[0-9]+)?%?( days)?$")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("truth") / "seeded.db"
    seed_small(f"sqlite:///{path}", PEOPLE, 2024)
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield private_copy(seeded, tmp_path, monkeypatch)


@dataclass
class Surfaces:
    overview: dict[str, str]
    cohort: dict[str, str]
    flow_sentence: str
    trend: pl.DataFrame
    indicators: pl.DataFrame


def _at(at: AppTest, page: str, period: str, locality: str, extra: dict[str, str] | None = None) -> AppTest:
    at.query_params["period"] = period
    at.query_params["locality"] = locality
    at.query_params.update(extra or {})
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def surfaces(user: str, period: str, locality: str, extra: dict[str, str] | None = None) -> Surfaces:
    at = signed_in(user)
    overview = {m.label: m.value for m in _at(at, "pages/overview.py", period, locality, extra).metric}
    cohort_at = _at(at, "pages/cohort.py", period, locality, extra)
    cohort = {m.label: m.value for m in cohort_at.metric}
    flow = next(m.value for m in cohort_at.markdown if "had no adult service within 3 months" in m.value)
    trend = next(
        df.value for df in [*cohort_at.dataframe, *cohort_at.table] if "Quarter of 18th birthday" in df.value.columns
    )
    themes_at = _at(at, "pages/themes.py", period, locality)
    # The theme tabs' indicator tables (the summary's status grid repeats them; it is checked against them
    # in test_themes_app).
    tables = [
        df.value
        for df in [*themes_at.dataframe, *themes_at.table]
        if {"Indicator", "Latest", "Target"} <= set(df.value.columns)
    ]
    return Surfaces(overview, cohort, flow, pl.from_pandas(trend), pl.from_pandas(pd_concat(tables)))


def pd_concat(frames: list[object]) -> object:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)  # type: ignore[arg-type]


def _pct(text: str) -> float:
    return float(text.rstrip("%"))


def _same_on_overview_and_cohort(s: Surfaces) -> None:
    # The median gap and NEET at 19-21: the Overview card is the cohort page's figure.
    assert s.overview["Median gap, children's to adult service"] == s.cohort["Median gap"]
    neet = next(label for label in s.overview if label.startswith("NEET at 19-21 in "))
    assert s.overview[neet] == s.cohort[neet]
    # Picked up within 3 months and not picked up are one release: they add up to 100 (each rounded).
    picked = s.overview["Adult service within 3 months of 18"]
    none = re.search(r"\*\*([0-9]+%|a share not shown)\*\* had no adult service", s.flow_sentence)
    assert none, s.flow_sentence
    if NUMBER.match(picked) and NUMBER.match(none.group(1)):
        assert abs(_pct(picked) + _pct(none.group(1)) - 100) <= 1
    else:
        assert not NUMBER.match(picked) and not NUMBER.match(none.group(1)), "one shown, its complement hidden"


@pytest.mark.parametrize(("period", "locality"), VIEWS)
@pytest.mark.parametrize("user", ["lead", "board"])
def test_a_figure_reads_the_same_on_every_page(db: str, user: str, period: str, locality: str) -> None:
    s = surfaces(user, period, locality)
    _same_on_overview_and_cohort(s)
    # Theme 4's 'slipped through the net' is the gap trend's figure for the same quarter.
    slipped = s.indicators.filter(pl.col("Indicator").str.starts_with("Slipped through the net")).row(0, named=True)
    if s.trend.height:
        last = s.trend.row(-1, named=True)
        theme_latest = slipped["Latest"].rstrip("%")
        assert theme_latest == last["Share slipped (%)"] or theme_latest == "c" == last["Share slipped (%)"]


@pytest.mark.parametrize(("period", "locality"), VIEWS)
def test_the_board_sees_the_leads_figures_or_none(db: str, period: str, locality: str) -> None:
    lead, board = surfaces("lead", period, locality), surfaces("board", period, locality)
    for page in ("overview", "cohort"):
        mine, theirs = getattr(board, page), getattr(lead, page)
        for label, value in mine.items():
            if NUMBER.match(value):
                assert value == theirs[label], f"{page} {label}: board {value}, lead {theirs[label]}"
    # Direction is worked out from what each viewer is shown: the lead's word, or none where the
    # board is not shown a quarter it compares (a word about a hidden quarter would give it away).
    both = board.indicators.join(lead.indicators, on="Indicator", suffix="_lead")
    assert both.height == lead.indicators.height
    for mine, theirs in zip(both[DIRECTION].to_list(), both[f"{DIRECTION}_lead"].to_list(), strict=True):
        assert mine == theirs or mine.startswith(("not shown", "no figure", "no values")), (mine, theirs)


def test_the_board_pack_prints_the_boards_overview(db: str) -> None:
    board = surfaces("board", "2025", "all")
    pack = build_board_pack(get_engine(db), "all", "2025", today=DEMO_AS_OF)
    headline = {r[0]: r[1] for r in rows(pack) if len(r) >= 2 and r[0] in board.overview}
    assert headline, "the pack's headline figures"
    for label, value in headline.items():
        assert value == board.overview[label], f"{label}: pack {value}, page {board.overview[label]}"


def test_a_manager_sees_their_own_localitys_figures(db: str) -> None:
    manager = surfaces("manager_east", "2025", "east")
    lead = surfaces("lead", "2025", "east")
    assert manager.overview == lead.overview
    assert manager.cohort == lead.cohort


@pytest.mark.parametrize(("user", "period", "locality", "extra"), FILTERED)
def test_filtered_views_read_the_same_on_the_overview_and_the_cohort_page(
    db: str, user: str, period: str, locality: str, extra: dict[str, str]
) -> None:
    s = surfaces(user, period, locality, extra)
    _same_on_overview_and_cohort(s)
    unfiltered = surfaces(user, period, locality)
    # The filter is in force on both pages: a group's figures are not everyone's.
    assert s.overview != unfiltered.overview


def _story_step(step: int, page: str, part: int = 1) -> AppTest:
    """A step of the demo's Board meeting story (one screen of it), presented by the lead."""
    at = signed_in("lead")
    at.query_params.update({"present": "1", "story": "1", "step": str(step)})
    if part > 1:
        at.query_params["part"] = str(part)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _capacity_tiles(user: str) -> dict[str, str]:
    at = signed_in(user, "pages/capacity.py")
    return {m.label: m.value for m in at.metric}


def test_the_board_meeting_story_shows_the_board_pages_figures(db: str) -> None:
    board = surfaces("board", "2025", "all")
    # Step 1, programme progress: each theme's status and why, as on the progress page.
    # Presenting, they are the theme cards of the step's second screen.
    cards = [
        re.sub(r"\\(.)", r"\1", m.value)  # as the reader sees it: the Markdown escapes undone
        for m in _story_step(1, "pages/themes.py", part=2).markdown
        if m.value.startswith("Status: ")
    ]
    page = signed_in("board", "pages/themes.py")
    (shown,) = [d.value for d in [*page.dataframe, *page.table] if {"Theme", "Status", "Why"} <= set(d.value.columns)]
    assert len(shown) == 4
    assert cards == [f"Status: **{row['Status']}** — {row['Why']}" for row in shown.to_dict("records")]
    # Step 2, the flow (the story's cohort steps show last year, 2025).
    flow = _story_step(2, "pages/cohort.py")
    assert board.flow_sentence in [m.value for m in flow.markdown]
    # Step 3, the gap: its tiles are the cohort page's at board level.
    gap = {m.label: m.value for m in _story_step(3, "pages/cohort.py").metric}
    assert gap and all(board.cohort[label] == value for label, value in gap.items()), (gap, board.cohort)
    # Step 4, the establishment: the capacity page's tiles, and the Overview's staffing card.
    establishment = {m.label: m.value for m in _story_step(4, "pages/capacity.py").metric}
    assert establishment == _capacity_tiles("board")
    posts, filled = board.overview["Funded posts / filled FTE"].split(" / ")
    assert (posts, filled) == (establishment["Funded posts"], establishment["Filled (permanent FTE)"])
