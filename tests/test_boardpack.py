"""The board pack: a real PDF whose extracted text holds every theme and no
count from 1 to 5, built at board level whoever asks for it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from conftest import DEMO_AS_OF, seed_small
from pypdf import PdfReader
from sqlalchemy import text as sql

import cli
from models.db import get_engine
from models.reference import THEMES
from partnership import figures, queries, sections
from partnership.boardpack import TITLE, BoardPackError, build_board_pack
from partnership.disclosure import SUPPRESSED, disclose

SMALL = re.compile(r"[1-5]")


@dataclass(frozen=True)
class Fragment:
    page: int
    y: float
    x: float
    text: str


def fragments(pdf: bytes) -> list[Fragment]:
    """Every piece of text as the PDF draws it: one per table cell line, so a
    count in a table is a fragment of its own."""
    out: list[Fragment] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: object, n: int = number) -> None:
            if text.strip():
                out.append(Fragment(n, round(tm[5], 1), round(tm[4], 1), text.strip()))

        page.extract_text(visitor_text=visit)
    return out


def rows(pdf: bytes) -> list[list[str]]:
    """Lines of one-line table rows: fragments on the same page and baseline, left to right."""
    lines: dict[tuple[int, float], list[Fragment]] = {}
    for f in fragments(pdf):
        lines.setdefault((f.page, f.y), []).append(f)
    return [[f.text for f in sorted(line, key=lambda f: f.x)] for line in lines.values()]


def plain_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@dataclass(frozen=True)
class Demo:
    url: str
    pack: bytes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('boardpack') / 'demo.db'}"
    # The demo database as scripts/start builds it: 2,000 young people, seed 2024.
    seed_small(url, 2000, 2024)
    engine = get_engine(url)
    yield Demo(url, build_board_pack(engine, today=DEMO_AS_OF))
    engine.dispose()


def _cli(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """`python cli.py board-pack ...` in this process: exit code, stdout, stderr."""
    monkeypatch.setenv("DATABASE_URL", url)
    code = cli.main(["board-pack", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _check_pack(pdf: bytes, synthetic: bool = True) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == TITLE
    # Cover, summary, four themes over one or two pages each, cohort, gap, capacity, notes.
    assert 10 <= len(reader.pages) <= 30
    text = plain_text(pdf)
    for number, title, _short, impacts in THEMES:
        assert f"Theme {number}: {title}" in text
        assert " ".join(impacts[0].split()) in text
    assert ("Synthetic demo data" in text) is synthetic
    small = [f for f in fragments(pdf) if SMALL.fullmatch(f.text)]
    assert small == [], f"counts from 1 to 5 printed: {small[:5]}"
    # Suppression did happen: hidden cells are there as the symbol.
    assert any(f.text == "c" for f in fragments(pdf))


def test_pack_is_a_pdf_with_every_theme_and_no_small_count(demo: Demo) -> None:
    _check_pack(demo.pack)


def _board_figures(url: str, suppressed: bool = True) -> figures.Figures:
    engine = get_engine(url)
    ids = queries.load_localities(engine)["id"].to_list()
    return figures.Figures(
        queries.load_cohort(engine, ids), DEMO_AS_OF, suppressed, 5, sorted(queries.load_localities(engine)["name"])
    )


def test_the_packs_gap_is_the_board_pages_gap(demo: Demo) -> None:
    """One truth: the pack prints the section the board's page shows, hidden the same way."""
    view = sections.View("2025", figures.ALL, DEMO_AS_OF)
    board = sections.gap_section(_board_figures(demo.url), view).blocks[0].table
    lead = sections.gap_section(_board_figures(demo.url, suppressed=False), view).blocks[0].table
    # The demo does have gap bands of 1 to 5 young people, so the pack has something to hide.
    small = [r["Gap"] for r in lead.to_dicts() if 1 <= int(r["Young people"].replace(",", "")) <= 5]
    assert small
    table = {r[0]: r[1] for r in rows(demo.pack) if len(r) == 2 and r[0] in set(board["Gap"])}
    for label in small:
        assert table[label] == SUPPRESSED
    assert table == dict(zip(board["Gap"], board["Young people"], strict=True))
    # And the words above it are the page's words.
    assert " ".join(sections.gap_section(_board_figures(demo.url), view).blocks[0].sentence.split()) in plain_text(
        demo.pack
    )


def test_establishment_matches_the_staffing_structure(demo: Demo) -> None:
    # Seed structure: East teams 7 + 8 posts, Central 3 x 7, North 2 x 7, and
    # 5 shared posts per locality: 20, 26 and 19 funded posts, 65 in all.
    posts = {r[0]: r[1] for r in rows(demo.pack) if len(r) == 8 and r[0] in ("East", "Central", "North", "Total")}
    assert posts == {"East": "20", "Central": "26", "North": "19", "Total": "65"}


def test_flow_lists_no_small_band(demo: Demo) -> None:
    view = sections.View("2025", figures.ALL, DEMO_AS_OF)
    lead = sections.flow_section(_board_figures(demo.url, suppressed=False), view).blocks[0].table
    assert lead.filter(pl.col("Young people").cast(pl.Int64).is_between(1, 5)).height > 0
    flow = [r for r in rows(demo.pack) if len(r) == 4 and r[0] in ("17 to plan", "plan to 18", "18 to 19-21")]
    assert flow
    assert all(r[3] == SUPPRESSED or int(r[3].replace(",", "")) > 5 for r in flow)
    assert "Bands of fewer than 6 young people are not drawn or listed" in plain_text(demo.pack)


def test_cover_states_what_the_disclosure_check_found(demo: Demo) -> None:
    text = plain_text(demo.pack)
    found = re.search(r"What the check found: ([0-9,]+) figures published, ([0-9,]+) hidden, none recoverable", text)
    assert found, "the cover must say what the disclosure check found"
    published, hidden = (int(x.replace(",", "")) for x in found.groups())
    assert published > hidden > 0
    # Who the check assumes the reader is, in plain words (tests/test_publication_attack.py plays them).
    assert "as a reader would use it who holds all of it at once, and the previous publication too" in text
    assert re.search(r"Figures published on \d+ \w+ \d{4} \(data to 1 November 2026\)", text)


def test_locality_restricts_the_pack(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "east.pdf"
    code, stdout, stderr = _cli(
        demo.url, monkeypatch, capsys, "--out", str(out), "--locality", "east", "--period", "2025"
    )
    assert code == 0, stderr
    assert f"wrote {out}" in stdout
    east = out.read_bytes()
    _check_pack(east)
    cells = {f.text for f in fragments(east)}
    assert "East" in cells and "Central" not in cells and "North" not in cells
    assert "East Team 1" in cells and "North Team 1" not in cells
    assert "2025: 1 January 2025 to 31 December 2025" in plain_text(east)
    # The partnership-wide pack has all three.
    assert {"East", "Central", "North"} <= {f.text for f in fragments(demo.pack)}


def test_unknown_locality_or_period_is_refused(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.pdf"
    code, _, stderr = _cli(demo.url, monkeypatch, capsys, "--out", str(out), "--locality", "west")
    assert code == 1
    assert "unknown locality 'west' (known: all, east, central, north)" in stderr
    code, _, stderr = _cli(demo.url, monkeypatch, capsys, "--out", str(out), "--period", "2019")
    assert (
        code == 1 and "unknown period '2019' (known: 2026, 2025, 2024, 2023; the pack is for calendar years)" in stderr
    )
    # Board level is calendar years only: the last 12 months overlap this year so far.
    code, _, stderr = _cli(demo.url, monkeypatch, capsys, "--out", str(out), "--period", "12m")
    assert code == 1 and "unknown period '12m'" in stderr
    assert not out.exists()
    with pytest.raises(BoardPackError):
        build_board_pack(get_engine(demo.url), period="last-year", today=DEMO_AS_OF)


def test_pack_on_postgres_says_synthetic_only_when_it_is(postgres_url: str) -> None:
    seed_small(postgres_url, 300, 5)
    engine = get_engine(postgres_url)
    try:
        # The SQLite demo covers the synthetic notice; here the same data stands in for real data.
        with engine.begin() as conn:
            conn.execute(sql("UPDATE setting SET value = 'false' WHERE key = 'synthetic'"))
        real = build_board_pack(engine, today=DEMO_AS_OF)
        _check_pack(real, synthetic=False)
        assert "imported by the partnership" in plain_text(real)
    finally:
        engine.dispose()


def test_a_team_with_few_cases_gets_no_caseload() -> None:
    def post(team: str, order: int, holding: bool, filled: float, cases: int) -> dict[str, object]:
        return {
            "locality_id": 1,
            "locality": "East",
            "team": team,
            "team_order": order,
            "role_order": 1,
            "case_holding": holding,
            "funded_fte": 1.0,
            "filled_fte": filled,
            "agency_fte": 0.0,
            "vacant_fte": 1.0 - filled,
            "cases_held": cases,
        }

    rows_ = pl.DataFrame(
        [
            post("East Team 1", 1, True, 1.0, 2),
            post("East Team 1", 1, True, 1.0, 1),
            post("East Team 2", 2, True, 1.0, 16),
            post("East Team 2", 2, True, 1.0, 14),
            post("East Team 2", 2, False, 1.0, 9),  # not case-holding: its cases do not count
        ]
    )
    cases = disclose(figures.cases_release(rows_, "2026-10", 15.0), True, 5)
    lead = disclose(figures.cases_release(rows_, "2026-10", 15.0), False, 5)
    # Team 1: 3 cases on 2 FTE would print as 1.5 and give the 3 back; Team 2: 30 / 2 = 15.
    assert lead["caseload|2026-10|team|East Team 1"] == 1.5 and lead["caseload|2026-10|team|East Team 2"] == 15.0
    assert cases["caseload|2026-10|team|East Team 1"] == SUPPRESSED
    # East's 33 cases less Team 2's 30 would give Team 1's back: one of them goes too.
    assert SUPPRESSED in (cases["caseload|2026-10|team|East Team 2"], cases["cases_held|2026-10|East"])
    assert cases.audit.recoverable == 0
