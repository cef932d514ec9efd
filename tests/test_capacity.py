"""Capacity figures on hand-worked staffing, and the monthly editor on both engines."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlmodel import Session, func, select

from models import AuditEvent, PostSnapshot
from models.db import get_engine
from partnership import capacity, figures, queries, sections
from partnership.disclosure import disclose
from tests.conftest import seed_small

M = dt.date(2026, 10, 1)


def _rows() -> pl.DataFrame:
    # Team A: two social workers (case holding) and a family support worker;
    # the locality's shared posts: one mentor.
    return pl.DataFrame(
        {
            "post_id": [1, 2, 3, 4],
            "month": [M] * 4,
            "locality": ["East"] * 4,
            "locality_id": [1] * 4,
            "team": ["Team A", "Team A", "Team A", "East shared posts"],
            "team_order": [1, 1, 1, 1000],
            "role": ["Social Worker", "Social Worker", "Family Support Worker", "Mentor"],
            "role_order": [2, 2, 3, 7],
            "case_holding": [True, True, False, False],
            "funded_fte": [1.0, 1.0, 1.0, 1.0],
            "filled_fte": [1.0, 0.0, 0.0, 1.0],
            "agency_fte": [0.0, 1.0, 0.0, 0.0],
            "vacant_fte": [0.0, 1.0, 1.0, 0.0],
            "cases_held": [18, 12, 0, 0],
            "note": [None, None, None, None],
        },
        schema_overrides={"note": pl.String},
    )


def test_rates_and_caseload_by_team() -> None:
    teams = {r["team"]: r for r in capacity.establishment(_rows(), ["locality", "team"]).to_dicts()}
    a = teams["Team A"]
    # funded 3, filled 1, agency 1, vacant 2; vacancy 2 / (2 + 1); agency 1 / (1 + 1);
    # case-holding FTE = 1 filled + 1 agency = 2; cases 18 + 12 = 30 -> 15 per FTE.
    assert (a["funded_fte"], a["filled_fte"], a["agency_fte"], a["vacant_fte"]) == (3.0, 1.0, 1.0, 2.0)
    assert a["fill_rate"] == pytest.approx(1 / 3)
    assert a["vacancy_rate"] == pytest.approx(2 / 3)
    assert a["agency_rate"] == pytest.approx(0.5)
    assert a["caseload"] == pytest.approx(15.0)
    shared = teams["East shared posts"]
    assert shared["caseload"] is None
    shown = capacity.display_table(capacity.establishment(_rows(), ["locality", "team"]), ["locality", "team"])
    assert shown.filter(pl.col("Team") == "Team A")["Fill rate"][0] == "33%"
    # No caseload in the establishment table: it is released with the cases (test below).
    assert "Cases per case-holding FTE" not in shown.columns


def _caseloads(rows: pl.DataFrame, suppressed: bool) -> dict[str, list[dict[str, str]]]:
    cases = disclose(figures.cases_release(rows, "m", 15.0), suppressed, 5)
    holders = disclose(figures.holders_release(rows, "m", 15.0, by_team=not suppressed), suppressed, 5)
    section = sections.caseload_section(cases, holders, rows, "m", "October 2026", 15.0, 15.2, "all", not suppressed)
    return {b.filename: b.table.to_dicts() for b in section.blocks}


def test_capacity_table_hides_small_case_counts_for_the_board() -> None:
    # Case-holding FTE = 1 filled + 1 agency = 2; capacity at 15 = 30; cases 30 -> +0.
    full = _caseloads(_rows(), False)["case_capacity"][0]
    assert full == {
        "Locality": "East",
        "Cases held": "30",
        "Case-holding FTE": "2.0",
        "Capacity at 15 per FTE": "30",
        "Cases over capacity": "+0",
    }
    # 3 cases on the same 2 FTE: 3 - 30 = -27, which would give the 3 back to a board member.
    small = _rows().with_columns(cases_held=pl.Series([2, 1, 0, 0]))
    assert _caseloads(small, False)["case_capacity"][0]["Cases over capacity"] == "-27"
    board = _caseloads(small, True)
    assert (board["case_capacity"][0]["Cases held"], board["case_capacity"][0]["Cases over capacity"]) == ("c", "c")
    # The team's caseload (3 / 2 = 1.5) would too: hidden for the board.
    teams = {r["Team"]: r["Cases per case-holding FTE"] for r in board["caseload_team"]}
    assert teams["Team A"] in ("c", "not shown")
    assert _caseloads(small, False)["caseload_team"][0]["Cases per case-holding FTE"] == "1.5"


def test_workers_over_threshold_are_counted() -> None:
    over = _caseloads(_rows(), False)["over_threshold"]
    # Team A's two case holders: 18 on 1 FTE is over 15, 12 is not.
    assert over == [{"Locality": "East", "Team": "Team A", "Case holders": "2", "Case holders over threshold": "1"}]


def test_what_if_caps_filling_at_uncovered_vacancies() -> None:
    # The one vacant social work post is already covered by agency: nothing left to fill.
    result = capacity.project(_rows(), capacity.WhatIf({"Team A": 1.0}, {"Team A": 1.0})).to_dicts()[0]
    assert result["vacancies_filled"] == 0.0 and result["posts_added"] == 1.0
    assert result["caseload_now"] == pytest.approx(15.0)
    assert result["caseload_then"] == pytest.approx(10.0)  # 30 cases over 3 FTE


def test_validation_names_post_and_field() -> None:
    rows = [
        capacity.SnapshotRow(1, "Team A · Social Worker 1", 1.0, -0.5, 0.0, 1.5, 10),
        capacity.SnapshotRow(2, "Team A · Social Worker 2", 1.0, 1.0, 0.0, 0.5, -2),
    ]
    assert capacity.validate_snapshot(rows) == [
        "Team A · Social Worker 1: filled FTE cannot be negative or empty (-0.5)",
        "Team A · Social Worker 2: cases held cannot be negative or empty (-2)",
        "Team A · Social Worker 2: filled FTE 1 + vacant FTE 0.5 must equal funded FTE 1",
    ]


def test_seed_structure_in_the_staffing_frame(sqlite_url: str) -> None:
    seed_small(sqlite_url, 50, 1)
    rows = capacity.month_of(queries.load_staffing(get_engine(sqlite_url), [1, 2, 3]), None)
    by_team = capacity.establishment(rows, ["locality", "team"])
    empower = by_team.filter(pl.col("team").str.contains("Team"))
    shared = by_team.filter(pl.col("team").str.ends_with("shared posts"))
    assert (empower.height, int(empower["posts"].sum()), int(shared["posts"].sum()), rows.height) == (7, 50, 15, 65)
    assert rows.filter(pl.col("note") == "Lancaster children only")["team"].to_list() == ["North shared posts"]


def test_save_month_keeps_history_and_refuses_bad_input(db_url: str) -> None:
    seed_small(db_url, 50, 1)
    engine = get_engine(db_url)
    rows = capacity.post_labels(capacity.month_of(queries.load_staffing(engine, [1]), None))
    month = rows["month"][0]
    first = rows.row(0, named=True)
    snap = capacity.SnapshotRow(first["post_id"], first["label"], first["funded_fte"], 1.0, 0.0, 0.0, 21)
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(PostSnapshot)).one()
        bad = capacity.SnapshotRow(first["post_id"], first["label"], 1.0, 1.0, 0.0, 1.0, 21)
        with pytest.raises(ValueError, match="must equal funded FTE"):
            capacity.save_month(session, month, [snap, bad], "lead")
        session.rollback()
        assert session.exec(select(func.count()).select_from(PostSnapshot)).one() == before
        assert capacity.save_month(session, month, [snap], "lead") == 1
        session.commit()
        assert capacity.save_month(session, month, [snap], "lead") == 0  # same figures again: nothing new
        hist = capacity.history(session, first["post_id"], month)
        assert hist["Version"].to_list() == [1, 2]
        assert hist["Cases held"][-1] == 21 and hist["Recorded by"][-1] == "lead"
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "staffing_recorded")).first()
    latest = queries.load_staffing(engine, [1]).filter(
        (pl.col("post_id") == first["post_id"]) & (pl.col("month") == month)
    )
    assert latest["cases_held"].to_list() == [21]


def _holders(over_and_under: list[tuple[str, int, int]]) -> pl.DataFrame:
    """One team per locality of full-time social workers: `over` of them hold 18 cases, `under` hold 10."""
    records = []
    for number, (locality, over, under) in enumerate(over_and_under, start=1):
        for cases in [18] * over + [10] * under:
            records.append(
                {
                    **_rows().row(0, named=True),
                    "post_id": len(records) + 1,
                    "locality": locality,
                    "locality_id": number,
                    "team": f"{locality} Team 1",
                    "team_order": number,
                    "cases_held": cases,
                    "agency_fte": 0.0,
                    "vacant_fte": 0.0,
                }
            )
    return pl.DataFrame(records, schema=_rows().schema)


def test_a_withheld_count_of_case_holders_says_why_it_is_blank() -> None:
    # 5 over the threshold in each of three localities: each is a small count, and beside a
    # published total of 15 three small counts could only be 5, 5 and 5 (blank or c alike: a reader
    # who knows which are small knows each is 1 to 5), so the column is withheld and the total hidden.
    rows = _holders([("East", 5, 2), ("Central", 5, 5), ("North", 5, 2)])
    note = "A blank count is withheld by the disclosure check"

    def over_block(suppressed: bool) -> sections.Block:
        cases = disclose(figures.cases_release(rows, "m", 15.0), suppressed, 5)
        holders = disclose(figures.holders_release(rows, "m", 15.0, by_team=not suppressed), suppressed, 5)
        section = sections.caseload_section(cases, holders, rows, "m", "October 2026", 15.0, 15.2, "all", False)
        (block,) = [b for b in section.blocks if b.filename == "over_threshold"]
        return block

    board = over_block(True)
    assert board.sentence.startswith("A number not shown of case holders (to protect smaller counts) across all")
    assert board.table["Case holders over threshold"].to_list() == ["", "", ""]
    assert [n for n in board.notes if n.startswith(note)]
    lead = over_block(False)
    assert lead.table["Case holders over threshold"].to_list() == ["5", "5", "5"]
    assert not [n for n in lead.notes if n.startswith(note)]
