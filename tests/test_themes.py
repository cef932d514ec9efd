"""Programme progress: entered values with history, validation, milestones,
commentary, and computed indicators on the hand-worked cohort."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlmodel import Session, select

from models import AuditEvent, IndicatorValue
from partnership import figures, queries, themes
from tests.test_metrics import AS_OF, _cohort

TODAY = dt.date(2026, 11, 22)


def test_enter_correct_and_keep_history(session: Session) -> None:
    first = themes.record_value(session, "shared_risk_assessment", "2026-Q2", "41.5", "first count", "lead", TODAY)
    session.commit()
    fixed = themes.record_value(session, "shared_risk_assessment", "2026-04", "43%", "recounted", "lead", TODAY)
    session.commit()
    assert (first.version, fixed.version, fixed.period) == (1, 2, dt.date(2026, 4, 1))
    history = themes.value_history(session, "shared_risk_assessment")
    # Newest first, so the latest correction is at the top.
    assert history.select("Period", "Version", "Value", "Note").to_dicts() == [
        {"Period": "2026-Q2", "Version": 2, "Value": 43.0, "Note": "recounted"},
        {"Period": "2026-Q2", "Version": 1, "Value": 41.5, "Note": "first count"},
    ]
    # Pages read the latest version only; the first stays in the table.
    latest = queries.load_indicator_values(session.get_bind())
    assert latest.filter(pl.col("period") == dt.date(2026, 4, 1))["value"].to_list() == [43.0]
    actions = [a.action for a in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["indicator_value", "indicator_corrected"]


@pytest.mark.parametrize(
    ("code", "period", "value", "message"),
    [
        ("shared_risk_assessment", "2026-Q2", "about half", "value: not a number (about half)"),
        ("shared_risk_assessment", "2027-Q1", "40", "period: 2027-Q1 has not started yet"),
        ("shared_risk_assessment", "2026-Q2", "140", "value: a percent must be between 0 and 100 (140)"),
        ("shared_risk_assessment", "spring", "40", "period: not a quarter such as 2025-Q3 (spring)"),
        ("neet_19_21", "2026-Q2", "40", "computed from the cohort and cannot be entered"),
        ("no_such", "2026-Q2", "40", "indicator: unknown indicator (no_such)"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(
    session: Session, code: str, period: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        themes.record_value(session, code, period, value, "", "lead", TODAY)
    session.rollback()
    assert session.exec(select(IndicatorValue)).first() is None


def test_milestones_late_first_and_past_due_is_late(session: Session) -> None:
    ms = themes.milestones(session, TODAY)
    # Every milestone is due by April 2025: those not done are late by now.
    assert ms["status"].to_list()[:5] == ["Late"] * 5
    assert set(ms["status"][5:]) == {"Done"}
    early = themes.milestones(session, dt.date(2024, 1, 1))
    assert "On track" in set(early["status"])


def test_commentary_is_plain_text(session: Session) -> None:
    themes.save_commentary(session, 1, "2026-Q3", "<b>Good</b> [link](http://x) **progress**", "lead", TODAY)
    session.commit()
    period, text, author = themes.latest_commentary(session)[1]
    assert (period, author) == (dt.date(2026, 7, 1), "lead")
    shown = themes.plain(text)
    assert "<b>" not in shown and "\\<b\\>" in shown and "\\*\\*progress\\*\\*" in shown and "\\[link\\]" in shown
    with pytest.raises(ValueError, match="at most 2000"):
        themes.save_commentary(session, 1, "2026-Q3", "x" * 2001, "lead", TODAY)


def test_computed_indicator_on_the_hand_cohort_and_board_suppression() -> None:
    indicators = pl.DataFrame(
        {
            "id": [1],
            "code": ["slipped_through"],
            "name": ["Slipped through the net"],
            "unit": ["percent"],
            "polarity": ["lower"],
            "baseline": [30.0],
            "baseline_period": ["2022-23"],
            "target": [15.0],
            "target_date": [dt.date(2025, 3, 31)],
            "source": ["computed"],
            "metric_key": ["slipped_through"],
            "theme": [4],
            "theme_title": ["Well-planned transition"],
            "impact": [1],
        }
    )
    no_values = pl.DataFrame(schema={"indicator_id": pl.Int64, "period": pl.Date, "value": pl.Float64})
    localities = ["Central", "East", "North"]
    lead_figures = figures.Figures(_cohort(), AS_OF, False, 5, localities)
    lead = themes.indicator_views(indicators, lead_figures, no_values, AS_OF, "all")[0]
    # G (Q1 2025) and H (Q2 2025) were picked up within 6 months; I (Q3 2025) slipped.
    assert lead.series["value"].to_list() == [0.0, 0.0, 100.0]
    # Three quarters of 2025: no quarter a year before the latest to compare with.
    assert lead.latest == "100.0%" and lead.direction == "no figure for 2024 Q3 to compare"
    assert lead.status.status == "off_track"  # latest 100% against a target of 15%, lower is better
    board_figures = figures.Figures(_cohort(), AS_OF, True, 5, localities)
    board = themes.indicator_views(indicators, board_figures, no_values, AS_OF, "all")[0]
    # Each quarter rests on one young person: every point is hidden from board members.
    assert board.series["shown"].to_list() == ["c", "c", "c"]
    assert board.series["value"].null_count() == 3
    # Direction and status are worked out from what the board is shown, here nothing: the lead's
    # "off track" would say the hidden latest quarter missed the target.
    assert board.direction == "not shown (the latest quarter is not shown)"
    assert board.status.status == "not_measurable"
    assert "100" not in themes.indicator_sentence(board)


def _drawn(spec: dict) -> dict:
    """A Vega-Lite spec with every layer's named dataset put back in place:
    what is drawn, whatever the datasets are called."""
    datasets = spec.get("datasets", {})
    out = {k: v for k, v in spec.items() if k != "datasets"}
    out["layer"] = [
        {**layer, "data": {"values": datasets[layer["data"]["name"]]}} if "name" in layer.get("data", {}) else layer
        for layer in spec["layer"]
    ]
    return out


@pytest.mark.parametrize(
    ("values", "shown", "name", "baseline", "target"),
    [
        # A board viewer's series: the second quarter hidden (a gap in the line).
        ([31.5, None, 40.0], ["31.5%", "c", "40.0%"], "Young people picked up within 3 months", 30.0, 45.0),
        # A long name: the axis says the unit instead.
        ([0.2, 0.25, 0.5], ["0.2", "0.25", "0.5"], "Crisis contacts per young person aged 19 to 21", 0.4, 0.3),
        ([], [], "Nothing yet", 10, 20),  # no quarter ended yet; whole-number baseline and target
    ],
)
def test_fast_indicator_chart_draws_what_altair_draws(
    values: list[float | None], shown: list[str], name: str, baseline: float, target: float
) -> None:
    from partnership import charts

    quarters = [dt.date(2025, 1 + 3 * i, 1) for i in range(len(values))]
    series = pl.DataFrame(
        {"period": quarters, "value": values, "shown": shown},
        schema={"period": pl.Date, "value": pl.Float64, "shown": pl.String},
    )
    made = charts.spec(charts.indicator_trend(series, name, "rate", baseline, target, dt.date(2027, 3, 1)))
    fast = charts.indicator_trend_spec(series, name, "rate", baseline, target, dt.date(2027, 3, 1))
    assert _drawn(fast) == _drawn(made)
    assert fast["layer"][0]["encoding"]["y"]["title"] == (name if len(name) < 40 else "Rate")
    assert [row["shown"] for row in _drawn(fast)["layer"][0]["data"]["values"]] == shown
