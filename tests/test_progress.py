"""The status rule on hand-worked series, both polarities."""

from __future__ import annotations

import datetime as dt

import polars as pl

from partnership.progress import direction, indicator_status, theme_status

D = dt.date
TARGET_DATE = D(2025, 3, 31)


def _series(values: list[float], start_year: int = 2023) -> pl.DataFrame:
    periods = [D(start_year + (i // 4), 1 + 3 * (i % 4), 1) for i in range(len(values))]
    return pl.DataFrame({"period": periods, "value": values})


def test_fewer_than_three_points_is_not_measurable() -> None:
    status = indicator_status(_series([40.0, 45.0]), 38, 75, TARGET_DATE, "higher", D(2024, 1, 1))
    assert status.status == "not_measurable"


def test_higher_is_better_after_target_date_uses_latest_value() -> None:
    # baseline 38, target 75; tolerance 0.25 * 37 = 9.25 points.
    as_of = D(2026, 1, 1)
    assert indicator_status(_series([50, 60, 76]), 38, 75, TARGET_DATE, "higher", as_of).status == "on_track"
    assert indicator_status(_series([50, 60, 66]), 38, 75, TARGET_DATE, "higher", as_of).status == "at_risk"
    assert indicator_status(_series([50, 60, 65]), 38, 75, TARGET_DATE, "higher", as_of).status == "off_track"


def test_lower_is_better_projects_trend_to_target_date() -> None:
    # NEET: baseline 44, target 35, tolerance 0.25 * 9 = 2.25.
    # Quarterly points Jan, Apr, Jul 2023 falling 2 points a quarter: 44, 42, 40.
    # Slope -2 per ~91 days; 31 Mar 2025 is 639 days after 1 Jul 2023 -> about 40 - 14.0 = 26.0: on track.
    series = _series([44, 42, 40])
    status = indicator_status(series, 44, 35, TARGET_DATE, "lower", D(2023, 8, 1))
    assert status.status == "on_track"
    assert 25.5 < status.projected < 26.5
    # Flat at 37: projected 37, short by 2 (within 2.25) -> at risk; flat at 38 -> off track.
    assert indicator_status(_series([37, 37, 37]), 44, 35, TARGET_DATE, "lower", D(2023, 8, 1)).status == "at_risk"
    assert indicator_status(_series([38, 38, 38]), 44, 35, TARGET_DATE, "lower", D(2023, 8, 1)).status == "off_track"


def test_rising_neet_is_off_track_and_worsening() -> None:
    series = _series([40, 42, 44])
    assert indicator_status(series, 44, 35, TARGET_DATE, "lower", D(2023, 8, 1)).status == "off_track"
    assert direction(series, "lower") == "worsening"
    assert direction(series, "higher") == "improving"
    assert direction(_series([40, 40]), "higher") == "no change"


def test_theme_takes_its_weakest_measurable_indicator() -> None:
    as_of = D(2026, 1, 1)
    on = indicator_status(_series([50, 60, 76]), 38, 75, TARGET_DATE, "higher", as_of)
    risk = indicator_status(_series([50, 60, 66]), 38, 75, TARGET_DATE, "higher", as_of)
    unmeasured = indicator_status(_series([50]), 38, 75, TARGET_DATE, "higher", as_of)
    assert theme_status([("a", on), ("b", risk), ("c", unmeasured)]).status == "at_risk"
    assert "1 of 2 measured indicators on track" in theme_status([("a", on), ("b", risk)]).reason
    assert theme_status([("c", unmeasured)]).status == "not_measurable"


def test_a_shortfall_in_percent_is_in_points_and_can_be_worded_without_values() -> None:
    # Latest 65 against target 75, baseline 38: short by 10 points, beyond 9.25.
    status = indicator_status(_series([50, 60, 65]), 38, 75, TARGET_DATE, "higher", D(2026, 1, 1))
    assert status.reason == "latest value 65% against target 75%: short by 10 points"
    hidden = status.without_values()
    assert hidden.status == "off_track"
    assert hidden.reason == (
        "latest value (not shown: too few young people) against target 75%: falls short by more than the tolerance"
    )
    assert "65" not in hidden.reason
