"""What each page shows, built from released figures and frames: the same
for a page run (ui/data.py keeps it per data version) and for the board's
publication (partnership/publication.py stores it). No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from partnership import benchmarks, capacity, charts, figures, sections, themes, wording
from partnership.disclosure import SUPPRESSED, Released, disclose

Comparison = Callable[[dict[tuple[str, str], str]], pl.DataFrame | None]


# --- cohort and overview --------------------------------------------------------------------


def cohort_sections(
    figs: figures.Figures,
    view: sections.View,
    comparison: Comparison,
    case_list: pl.DataFrame | None = None,
    slipped_list: pl.DataFrame | None = None,
) -> dict[str, sections.Section]:
    """The cohort page's sections for one view."""
    compared = comparison(sections.care_leaver_figures(figs, view))
    built = [
        sections.flow_section(figs, view),
        sections.age_section(figs, view, case_list),
        sections.gap_section(figs, view, slipped_list),
        sections.outcomes_section(figs, view, compared),
        sections.risk_section(figs, view),
        sections.representation_section(figs, view),
    ]
    return {sec.slug: sec for sec in built}


def overview(
    figs: figures.Figures,
    view: sections.View,
    staffing_card: sections.Card | None,
    views: list[themes.IndicatorView],
    titles: dict[int, str],
    comparison: Comparison,
) -> tuple[list[sections.Card], sections.Block, pl.DataFrame]:
    """The overview's cards, its by-locality block and the themes' statuses."""
    cards = sections.overview_cards(figs, view, staffing_card, comparison({}))  # the card quotes published figures
    return cards, sections.open_16_17_block(figs, view), themes.theme_summary(views, titles)


# --- programme progress ---------------------------------------------------------------------


@dataclass(frozen=True)
class ThemesPage:
    """Everything the programme progress page shows for one view: a rerun draws."""

    views: list[themes.IndicatorView]
    titles: dict[int, str]
    short_titles: dict[int, str]
    impacts: dict[int, list[str]]
    summary: pl.DataFrame
    summary_table: pl.DataFrame
    grid_table: pl.DataFrame
    indicator_tables: dict[int, pl.DataFrame]  # per theme
    series_tables: dict[str, pl.DataFrame]  # per indicator code
    milestone_tables: dict[int, pl.DataFrame]
    late: dict[int, int]
    commentary: dict[int, tuple[dt.date, str, str]]
    drawn: dict[str, bool]  # per indicator: any value to draw
    hidden_quarters: dict[str, int]  # per indicator: quarters not shown to this viewer
    status_words: str  # "2 on track, 2 off track"


def themes_page(
    views: list[themes.IndicatorView],
    impacts: pl.DataFrame,
    milestones: pl.DataFrame,
    commentary: dict[int, tuple[dt.date, str, str]],
) -> ThemesPage:
    titles = dict(zip(impacts["theme"], impacts["title"], strict=False))
    summary = themes.theme_summary(views, titles)
    ordered = sorted(views, key=lambda v: v.theme)  # the status grid's order
    numbers = sorted(titles)
    ms_tables = {
        n: milestones.filter(pl.col("theme") == n).select(
            pl.col("title").alias("Milestone"),
            pl.col("owner").alias("Owner"),
            pl.col("due").alias("Due"),
            pl.col("status").alias("Status"),
        )
        for n in numbers
    }
    return ThemesPage(
        views,
        titles,
        dict(zip(impacts["theme"], impacts["short_title"], strict=False)),
        {n: impacts.filter(pl.col("theme") == n)["text"].to_list() for n in numbers},
        summary,
        summary.sort("theme")
        .join(
            impacts.group_by("theme").agg(pl.col("text").str.join(" ").alias("Intended impact")),
            on="theme",
            maintain_order="left",
        )
        .select(
            pl.col("theme").alias("Theme"),
            pl.col("title").alias("Title"),
            pl.col("status").alias("Status"),
            pl.col("reason").alias("Why"),
            "Intended impact",
        ),
        themes.indicator_table(ordered)
        .with_columns(Theme=pl.Series([v.theme for v in ordered]))
        .select("Theme", "Indicator", "Status", "Latest", "Direction (on a year before)"),
        {n: themes.indicator_table([v for v in views if v.theme == n]) for n in numbers},
        {
            v.code: v.series.select(pl.col("period").alias("Quarter starting"), pl.col("shown").alias("Value"))
            for v in views
        },
        ms_tables,
        {n: t.filter(pl.col("Status") == "Late").height for n, t in ms_tables.items()},
        commentary,
        {v.code: not v.series.drop_nulls("value").is_empty() for v in views},
        {v.code: v.series.filter(pl.col("shown") == SUPPRESSED).height for v in views},
        ", ".join(
            f"{r['len']} {r['status'].lower()}" for r in summary.group_by("status").len().sort("status").to_dicts()
        ),
    )


def indicator_chart_specs(views: list[themes.IndicatorView]) -> dict[str, dict]:
    """Vega-Lite specs of every indicator's trend chart."""
    return {
        v.code: charts.indicator_trend_spec(v.series, v.name, v.unit, v.baseline, v.target, v.target_date)
        for v in views
    }


def status_grid_spec(views: list[themes.IndicatorView]) -> dict:
    return charts.spec(charts.status_grid(themes.status_grid_frame(views)))


def milestone_specs(frame: pl.DataFrame, today: dt.date) -> dict[int, dict]:
    return {
        int(n): charts.spec(charts.milestone_timeline(frame.filter(pl.col("theme") == n), today))
        for n in frame["theme"].unique().to_list()
    }


# --- team capacity ---------------------------------------------------------------------------------


def caseload_releases(
    month_rows: pl.DataFrame, month: dt.date, caseload_threshold: float, threshold: int, suppressed: bool
) -> tuple[Released, Released]:
    """Cases and case holders of one month released over every locality in
    `month_rows` (a locality's view is a slice of the same release); case
    holders by team unless at board level."""
    label = month.strftime("%Y-%m")
    return (
        disclose(figures.cases_release(month_rows, label, caseload_threshold), suppressed, threshold),
        disclose(
            figures.holders_release(month_rows, label, caseload_threshold, by_team=not suppressed),
            suppressed,
            threshold,
        ),
    )


def caseload_section(
    cases: Released,
    holders: Released,
    month_rows: pl.DataFrame,
    month: dt.date,
    caseload_threshold: float,
    slice_: str,
    suppressed: bool,
) -> sections.Section:
    return sections.caseload_section(
        cases,
        holders,
        month_rows,
        month.strftime("%Y-%m"),
        f"{month:%B %Y}",
        caseload_threshold,
        capacity.ENGLAND_CASELOAD,
        slice_,
        by_team=not suppressed,
    )


def capacity_trend(
    staffing: pl.DataFrame, slice_: str, releases: Callable[[dt.date], tuple[Released, Released]]
) -> pl.DataFrame:
    """Monthly vacancy and agency rates per locality (from FTE), and caseload
    per locality as released month by month: a caseload gives cases back."""
    staff = staffing if slice_ == figures.ALL else staffing.filter(pl.col("locality") == slice_)
    series = capacity.trend(staff)
    released = []
    for month in series["month"].unique().sort().to_list():
        cases, _holders = releases(month)
        for loc in series.filter(pl.col("month") == month)["locality"].to_list():
            value = cases.get(figures.key("caseload", month.strftime("%Y-%m"), loc))
            released.append({"month": month, "locality": loc, "caseload": value if isinstance(value, float) else None})
    frame = pl.DataFrame(released, schema={"month": pl.Date, "locality": pl.String, "caseload": pl.Float64})
    return series.drop("caseload").join(frame, on=["month", "locality"], how="left")


def capacity_trend_chart(
    series: pl.DataFrame, column: str, label: str, rule: float | None, percent: bool
) -> tuple[dict, pl.DataFrame]:
    """One capacity measure month by month: its chart spec and its table."""
    spec = charts.spec(charts.trend_lines(series, column, label, rule=rule, percent=percent))
    table = series.select(
        pl.col("month").alias("Month"),
        pl.col("locality").alias("Locality"),
        (pl.col(column) * (100 if percent else 1)).round(1).alias(label),
    )
    return spec, table


# The capacity page's three trends: column, label, percent, whether a rule is drawn at the caseload threshold.
TRENDS = (
    ("vacancy_rate", "Vacancy rate (%)", True, False),
    ("agency_rate", "Agency rate (%)", True, False),
    ("caseload", "Cases per FTE", False, True),
)


@dataclass(frozen=True)
class Establishment:
    """One month's establishment in view: the capacity page reruns on every
    click and only draws these."""

    tiles: list[tuple[str, str, str]]
    totals: dict[str, float]
    by_locality: pl.DataFrame
    by_team: pl.DataFrame
    groups: int
    by_role: pl.DataFrame
    heatmap: dict
    notes: list[dict[str, str]]


def establishment(month_rows: pl.DataFrame) -> Establishment:
    by_team = capacity.establishment(month_rows, ["locality", "team"])
    by_role = capacity.establishment(month_rows, ["locality", "team", "role"])
    return Establishment(
        sections.establishment_tiles(month_rows),
        capacity.establishment(month_rows, []).row(0, named=True),
        capacity.display_table(capacity.establishment(month_rows, ["locality"]), ["locality"]),
        capacity.display_table(by_team, ["locality", "team"]),
        by_team.height,
        capacity.display_table(by_role, ["locality", "team", "role"]),
        charts.spec(charts.fill_heatmap(by_role)),
        month_rows.filter(pl.col("note").is_not_null()).select("team", "role", "note").unique().to_dicts(),
    )


def workforce_comparison(
    published: dict[str, pl.DataFrame],
    neighbours: list[str],
    la_code: str,
    totals: dict[str, float],
    cases: Released,
    month: dt.date,
    slice_: str,
) -> pl.DataFrame | None:
    """Our caseload, vacancy and agency rates beside the published ones; None where none were imported."""
    if published["caseload_fte"].is_empty():
        return None
    rows = []
    for name, label, ours in (
        (
            "caseload_fte",
            "Caseload per FTE",
            wording.number(cases, figures.key("caseload", month.strftime("%Y-%m"), slice_), 1),
        ),
        ("vacancy_rate_fte", "Vacancy rate (%)", f"{100 * totals['vacancy_rate']:.1f}"),
        ("agency_rate_fte", "Agency rate (%)", f"{100 * totals['agency_rate']:.1f}"),
    ):
        comp = benchmarks.comparators(published[name], la_code, neighbours, "") or {}
        rows.append(
            {
                "Measure": label,
                "EmPower teams": ours,
                "Our authority (published)": comp.get("authority", ""),
                "Region": comp.get("region", ""),
                "Statistical neighbours (mean)": comp.get("neighbours", ""),
                "England": comp.get("england", ""),
                "Published year": comp.get("period", ""),
            }
        )
    return pl.DataFrame(rows)
