"""Headline figures for the Overview page, with disclosure control applied
for viewers who are not cleared for case-level data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from partnership import disclosure, metrics, themes
from partnership.queries import Cohort

DISPLAY_THRESHOLD_DEFAULT = 5


@dataclass(frozen=True)
class Figure:
    label: str
    value: str  # already formatted and suppressed as the viewer may see it
    detail: str = ""
    link: str = ""  # page the figure drills into


@dataclass
class Overview:
    open_16_17: pl.DataFrame  # locality, young_people (strings; suppressed when asked)
    figures: list[Figure] = field(default_factory=list)
    themes: pl.DataFrame | None = None


def _count(n: int, suppressed: bool, threshold: int) -> str:
    value = disclosure.suppress_count(n, threshold) if suppressed else n
    return f"{value:,}" if isinstance(value, int) else f"{value} (fewer than {threshold + 1})"


def _share(share: metrics.Share, suppressed: bool, threshold: int) -> str:
    if share.denominator == 0:
        return "no data"
    if suppressed:
        value = disclosure.suppress_share(share.numerator, share.denominator, threshold)
        if isinstance(value, str):
            return value
    return f"{100.0 * share.numerator / share.denominator:.0f}%"


def build(
    cohort: Cohort,
    staffing: pl.DataFrame,
    indicators: pl.DataFrame,
    entered: pl.DataFrame,
    as_of: dt.date,
    period: str,
    suppressed: bool,
    threshold: int = DISPLAY_THRESHOLD_DEFAULT,
    tolerance: float = 0.25,
) -> Overview:
    start, end = metrics.period_bounds(period, as_of)
    open_counts = metrics.open_by_age(cohort, as_of)
    open_table = (
        disclosure.suppress_table(open_counts, ["young_people"], threshold=threshold, row_totals=False)
        if suppressed
        else pl.concat(
            [
                open_counts.with_columns(pl.col("young_people").cast(pl.String)),
                pl.DataFrame({"locality": ["Total"], "young_people": [str(open_counts["young_people"].sum())]}),
            ]
        )
    )
    soon = metrics.turning_18_soon(cohort, as_of, 6)
    no_plan = int((~soon["plan_agreed"]).sum())
    trans = metrics.transitions(cohort, as_of)
    pickup = metrics.pickup_share(trans, start, end)
    gap = metrics.median_gap(trans, start, end)
    neet = metrics.neet_share(cohort, start, end)
    gap_rows = trans.filter(pl.col("b18").is_between(start, end) & pl.col("gap_days").is_not_null()).height

    figures = [
        Figure(
            "Open aged 16-17 now",
            _count(int(open_counts["young_people"].sum()), suppressed, threshold),
            "open to children's services now",
            "cohort",
        ),
        Figure(
            "Turning 18 in the next 6 months",
            _count(soon.height, suppressed, threshold),
            f"of whom without an agreed transition plan: {_count(no_plan, suppressed, threshold)}",
            "cohort",
        ),
        Figure(
            "Adult service within 3 months of 18",
            _share(pickup, suppressed, threshold),
            f"of {_count(pickup.denominator, suppressed, threshold)} who turned 18 in the period",
            "cohort",
        ),
        Figure(
            "Median gap, children's to adult service",
            "no data"
            if gap is None or (suppressed and disclosure.is_small(gap_rows, threshold))
            else f"{gap:.0f} days",
            f"over {_count(gap_rows, suppressed, threshold)} young people with both services",
            "cohort",
        ),
        Figure(
            "NEET at 19-21",
            _share(neet, suppressed, threshold),
            f"of {_count(neet.denominator, suppressed, threshold)} activity records in the period",
            "cohort",
        ),
    ]
    if not staffing.is_empty():
        latest = staffing.filter(pl.col("month") == staffing["month"].max())
        funded, filled = float(latest["funded_fte"].sum()), float(latest["filled_fte"].sum())
        agency = float(latest["agency_fte"].sum())
        figures.append(
            Figure(
                "Posts funded / filled (FTE)",
                f"{funded:.0f} / {filled:.0f}",
                f"{agency:.0f} FTE agency cover, {latest['month'][0]:%B %Y}",
                "capacity",
            )
        )
    return Overview(open_table, figures, theme_statuses(cohort, indicators, entered, as_of, tolerance))


def theme_statuses(
    cohort: Cohort, indicators: pl.DataFrame, entered: pl.DataFrame, as_of: dt.date, tolerance: float
) -> pl.DataFrame:
    views = themes.indicator_views(indicators, cohort, entered, as_of, suppressed=False, tolerance=tolerance)
    titles = dict(zip(indicators["theme"], indicators["theme_title"], strict=True)) if indicators.height else {}
    return themes.theme_summary(views, titles)
