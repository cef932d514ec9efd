"""The cohort page's sections on the hand-worked cohort of tests/test_metrics.py:
each table and sentence as a viewer sees it, values worked by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from partnership import cohort as cp
from partnership import figures, flow, sections, synthetic
from partnership.queries import Cohort
from tests.test_metrics import AS_OF, _cohort

D = dt.date
LOCALITIES = ["Central", "East", "North"]


def _figs(suppressed: bool = False) -> figures.Figures:
    return figures.Figures(_cohort(), AS_OF, suppressed, 5, LOCALITIES)


def _view(period: str = "2025", slice_: str = figures.ALL) -> sections.View:
    return sections.View(period, slice_, AS_OF)


def _cells(table: pl.DataFrame) -> list[str]:
    return [v for c in table.columns[1:] for v in table[c].to_list() if v is not None]


def test_open_by_single_year_of_age() -> None:
    table = sections.age_section(_figs(), _view(), None).blocks[0].table
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
    age = sections.age_section(_figs(True), _view(), None)
    for block in age.blocks:
        assert not [v for v in _cells(block.table) if v.isdigit() and 1 <= int(v) <= 5]
        assert "c" in _cells(block.table)
    assert "fewer than 6" in age.blocks[1].sentence


def test_turning_18_within_3_6_12_months() -> None:
    table = sections.age_section(_figs(), _view(), None).blocks[1].table
    rows = {r["Locality"]: r for r in table.to_dicts()}
    # D turns 18 in 1 month, A in 4, C in 8; C and D have no agreed plan, A has.
    assert rows["Central"] == {
        "Locality": "Central",
        "Within 3 months": "1",
        "Within 6 months": "1",
        "Within 12 months": "2",
        "No agreed plan (within 6 months)": "1",
        "No agreed plan (within 12 months)": "2",
    }
    assert rows["East"]["Within 6 months"] == "1" and rows["East"]["No agreed plan (within 6 months)"] == "0"
    assert rows["Total"]["Within 12 months"] == "3"


def test_case_list_for_managers() -> None:
    rows = cp.turning_18_list(_cohort(), AS_OF).to_dicts()
    assert [r["Young person (key)"] for r in rows] == ["k4", "k1", "k3"]
    assert rows[0] | {} == {
        "Young person (key)": "k4",
        "Locality": "Central",
        "Age": "17y 11m",
        "Turns 18": "December 2026",
        "Current service": "Looked after",
        "Transition plan": "None",
        "Latest risk level": "Medium",
    }
    assert (rows[1]["Transition plan"], rows[1]["Latest risk level"]) == ("Agreed", "High")
    assert rows[2]["Latest risk level"] == "Not assessed"


def test_the_gap_for_2025() -> None:
    gap = sections.gap_section(_figs(), _view())
    # G (gap 21, picked up), H (gap 137, not within 3 months), I (no adult service: slipped).
    assert dict(gap.blocks[0].table.iter_rows()) == {
        "No gap": "0",
        "1-28 days": "1",
        "29-90 days": "0",
        "91-180 days": "1",
        "Over 180 days": "0",
        "Total": "2",
    }
    tiles = {label: value for label, value, _help in gap.tiles}
    assert tiles == {
        "Median gap": "79 days",
        "Gap over 28 days": "50%",
        "Gap over 90 days": "50%",
        "Slipped through the net": "33%",
    }
    assert "1 of 3 young people with intensive support before 18" in gap.blocks[1].sentence
    board = sections.gap_section(_figs(True), _view())
    tiles = {label: value for label, value, _help in board.tiles}
    # Two young people with a gap measured: too few for a median or a share.
    assert tiles["Median gap"] == "not shown" and tiles["Slipped through the net"] == "a share not shown"
    assert set(board.blocks[1].table["Slipped through the net"].to_list()) <= {"c", "0"}


def test_outcomes_by_what_happened_at_18() -> None:
    table = sections.outcomes_section(_figs(), _view("12m"), None).blocks[0].table
    rows = {r["Group"]: r for r in table.to_dicts()}
    # G: on time, picked up; NEET and homeless (S2); 2 missing; A&E + custody + emergency housing = 3.
    assert rows["Agreed on time"] | {} == {
        "What happened at 18": "Plan by 17½",
        "Group": "Agreed on time",
        "Young people at 19-21": "1",
        "NEET (%)": "100.0",
        "Homeless or emergency housing (%)": "100.0",
        "Missing episodes per young person": "2.00",
        "Crisis contacts per young person": "3.00",
    }
    # H (in work) and I (not known, 2 A&E, 1 missing): not picked up within 3 months.
    assert rows["Not picked up"]["NEET (%)"] == "0.0"
    assert rows["Not picked up"]["Missing episodes per young person"] == "0.50"
    assert rows["Not picked up"]["Crisis contacts per young person"] == "1.00"


def test_risk_agreement_and_pairs() -> None:
    risk = sections.risk_section(_figs(), _view("2026"))
    assert "Of 2 young people" in risk.blocks[0].sentence and "**50%**" in risk.blocks[0].sentence
    got = {r["Agencies"]: r["Levels differ (%)"] for r in risk.blocks[0].table.to_dicts()}
    assert got["Social care and Police"] == "50.0"  # D: medium vs high
    assert got["Police and Health"] == "50.0"
    assert got["Social care and Health"] == "0.0"
    assert got["Police and Education"] == ""
    assert risk.blocks[0].table["Levels differ (%)"][0] == "50.0"  # the pairs that differ most come first


def test_wilson_interval_hand_worked() -> None:
    lo, hi = figures.wilson(8, 24)
    assert (round(lo, 4), round(hi, 4)) == (0.1797, 0.5329)


def test_representation_ratio_and_flag() -> None:
    people = pl.DataFrame(
        {
            "locality": ["East"] * 100,
            "slipped": [True] * 18 + [False] * 32 + [True] * 2 + [False] * 48,
            "sex": ["M"] * 50 + ["F"] * 50,
            "ethnicity": ["white"] * 100,
            "send": ["none"] * 100,
            "care_status": ["none"] * 100,
        }
    )

    def block(suppressed: bool) -> dict[str, dict[str, str]]:
        release = figures.representation_release(
            "rep",
            "representation_slipped",
            "2025",
            people,
            "slipped",
            lambda s: (f"k|{s}", f"n|{s}"),
            "Sex",
            ["East"],
            ["East"],
        )
        released = figures.disclose(release, suppressed, 5)
        table = sections._representation_block(
            released, "representation_slipped", "2025", "East", ("k|East", "n|East"), "", "slipped", "young people", "f"
        ).table
        return {r["Group"]: r for r in table.to_dicts()}

    rows = block(False)
    # Males: 90% of the focus group against 50% of the cohort: ratio 1.80; Wilson(18, 20) = 0.699..0.972.
    assert rows["Male"]["Ratio"] == "1.80"
    assert rows["Male"]["95% interval"] == "1.40 to 1.94"
    assert rows["Male"]["Flag"] == "Over-represented"
    assert rows["Female"]["Flag"] == "Under-represented"
    board = block(True)
    # 2 females is small; the 18 males would give it away from the total of 20, so both are hidden.
    assert board["Female"]["In focus group"] == "c" and board["Male"]["In focus group"] == "c"


def test_flow_stages_for_2025() -> None:
    people = figures.transition_people(_cohort(), AS_OF)
    rows = {r["id"]: r for r in people.filter(pl.col("month").dt.year() == 2025).to_dicts()}
    assert {k: rows[7][k] for k in flow.STAGES} == {
        "service_17": "Looked after",
        "plan": "Agreed on time",
        "adult_3m": "Leaving care personal adviser",
        "outcome": "Homeless or unsuitable accommodation",
    }
    assert (rows[8]["service_17"], rows[8]["plan"], rows[8]["adult_3m"], rows[8]["outcome"]) == (
        "Child protection",
        "Agreed late",
        "No adult service",
        "In education, employment or training",
    )
    assert (rows[9]["plan"], rows[9]["adult_3m"], rows[9]["outcome"]) == (
        "No plan",
        "No adult service",
        "Lost contact or not known",
    )


# --- flow geometry on a synthetic cohort -----------------------------------------


@pytest.fixture(scope="module")
def big() -> figures.Figures:
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
    return figures.Figures(cohort, AS_OF, False, 5, ["East"])


@pytest.mark.parametrize("suppressed", [False, True])
def test_flow_groups_keep_their_size_and_bands_fill_them(big: figures.Figures, suppressed: bool) -> None:
    figs = figures.Figures(big.cohort, AS_OF, suppressed, 5, ["East"])
    r = figs.flow("2025")
    total = r["turned_18|2025|all"]
    nodes = {
        tuple(k.split("|")[4:6]): v
        for k, v in r.values.items()
        if k.startswith("flow|2025|all|node|") and isinstance(v, int) and v > 0
    }
    links = [
        (int(k.split("|")[4]), *k.split("|")[5:7], v)
        for k, v in r.values.items()
        if k.startswith("flow|2025|all|link|") and isinstance(v, int) and v > 0
    ]
    # Every stage's groups add up to everyone who turned 18 (where all are shown).
    if not suppressed:
        for stage in flow.STAGES:
            assert sum(v for (s, _n), v in nodes.items() if s == stage) == total
    node_frame, ribbons = flow.layout_released({(s, n): v for (s, n), v in nodes.items()}, links, total)
    # A group is drawn at its released size: height over total is its share of everyone.
    scale = None
    for row in node_frame.to_dicts():
        per = (row["y1"] - row["y0"]) / row["value"]
        scale = scale or per
        assert abs(per - scale) < 1e-9
    # Each band is as thick at both ends as its value on the same scale, and no band overfills a group.
    ends = ribbons.group_by("link").agg(
        pl.col("value").first(), first=(pl.col("y1") - pl.col("y0")).first(), last=(pl.col("y1") - pl.col("y0")).last()
    )
    assert (ends["first"] - ends["value"] * scale).abs().max() < 1e-9
    assert (ends["last"] - ends["value"] * scale).abs().max() < 1e-9
    if suppressed:
        assert not [v for *_x, v in links if 1 <= v <= 5]
    else:
        assert [v for *_x, v in links if 1 <= v <= 5]
