"""The status rule for programme indicators, written once.

On track: the straight-line trend of the values, projected to the target date
(or the latest value once that date has passed), meets the target. At risk:
it misses by no more than `tolerance` of the distance from baseline to target.
Off track: it misses by more. Not yet measurable: fewer than three values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

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
    basis: str = ""  # "latest value" or "trend projected to <month>"
    target: float | None = None
    unit: str = "percent"

    def without_values(self) -> Status:
        """The same judgement with the projected value and the shortfall left
        out: for a viewer to whom a value the projection reads is hidden (the
        latest quarter, or any quarter a trend runs through), printing them
        would give the hidden value back, or narrow it."""
        if self.projected is None or self.target is None:
            return self
        verdict = {
            "on_track": "meets it",
            "at_risk": "falls short, within tolerance",
            "off_track": "falls short by more than the tolerance",
        }[self.status]
        hidden = " (not shown: too few young people)" if self.basis == "latest value" else ""
        text = f"{self.basis}{hidden} against target {_fmt(self.target, self.unit)}: {verdict}"
        return replace(self, projected=None, reason=text)


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
        basis = "latest value"
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


def direction(series: pl.DataFrame, polarity: str) -> str:
    """Improving, worsening or no change, judged by polarity, latest against previous."""
    values = series.drop_nulls("value").sort("period")["value"].to_list()
    if len(values) < 2 or values[-1] == values[-2]:
        return "no change"
    up = values[-1] > values[-2]
    return "improving" if up == (polarity == "higher") else "worsening"
