"""Cohort metrics on a hand-worked cohort of eleven young people.

as_of = 1 Nov 2026. Ages are whole years from the month of birth.
  A  b.2009-03 East    child protection open since 2023 -> 17, turns 18 2027-03 (soon), plan agreed on time
  B  b.2010-01 East    child in need open             -> 16
  C  b.2009-07 Central EmPower open                   -> 17, turns 18 2027-07 (beyond 6 months)
  D  b.2008-12 Central looked after open              -> 17, turns 18 2026-12 (soon), no plan
  E  b.2011-02 Central early help open                -> 15 (not 16-17)
  F  b.2009-09 North   child in need closed 2026-06   -> not open now
  G  b.2007-01 looked after to 2024-12-20, plan 2024-06-15 (on time), leaving care PA 2025-01-10: gap 21
  H  b.2007-06 child protection to 2025-05-31, plan 2025-02-01 (late), adult social care 2025-10-15: gap 137
  I  b.2007-09 EmPower to 2025-08-25, no plan, no adult service: slipped through the net
  J  b.2008-02 early help to 2026-01-31, supported housing 2026-02-11: gap 11, not intensive
  K  b.2008-09 youth justice to 2026-08-31, probation 2026-09-05: 3-month window still open on as_of
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from partnership import figures, metrics
from partnership.queries import Cohort

D = dt.date
AS_OF = D(2026, 11, 1)


def _cohort() -> Cohort:
    yp = pl.DataFrame(
        {
            "id": list(range(1, 12)),
            "pseudo_key": [f"k{i}" for i in range(1, 12)],
            "birth_month": [
                D(2009, 3, 1),
                D(2010, 1, 1),
                D(2009, 7, 1),
                D(2008, 12, 1),
                D(2011, 2, 1),
                D(2009, 9, 1),
                D(2007, 1, 1),
                D(2007, 6, 1),
                D(2007, 9, 1),
                D(2008, 2, 1),
                D(2008, 9, 1),
            ],
            "sex": ["M"] * 11,
            "ethnicity": ["white"] * 11,
            "send": ["none", "ehcp", "none", "sen_support", "none", "none", "none", "none", "none", "none", "none"],
            "care_status": ["none"] * 3 + ["eligible"] + ["none"] * 2 + ["former_relevant"] + ["none"] * 4,
            "locality_id": [1, 1, 2, 2, 2, 3, 1, 1, 2, 3, 3],
            "locality": [
                "East",
                "East",
                "Central",
                "Central",
                "Central",
                "North",
                "East",
                "East",
                "Central",
                "North",
                "North",
            ],
            "cce": [True] * 11,
            "cse": [False] * 11,
            "gangs": [False] * 11,
            "trafficking": [False] * 11,
            "missing": [False] * 11,
        }
    )
    ep = [
        (1, "child_protection", D(2023, 1, 1), None),
        (2, "child_in_need", D(2024, 5, 1), None),
        (3, "empower", D(2025, 1, 1), None),
        (4, "looked_after", D(2020, 2, 1), None),
        (5, "early_help", D(2025, 3, 1), None),
        (6, "child_in_need", D(2025, 1, 1), D(2026, 6, 30)),
        (7, "looked_after", D(2019, 1, 1), D(2024, 12, 20)),
        (7, "leaving_care_pa", D(2025, 1, 10), None),
        (8, "child_protection", D(2023, 3, 1), D(2025, 5, 31)),
        (8, "adult_social_care", D(2025, 10, 15), None),
        (9, "empower", D(2024, 1, 1), D(2025, 8, 25)),
        (10, "early_help", D(2024, 6, 1), D(2026, 1, 31)),
        (10, "supported_housing", D(2026, 2, 11), None),
        (11, "youth_justice", D(2025, 1, 1), D(2026, 8, 31)),
        (11, "probation", D(2026, 9, 5), None),
    ]
    episodes = pl.DataFrame(
        {
            "young_person_id": [e[0] for e in ep],
            "service": [e[1] for e in ep],
            "team_id": [None] * len(ep),
            "started_on": [e[2] for e in ep],
            "ended_on": [e[3] for e in ep],
            "end_reason": [None] * len(ep),
        },
        schema_overrides={"team_id": pl.Int64, "ended_on": pl.Date, "end_reason": pl.String},
    )
    plans = pl.DataFrame(
        {
            "young_person_id": [1, 7, 8],
            "started_on": [D(2026, 5, 1), D(2024, 3, 1), D(2024, 11, 1)],
            "agreed_on": [D(2026, 8, 1), D(2024, 6, 15), D(2025, 2, 1)],
            "post18_service": [None, None, None],
        },
        schema_overrides={"post18_service": pl.String},
    )
    risks = pl.DataFrame(
        {
            "young_person_id": [1, 1, 1, 1, 4, 4, 4, 2, 2],
            "agency": [
                "social_care",
                "police",
                "health",
                "health",
                "social_care",
                "police",
                "health",
                "social_care",
                "police",
            ],
            "assessed_on": [
                D(2026, 1, 10),
                D(2026, 2, 1),
                D(2026, 1, 15),
                D(2026, 2, 20),
                D(2026, 3, 1),
                D(2026, 3, 20),
                D(2026, 4, 1),
                D(2026, 1, 1),
                D(2026, 6, 1),
            ],
            "level": ["high", "high", "medium", "high", "medium", "high", "medium", "low", "low"],
        }
    )
    outcomes = pl.DataFrame(
        {
            "young_person_id": [7, 8, 8, 9, 10],
            "observed_on": [D(2026, 1, 1), D(2025, 6, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 2, 1)],
            "activity": ["G5", "F2", "F5", "0", "G6"],
            "accommodation": ["S2", "U1", "U1", "D1", "B1"],
            "in_touch": ["YES"] * 5,
            "missing_episodes": [2, 0, 0, 1, 0],
            "ae_attendances": [1, 0, 0, 2, 0],
            "police_custody": [1, 0, 0, 0, 0],
            "emergency_housing": [1, 0, 0, 0, 0],
        }
    )
    return Cohort(yp, episodes, plans, risks, outcomes)


def _figures() -> figures.Figures:
    """The measure layer for the hand cohort, before disclosure (a cleared viewer)."""
    return figures.Figures(_cohort(), AS_OF, False, 5, ["Central", "East", "North"])


def test_open_aged_16_17_by_locality() -> None:
    o = _figures().open_now()
    # North's only 16-17 year old (F) closed in June; E is 15.
    assert {loc: o[f"open_16_17|now|{loc}"] for loc in ("Central", "East", "North", "all")} == {
        "Central": 2,
        "East": 2,
        "North": 0,
        "all": 4,
    }


def test_turning_18_in_next_six_months_and_their_plans() -> None:
    soon = metrics.turning_18_soon(_cohort(), AS_OF, 6)
    assert sorted(soon["pseudo_key"]) == ["k1", "k4"]
    assert dict(zip(soon["pseudo_key"], soon["plan_agreed"], strict=True)) == {"k1": True, "k4": False}
    assert metrics.turning_18_soon(_cohort(), AS_OF, 12)["pseudo_key"].sort().to_list() == ["k1", "k3", "k4"]


def test_transitions_gap_plan_and_slipped_through() -> None:
    trans = metrics.transitions(_cohort(), AS_OF).sort("id")
    rows = {r["pseudo_key"]: r for r in trans.to_dicts()}
    assert sorted(rows) == ["k10", "k11", "k7", "k8", "k9"]
    assert {k: r["plan"] for k, r in rows.items()} == {
        "k7": "on time",
        "k8": "late",
        "k9": "none",
        "k10": "none",
        "k11": "none",
    }
    assert {k: r["gap_days"] for k, r in rows.items()} == {"k7": 21, "k8": 137, "k9": None, "k10": 11, "k11": 5}
    assert {k for k, r in rows.items() if r["picked_3m"]} == {"k7", "k10", "k11"}
    assert {k for k, r in rows.items() if r["intensive"]} == {"k7", "k8", "k9"}
    assert {k for k, r in rows.items() if r["slipped"]} == {"k9"}


def test_pickup_share_and_median_gap_by_period() -> None:
    f = _figures()
    flow, gap = f.flow("2025"), f.gap("2025")
    # G, H, I turned 18 in 2025: only G was picked up within 3 months.
    assert flow["turned_18|2025|all"] == 3
    assert flow["adult_service_3m|2025|all"] == 33.0 and flow["no_adult_service_3m|2025|all"] == 67.0
    # G waited 21 days and H 137; I had no adult service, so no gap.
    assert (gap["gap_days|2025|all|n"], gap["gap_days|2025|all|median"]) == (2, (21 + 137) / 2)
    assert figures.period_months("12m", AS_OF) == (D(2025, 12, 1), D(2026, 11, 1))
    # The 12 months to November 2026: J counts; K's 3-month window has not closed yet.
    twelve = f.flow("12m")
    assert (twelve["turned_18|12m|all"], twelve["adult_service_3m|12m|all"]) == (1, 100.0)


def test_neet_at_19_21_counts_people_by_their_latest_record() -> None:
    out = _figures().outcomes("12m")
    # 19-21 with a record in the 12 months: G NEET (G5), H in work (F5), I not known (0): 1 of 3.
    assert out["neet_19_21|12m|all|n"] == 3 and out["neet_19_21|12m|all"] == 33.3
    # 17-18: J NEET (G6) at 18: 1 of 1.
    assert out["neet_17_18|12m|all|n"] == 1 and out["neet_17_18|12m|all"] == 100.0
    # H has two records in 2025-26; counted once, by the later (F5, in work).
    both = _figures().outcomes("2026")
    assert both["neet_19_21|2026|all|n"] == 3


def test_risk_agreement_between_agencies() -> None:
    r = _figures().risk("2026")
    # A: health's later 'high' stands -> all high, agree. D: medium/high/medium -> disagree.
    # B: police assessed 151 days after social care -> one agency in the window, left out.
    assert r["risk_agreement|2026|all|n"] == 2 and r["risk_agreement|2026|all"] == 50.0
    # Social care and police assessed both A and D (A agrees, D differs); B's police came too late.
    assert r["risk_pair_differ|2026|all|social_care-police|n"] == 2
    assert r["risk_pair_differ|2026|all|social_care-police"] == 50.0


def test_cohort_filters() -> None:
    send_only = metrics.filter_cohort(_cohort(), metrics.CohortFilter(send="send"))
    assert sorted(send_only.young_people["pseudo_key"]) == ["k2", "k4"]
    assert set(send_only.risks["young_person_id"]) == {2, 4}
    care = metrics.filter_cohort(_cohort(), metrics.CohortFilter(care="care_experienced"))
    assert sorted(care.young_people["pseudo_key"]) == ["k4", "k7"]


def test_slipped_through_by_quarter_is_the_periods_figure_split() -> None:
    f = _figures()
    series = f.series("slipped_through", "all")
    # Intensive and 6-month window closed: G (Q1 2025), H (Q2 2025), I (Q3 2025, slipped).
    assert series.select("period", "value").to_dicts() == [
        {"period": D(2025, 1, 1), "value": 0.0},
        {"period": D(2025, 4, 1), "value": 0.0},
        {"period": D(2025, 7, 1), "value": 100.0},
    ]
    year = f.slipped("2025")
    assert (year["slipped|2025|all|k"], year["slipped|2025|all|n"]) == (1, 3)
    assert sum(year[f"slipped_through|2025-Q{q}|all|n"] for q in (1, 2, 3, 4)) == year["slipped|2025|all|n"]
