"""The status rule on hand-worked series, both polarities."""

from __future__ import annotations

import datetime as dt

import polars as pl

from partnership.progress import direction, indicator_status, since_baseline, theme_status

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
    # 2023 Q1 to 2024 Q1, NEET 40% to 46%: lower is better, so worse on a year before.
    year = _series([40, 42, 44, 45, 46])
    assert direction(year, "lower") == "worsening on 2023 Q1"
    assert direction(year, "higher") == "improving on 2023 Q1"


def test_theme_takes_its_weakest_measurable_indicator() -> None:
    as_of = D(2026, 1, 1)
    on = indicator_status(_series([50, 60, 76]), 38, 75, TARGET_DATE, "higher", as_of)
    risk = indicator_status(_series([50, 60, 66]), 38, 75, TARGET_DATE, "higher", as_of)
    unmeasured = indicator_status(_series([50]), 38, 75, TARGET_DATE, "higher", as_of)
    assert theme_status([("a", on), ("b", risk), ("c", unmeasured)]).status == "at_risk"
    assert "1 of 2 measured indicators on track" in theme_status([("a", on), ("b", risk)]).reason
    assert theme_status([("c", unmeasured)]).status == "not_measurable"


def test_a_shortfall_in_percent_is_in_points() -> None:
    # Latest 65 against target 75, baseline 38: short by 10 points, beyond 9.25.
    status = indicator_status(_series([50, 60, 65]), 38, 75, TARGET_DATE, "higher", D(2026, 1, 1))
    assert status.reason == "latest value (2023 Q3) 65% against target 75%: short by 10 points"


def test_direction_is_the_latest_quarter_against_the_same_quarter_a_year_before() -> None:
    # 2025 Q1 .. 2026 Q3: the latest (2026 Q3, 69.6) against 2025 Q3 (45.0), not against 2026 Q2.
    values = [40.0, 42.0, 45.0, 50.0, 72.0, 71.0, 69.6]
    series = _series(values, start_year=2025)
    # Higher is better: +24.6 points on a year before reads improving, though it fell on the last quarter.
    assert direction(series, "higher") == "improving on 2025 Q3"
    assert direction(series, "lower") == "worsening on 2025 Q3"
    # A change under 2 points is no clear change, either way.
    assert (
        direction(_series([40.0, 41.0, 45.0, 50.0, 40.0, 41.0, 46.9], 2025), "higher") == "no clear change on 2025 Q3"
    )
    assert (
        direction(_series([40.0, 41.0, 45.0, 50.0, 40.0, 41.0, 43.1], 2025), "higher") == "no clear change on 2025 Q3"
    )
    assert direction(_series([40.0, 41.0, 45.0, 50.0, 40.0, 41.0, 42.9], 2025), "higher") == "worsening on 2025 Q3"
    # Fewer than five quarters: nothing a year before to compare with.
    assert direction(_series([40.0, 50.0, 60.0], 2026), "higher") == "no figure for 2025 Q3 to compare"


def test_direction_never_reads_a_hidden_quarter() -> None:
    """A hidden quarter has no value in the series a viewer is shown: the word says nothing of it."""
    hidden_latest = _series([40.0, 42.0, 45.0, 50.0, 72.0, 71.0, 69.6], 2025).with_columns(
        value=pl.when(pl.col("period") == D(2026, 7, 1)).then(None).otherwise(pl.col("value"))
    )
    assert direction(hidden_latest, "higher") == "not shown (the latest quarter is not shown)"
    hidden_before = _series([40.0, 42.0, 45.0, 50.0, 72.0, 71.0, 69.6], 2025).with_columns(
        value=pl.when(pl.col("period") == D(2025, 7, 1)).then(None).otherwise(pl.col("value"))
    )
    assert direction(hidden_before, "higher") == "no figure for 2025 Q3 to compare"


def test_since_baseline_is_said_in_points() -> None:
    assert since_baseline(69.6, 38.0, "percent") == "+31.6 points since the baseline"
    assert since_baseline(38.8, 44.0, "percent") == "-5.2 points since the baseline"
    assert since_baseline(None, 44.0, "percent") == "not shown"
