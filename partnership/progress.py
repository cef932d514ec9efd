"""The status rule for programme indicators, written once.

On track: the straight-line trend of the values, projected to the target date
(or the latest value once that date has passed), meets the target. At risk:
it misses by no more than `tolerance` of the distance from baseline to target.
Off track: it misses by more. Not yet measurable: fewer than three values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from partnership import wording

# The rule in words, for every page that shows a status (format with the tolerance).
STATUS_RULE = (
    "Status rule: an indicator is on track if its straight-line trend, projected to the target date (or its "
    "latest value once that date has passed), meets the target; at risk if it falls short by no more than "
    "{tolerance:.0%} of the distance from baseline to target; off track if further short; not yet measurable "
    "with fewer than three values. A theme takes the status of its weakest measurable indicator."
)
STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "not_measurable": "Not yet measurable",
}
MIN_POINTS = 3


@dataclass(frozen=True)
class Status:
    status: str
    projected: float | None
    reason: str
    basis: str = ""  # "latest value (2025 Q3)" or "trend projected to <month>"
    target: float | None = None
    unit: str = "percent"


def _fmt(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.0f}%"
    return f"{value:.2f}" if unit == "rate" else f"{value:.0f}"


def _gap(value: float, unit: str) -> str:
    return wording.points(value) if unit == "percent" else _fmt(value, unit)


def indicator_status(
    series: pl.DataFrame,
    baseline: float,
    target: float,
    target_date: dt.date,
    polarity: str,
    as_of: dt.date,
    unit: str = "percent",
    tolerance: float = 0.25,
) -> Status:
    """series: columns period (date) and value, one row per period."""
    points = series.drop_nulls("value").sort("period")
    if points.height < MIN_POINTS:
        counted = f"{points.height} {wording.plural(points.height, 'value')}" if points.height else "no values"
        return Status("not_measurable", None, f"{counted} so far; {MIN_POINTS} are needed")
    if as_of >= target_date:
        projected = float(points["value"][-1])
        # Named by its quarter: a viewer not shown the latest quarter must not read this as it.
        basis = f"latest value ({_quarter(points['period'][-1])})"
    else:
        x = [(p - target_date).days for p in points["period"]]
        y = points["value"].to_list()
        n = len(x)
        mx, my = sum(x) / n, sum(y) / n
        sxx = sum((xi - mx) ** 2 for xi in x)
        slope = sum((xi - mx) * (yi - my) for xi, yi in zip(x, y, strict=True)) / sxx if sxx else 0.0
        projected = my + slope * (0 - mx)  # x = 0 is the target date
        basis = f"trend projected to {target_date:%b %Y}"
    shortfall = (target - projected) if polarity == "higher" else (projected - target)
    allowed = tolerance * abs(target - baseline)
    text = f"{basis} {_fmt(projected, unit)} against target {_fmt(target, unit)}"
    common = {"basis": basis, "target": target, "unit": unit}
    if shortfall <= 0:
        return Status("on_track", projected, f"{text}: meets it", **common)
    if shortfall <= allowed:
        return Status("at_risk", projected, f"{text}: short by {_gap(shortfall, unit)}, within tolerance", **common)
    return Status("off_track", projected, f"{text}: short by {_gap(shortfall, unit)}", **common)


def theme_status(statuses: list[tuple[str, Status]]) -> Status:
    """A theme is as good as its weakest measurable indicator."""
    measured = [(name, s) for name, s in statuses if s.status != "not_measurable"]
    if not measured:
        return Status("not_measurable", None, "no indicator has three values yet")
    order = {"off_track": 0, "at_risk": 1, "on_track": 2}
    name, worst = min(measured, key=lambda item: order[item[1].status])
    on = sum(1 for _, s in measured if s.status == "on_track")
    summary = f"{on} of {len(measured)} measured indicators on track"
    if worst.status == "on_track":
        return Status("on_track", None, summary)
    # The rule beside the count, so "Off track" next to "3 of 4 on track" reads as meant.
    return Status(
        worst.status,
        None,
        f"{summary}; a theme takes the status of its weakest indicator: {name} ({worst.reason})",
    )


# Direction of travel, defined once: the latest quarter against the same quarter a year
# before (a quarter against the one before it swung with the season and with a handful
# of young people, and read "worsening" beside results far better than the baseline).
# A change smaller than this is "no clear change".
CLEAR_CHANGE = {"percent": 2.0, "rate": 0.1, "days": 3.0, "count": 1.0}
DIRECTION_RULE = (
    "Direction of travel: the latest quarter against the same quarter a year before, both as shown to you; a "
    "change smaller than 2 percentage points (0.1 for a rate) is no clear change. It says nothing where either "
    "quarter is not shown. Since the baseline is said separately."
)


def _quarter(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def direction(series: pl.DataFrame, polarity: str, unit: str = "percent") -> str:
    """'improving on 2025 Q3', 'worsening on ...', 'no clear change on ...',
    from the series as the viewer is shown it (period, value; a hidden quarter
    has no value): the latest quarter against the same quarter a year before."""
    if series.is_empty():
        return "no values yet"
    ordered = series.sort("period")
    latest, value = ordered["period"][-1], ordered["value"][-1]
    if value is None:
        return "not shown (the latest quarter is not shown)"
    before = latest.replace(year=latest.year - 1)
    earlier = ordered.filter(pl.col("period") == before)["value"].to_list()
    if not earlier or earlier[0] is None:
        return f"no figure for {_quarter(before)} to compare"
    change = float(value) - float(earlier[0])
    if abs(change) < CLEAR_CHANGE.get(unit, 1.0):
        return f"no clear change on {_quarter(before)}"
    better = change > 0 if polarity == "higher" else change < 0
    return f"{'improving' if better else 'worsening'} on {_quarter(before)}"


def since_baseline(latest: float | None, baseline: float, unit: str) -> str:
    """'+31.6 points since the baseline': the latest value shown against the baseline."""
    if latest is None:
        return "not shown"
    change = latest - baseline
    if unit == "percent":
        return f"{'+' if change >= 0 else '-'}{abs(change):.1f} points since the baseline"
    return (
        f"{'+' if change >= 0 else '-'}{abs(change):.2f} since the baseline"
        if unit == "rate"
        else (f"{'+' if change >= 0 else '-'}{abs(change):,.0f} since the baseline")
    )
