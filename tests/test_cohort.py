"""Cohort flow page figures on the hand-worked cohort of tests/test_metrics.py,
and the geometry of the flow diagram on a larger synthetic cohort."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from partnership import cohort as cp
from partnership import flow, metrics, synthetic
from partnership.queries import Cohort
from tests.test_metrics import AS_OF, _cohort

D = dt.date


def _cells(table: pl.DataFrame) -> list[str]:
    return [v for c in table.columns[1:] for v in table[c].to_list() if v is not None]


def test_open_by_single_year_of_age() -> None:
    table = cp.by_age(_cohort(), AS_OF, suppressed=False, threshold=5)
    rows = {r["Locality"]: r for r in table.to_dicts()}
    # Open now: E 15, C and D 17 (Central); B 16, A 17, G and H 19 on adult services (East); J and K 18 (North).
    assert {k: v for k, v in rows["Central"].items() if v not in ("0", "Central")} == {
        "15": "1",
        "17": "2",
        "Total": "3",
    }
    assert {k: v for k, v in rows["East"].items() if v not in ("0", "East")} == {
        "16": "1",
        "17": "1",
        "19": "2",
        "Total": "4",
    }
    assert rows["North"]["18"] == "2" and rows["Total"]["Total"] == "9"


def test_board_sees_no_count_from_one_to_five() -> None:
    for table in (cp.by_age(_cohort(), AS_OF, True, 5), cp.turning_18(_cohort(), AS_OF, True, 5)):
        assert not [v for v in _cells(table) if v.isdigit() and 1 <= int(v) <= 5]
        assert "c" in _cells(table)


def test_turning_18_within_3_6_12_months() -> None:
    table = cp.turning_18(_cohort(), AS_OF, suppressed=False, threshold=5)
    rows = {r["Locality"]: r for r in table.to_dicts()}
    # D turns 18 in 1 month, A in 4, C in 8; C and D have no agreed plan.
    assert rows["Central"] == {
        "Locality": "Central",
        "Within 3 months": "1",
        "Within 6 months": "1",
        "Within 12 months": "2",
        "Of those, no agreed plan": "2",
    }
    assert rows["East"] == {
        "Locality": "East",
        "Within 3 months": "0",
        "Within 6 months": "1",
        "Within 12 months": "1",
        "Of those, no agreed plan": "0",
    }
    assert rows["Total"]["Within 12 months"] == "3"


def test_case_list_for_managers() -> None:
    rows = cp.turning_18_list(_cohort(), AS_OF).to_dicts()
    assert [r["Young person (key)"] for r in rows] == ["k4", "k1", "k3"]
    assert rows[0] | {} == {
        "Young person (key)": "k4",
        "Locality": "Central",
        "Age": "17y 11m",
        "Turns 18": "2026-12-01",
        "Current service": "Looked after",
        "Transition plan": "None",
        "Latest risk level": "Medium",
    }
    assert (rows[1]["Transition plan"], rows[1]["Latest risk level"]) == ("Agreed", "High")
    assert rows[2]["Latest risk level"] == "Not assessed"


def test_gap_figures_for_2025() -> None:
    trans = metrics.transitions(_cohort(), AS_OF)
    start, end = metrics.period_bounds("2025", AS_OF)
    summary, dist, _trend = cp.gap_figures(trans, start, end, suppressed=False, threshold=5)
    # G (gap 21, picked up), H (gap 137, not within 3 months), I (no adult service: slipped).
    assert summary == cp.GapSummary(
        turned_18=3,
        with_both=2,
        over_28=50.0,
        over_90=50.0,
        no_adult_3m=66.7,
        slipped=1,
        intensive=3,
        slipped_share=33.3,
        median_gap=79.0,
    )
    assert dict(dist.iter_rows()) == {
        "No gap": "0",
        "1-28 days": "1",
        "29-90 days": "0",
        "91-180 days": "1",
        "Over 180 days": "0",
    }
    board, _, board_trend = cp.gap_figures(trans, start, end, suppressed=True, threshold=5)
    assert (board.turned_18, board.slipped_share, board.median_gap) == ("c", "c", None)
    assert set(board_trend["Slipped through the net"].to_list()) <= {"c", "0"}


def test_outcomes_by_what_happened_at_18() -> None:
    trans = metrics.transitions(_cohort(), AS_OF)
    start, end = metrics.period_bounds("12m", AS_OF)
    rows = {r["Group"]: r for r in cp.outcomes_by_route(_cohort(), trans, start, end, False, 5).to_dicts()}
    # G: on time, picked up; NEET and homeless (S2); 2 missing; A&E + custody + emergency housing = 3.
    assert rows["Agreed on time"] | {} == {
        "What happened at 18": "Plan by 17½",
        "Group": "Agreed on time",
        "Young people": "1",
        "Records at 19-21": "1",
        "NEET (%)": "100.0",
        "Homeless or emergency housing (%)": "100.0",
        "Missing episodes per young person": "2.00",
        "Crisis contacts per young person": "3.00",
    }
    # H (in work) and I (not known, 2 A&E): not picked up within 3 months.
    assert rows["Not picked up"]["NEET (%)"] == "0.0"
    assert rows["Not picked up"]["Missing episodes per young person"] == "0.50"
    assert rows["Not picked up"]["Crisis contacts per young person"] == "1.00"


def test_risk_agreement_and_pairs() -> None:
    summary, pairs = cp.risk_views(_cohort(), suppressed=False, threshold=5)
    assert summary == {"assessed": 2, "agree": 50.0}
    got = {r["Agencies"]: r["Levels differ (%)"] for r in pairs.to_dicts()}
    assert got["Social care and Police"] == "50.0"  # D: medium vs high
    assert got["Police and Health"] == "50.0"
    assert got["Social care and Health"] == "0.0"
    assert got["Police and Education"] is None
    assert pairs["Levels differ (%)"][0] == "50.0"  # the pairs that differ most come first


def test_wilson_interval_hand_worked() -> None:
    lo, hi = cp.wilson(8, 24)
    assert (round(lo, 4), round(hi, 4)) == (0.1797, 0.5329)


def test_representation_ratio_and_flag() -> None:
    base = pl.DataFrame(
        {
            "sex": ["M"] * 50 + ["F"] * 50,
            "ethnicity": ["white"] * 100,
            "send": ["none"] * 100,
            "care_status": ["none"] * 100,
        }
    )
    focus = pl.DataFrame(
        {
            "sex": ["M"] * 18 + ["F"] * 2,
            "ethnicity": ["white"] * 20,
            "send": ["none"] * 20,
            "care_status": ["none"] * 20,
        }
    )
    rows = {r["Group"]: r for r in cp.representation(focus, base, False, 5).to_dicts()}
    # Males: 90% of the focus group against 50% of the cohort: ratio 1.80; Wilson(18, 20) = 0.699..0.972.
    assert rows["Male"]["Ratio"] == "1.80"
    assert rows["Male"]["95% interval"] == "1.40 to 1.94"
    assert rows["Male"]["Flag"] == "Over-represented"
    assert rows["Female"]["Flag"] == "Under-represented"
    board = {r["Group"]: r for r in cp.representation(focus, base, True, 5).to_dicts()}
    # 2 females is small; the 18 males would give it away from the total of 20, so both are hidden.
    assert board["Female"]["In focus group"] == "c" and board["Male"]["In focus group"] == "c"


def test_flow_stages_for_2025() -> None:
    start, end = metrics.period_bounds("2025", AS_OF)
    people = {r["id"]: r for r in flow.person_stages(_cohort(), AS_OF, start, end).to_dicts()}
    assert people[7] | {} == {
        "id": 7,
        "service_17": "Looked after",
        "plan": "Agreed on time",
        "adult_3m": "Leaving care personal adviser",
        "outcome": "Homeless or unsuitable accommodation",
    }
    assert (people[8]["service_17"], people[8]["plan"], people[8]["adult_3m"], people[8]["outcome"]) == (
        "Child protection",
        "Agreed late",
        "No adult service",
        "In education, employment or training",
    )
    assert (people[9]["plan"], people[9]["adult_3m"], people[9]["outcome"]) == (
        "No plan",
        "No adult service",
        "Lost contact or not known",
    )


# --- flow geometry on a synthetic cohort -----------------------------------------


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    localities = {"east": 1, "central": 2, "north": 3}
    posts = pl.DataFrame(
        schema={"id": pl.Int64, "locality_code": pl.String, "team_id": pl.Int64, "case_holding": pl.Boolean}
    )
    refs = synthetic.OrgRefs(localities, {"east": [1], "central": [2], "north": [3]}, posts)
    frames = synthetic.generate(1500, 5, AS_OF, refs, b"k" * 32)
    yp = frames["youngperson"].with_columns(locality=pl.lit("East"))
    cohort = Cohort(
        yp, frames["serviceepisode"], frames["transitionplan"], frames["riskassessment"], frames["outcomeobservation"]
    )
    return flow.person_stages(cohort, AS_OF, D(2024, 1, 1), D(2025, 12, 31))


@pytest.mark.parametrize("suppressed", [False, True])
def test_flow_conserves_people_and_band_widths_fill_nodes(people: pl.DataFrame, suppressed: bool) -> None:
    link_table, hidden = flow.drawable_links(people, suppressed, 5)
    per_stage = link_table.group_by("stage").agg(pl.col("value").sum()).sort("stage")["value"].to_list()
    assert per_stage == [people.height - hidden] * 3
    nodes, ribbons = flow.layout(link_table)
    for node in nodes.to_dicts():
        s, name = node["stage_index"], node["name"]
        out = link_table.filter((pl.col("stage") == s) & (pl.col("source") == name))["value"].sum()
        into = link_table.filter((pl.col("stage") == s - 1) & (pl.col("target") == name))["value"].sum()
        assert node["value"] == (out if s < 3 else into)
        if 0 < s < 3:
            assert out == into  # nothing is lost or gained at a node
    # Each band is as thick at both ends as its value on the node scale.
    scale = (nodes["y1"] - nodes["y0"]).sum() / nodes["value"].sum()
    ends = ribbons.group_by("link").agg(
        pl.col("value").first(), first=(pl.col("y1") - pl.col("y0")).first(), last=(pl.col("y1") - pl.col("y0")).last()
    )
    assert (ends["first"] - ends["value"] * scale).abs().max() < 1e-9
    assert (ends["last"] - ends["value"] * scale).abs().max() < 1e-9
    if suppressed:
        assert not link_table.filter(pl.col("value").is_between(1, 5)).height
        assert flow.OTHER in set(link_table["target"])
    else:
        assert link_table.filter(pl.col("value").is_between(1, 5)).height > 0
