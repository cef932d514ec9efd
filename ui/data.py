"""Cached access to the database for pages. Loads are cached per data version
and scope; filters are applied outside the cache so changing one is cheap."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from models.db import get_engine
from partnership import benchmarks, capacity, figures, metrics, publication, queries, sections, themes, views
from partnership import cohort as cohort_figures
from partnership.demo import ensure_database
from partnership.settings import Settings, get_settings


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner="Preparing the database ...")
def engine() -> Engine:
    url = settings().database_url
    # First start: schema, reference data and demo partnership, said in the terminal.
    ensure_database(url, log=lambda msg: print(msg, flush=True))
    return get_engine(url)


@st.cache_resource(show_spinner=False)
def reader() -> Engine:
    """Where pages read figures from: a PostgreSQL streaming replica when
    DATABASE_READ_URL names one, else the database itself. The data version
    is read there too, with the data, so a cache is never filled from a
    replica that has not yet replayed the write whose version it carries.
    Sessions, sign-ins, the audit trail and every write use engine()."""
    url = settings().database_read_url
    return get_engine(url) if url else engine()


def db_settings() -> dict[str, str]:
    """The database's settings: one single-row read of the data version per
    run, the rest read once per version (every write that changes them bumps it)."""
    version = queries.data_version(reader())
    _forget_older("data", version, _BY_VERSION)
    found = dict(_settings_at(version))
    _forget_older("staffing", staffing_version(found), _BY_STAFFING_VERSION)
    return found


def staffing_version(settings: dict[str, str]) -> str:
    """What the capacity page's caches are keyed by: a version every write
    changes except an import of case records alone (store.bump_data_version).
    A database written before there was one has only the data version."""
    return settings.get("staffing_version") or settings.get("data_version", "0")


_seen: dict[str, str] = {}
_seen_lock = threading.Lock()


def _forget_older(part: str, version: str, caches: tuple[object, ...]) -> None:
    """When the data changes, let go of everything worked out for earlier
    versions at once: nobody asks for it again, and at a million young people
    each version's frames and figures take gigabytes until their hour is up."""
    with _seen_lock:
        if _seen.get(part) == version:
            return
        first = part not in _seen
        _seen[part] = version
    if first:
        return
    for cached in caches:
        cached.clear()  # type: ignore[attr-defined]


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def _settings_at(version: str) -> dict[str, str]:
    # A caller gets a copy (db_settings): this dict is shared by every session.
    return queries.load_settings(reader())


@st.cache_resource(ttl=3600, max_entries=16, show_spinner="Loading the cohort ...")
def _cohort(version: str, locality_ids: tuple[int, ...]) -> queries.Cohort:
    return queries.load_cohort(reader(), list(locality_ids))


@st.cache_resource(ttl=3600, max_entries=16, show_spinner=False)
def _staffing(version: str, locality_ids: tuple[int, ...]) -> pl.DataFrame:
    return queries.load_staffing(reader(), list(locality_ids))


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def _indicators(version: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    return queries.load_indicators(reader()), queries.load_indicator_values(reader())


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def localities() -> pl.DataFrame:
    return queries.load_localities(reader())


def cohort(version: str, locality_ids: list[int], flt: metrics.CohortFilter) -> queries.Cohort:
    return metrics.filter_cohort(_cohort(version, tuple(locality_ids)), flt)


def staffing(version: str, locality_ids: list[int]) -> pl.DataFrame:
    return _staffing(version, tuple(locality_ids))


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def care_leaver_benchmarks(version: str) -> tuple[pl.DataFrame, list[str]]:
    """Published care-leaver activity values and our statistical neighbours."""
    return (
        benchmarks.load_indicator(reader(), "care_leaver_percent"),
        benchmarks.load_neighbours(reader(), settings().our_la_code),
    )


def care_leaver_comparison(version: str, ours: dict[tuple[str, str], str]) -> pl.DataFrame | None:
    """Our figures beside the published ones for care leavers; None where none were imported."""
    values, neighbours = care_leaver_benchmarks(version)
    if values.is_empty():
        return None
    return benchmarks.care_leaver_table(values, settings().our_la_code, neighbours, ours)


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def workforce_benchmarks(version: str) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Published social work workforce indicators (DfE CSWW) and our neighbours."""
    wanted = ("caseload_fte", "vacancy_rate_fte", "agency_rate_fte")
    return (
        {name: benchmarks.load_indicator(reader(), name) for name in wanted},
        benchmarks.load_neighbours(reader(), settings().our_la_code),
    )


def indicators(version: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    return _indicators(version)


@st.cache_resource(ttl=3600, max_entries=32, show_spinner="Working out the indicators ...")
def indicator_views(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, as_of: dt.date, slice_: str
) -> list[themes.IndicatorView]:
    """Computed indicators follow the locality chosen (a slice of the same
    release as the partnership's); entered ones are partnership-wide."""
    defs, values = _indicators(version)
    figs = figures_for(version, locality_ids, metrics.CohortFilter(), suppressed, as_of)
    return themes.indicator_views(defs, figs, values, as_of, slice_, settings().status_tolerance)


@st.cache_resource(ttl=3600, max_entries=32, show_spinner=False)
def indicator_chart_specs(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, as_of: dt.date, slice_: str
) -> dict[str, dict]:
    """Vega-Lite specs of every indicator's trend chart, built once per data
    version and view: building and validating Altair charts is most of the
    time a rerun of the themes page would otherwise take."""
    with _altair_lock():
        return views.indicator_chart_specs(indicator_views(version, locality_ids, suppressed, as_of, slice_))


@st.cache_resource(ttl=3600, max_entries=32, show_spinner=False)
def status_grid_spec(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, as_of: dt.date, slice_: str
) -> dict:
    """The programme's status grid, built once per data version and view."""
    with _altair_lock():
        return views.status_grid_spec(indicator_views(version, locality_ids, suppressed, as_of, slice_))


@st.cache_resource(ttl=3600, max_entries=8, show_spinner=False)
def milestone_specs(version: str, today: dt.date) -> tuple[pl.DataFrame, dict[int, dict]]:
    with Session(reader()) as session:
        frame = themes.milestones(session, today)
    with _altair_lock():
        return frame, views.milestone_specs(frame, today)


# --- the measure layer: figures and sections ------------------------------------------


def _names(locality_ids: tuple[int, ...]) -> list[str]:
    names = dict(zip(localities()["id"].to_list(), localities()["name"].to_list(), strict=True))
    return sorted(names[i] for i in locality_ids)


@st.cache_resource(ttl=3600, max_entries=32, show_spinner="Working out the figures ...")
def figures_for(
    version: str, locality_ids: tuple[int, ...], flt: metrics.CohortFilter, suppressed: bool, as_of: dt.date
) -> figures.Figures:
    """Every released figure for one scope (the localities a viewer may see,
    never narrowed by the locality chosen: a locality's view is a slice of
    the same release) and disclosure level. Built lazily, shared by sessions."""
    return figures.Figures(
        cohort(version, list(locality_ids), flt),
        as_of,
        suppressed,
        settings().suppression_threshold,
        _names(locality_ids),
    )


@st.cache_resource(ttl=3600, max_entries=64, show_spinner="Working out the figures ...")
def cohort_sections(
    version: str,
    locality_ids: tuple[int, ...],
    flt: metrics.CohortFilter,
    suppressed: bool,
    as_of: dt.date,
    period: str,
    slice_: str,
    show_rows: bool,
) -> dict[str, sections.Section]:
    figs = figures_for(version, locality_ids, flt, suppressed, as_of)
    view = sections.View(period, slice_, as_of)
    case_list = slipped_list = None
    if show_rows and not suppressed:
        scope = [i for i in locality_ids if slice_ == figures.ALL or _names((i,)) == [slice_]]
        mine = cohort(version, scope, flt)
        case_list = cohort_figures.turning_18_list(mine, as_of)
        slipped_list = cohort_figures.slipped_list(mine, as_of, period)
    # Chart specs are made here once: Streamlit's lock keeps Altair's process-wide settings steady meanwhile.
    with _altair_lock():
        return views.cohort_sections(
            figs, view, lambda ours: care_leaver_comparison(version, ours), case_list, slipped_list
        )


def _altair_lock():  # type: ignore[no-untyped-def]
    try:
        from streamlit.elements.vega_charts import _altair_globals_lock
    except ImportError:  # pragma: no cover - a later Streamlit may rename it
        import contextlib

        return contextlib.nullcontext()
    return _altair_globals_lock


@st.cache_resource(ttl=3600, max_entries=64, show_spinner="Working out the figures ...")
def overview(
    version: str,
    locality_ids: tuple[int, ...],
    flt: metrics.CohortFilter,
    suppressed: bool,
    as_of: dt.date,
    period: str,
    slice_: str,
) -> tuple[list[sections.Card], sections.Block, pl.DataFrame]:
    """The overview's cards, its by-locality block and the themes' statuses."""
    figs = figures_for(version, locality_ids, flt, suppressed, as_of)
    view = sections.View(period, slice_, as_of)
    card = sections.staffing_card(staffing(staffing_version(_settings_at(version)), list(locality_ids)), slice_)
    defs, _values = _indicators(version)
    shown = indicator_views(version, locality_ids, suppressed, as_of, slice_)
    titles = dict(zip(defs["theme"], defs["theme_title"], strict=True)) if defs.height else {}
    with _altair_lock():
        return views.overview(figs, view, card, shown, titles, lambda ours: care_leaver_comparison(version, ours))


@st.cache_resource(ttl=3600, max_entries=64, show_spinner="Working out the caseloads ...")
def caseload_releases(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, month: dt.date
) -> tuple[figures.Released, figures.Released]:
    """Cases and case holders released over every locality the viewer may see
    (a locality's view is a slice of the same release); case holders by team
    unless at board level."""
    rows = capacity.month_of(staffing(version, list(locality_ids)), month)
    return views.caseload_releases(
        rows, month, settings().caseload_threshold, settings().suppression_threshold, suppressed
    )


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def caseload_section(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, month: dt.date, slice_: str
) -> sections.Section:
    cases, holders = caseload_releases(version, locality_ids, suppressed, month)
    rows = capacity.month_of(staffing(version, list(locality_ids)), month)
    with _altair_lock():
        return views.caseload_section(cases, holders, rows, month, settings().caseload_threshold, slice_, suppressed)


@st.cache_resource(ttl=3600, max_entries=32, show_spinner=False)
def capacity_trend(version: str, locality_ids: tuple[int, ...], suppressed: bool, slice_: str) -> pl.DataFrame:
    """Monthly vacancy and agency rates per locality (from FTE), and caseload
    per locality as released month by month: a caseload gives cases back."""
    return views.capacity_trend(
        staffing(version, list(locality_ids)),
        slice_,
        lambda month: caseload_releases(version, locality_ids, suppressed, month),
    )


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def establishment(version: str, locality_ids: tuple[int, ...], month: dt.date) -> views.Establishment:
    rows = capacity.month_of(staffing(version, list(locality_ids)), month)
    with _altair_lock():
        return views.establishment(rows)


@st.cache_resource(ttl=3600, max_entries=128, show_spinner=False)
def capacity_trend_chart(
    version: str,
    locality_ids: tuple[int, ...],
    suppressed: bool,
    slice_: str,
    column: str,
    label: str,
    rule: float | None,
    percent: bool,
) -> tuple[dict, pl.DataFrame]:
    """One capacity measure month by month: its chart spec and its table."""
    series = capacity_trend(version, locality_ids, suppressed, slice_)
    with _altair_lock():
        return views.capacity_trend_chart(series, column, label, rule, percent)


@st.cache_resource(ttl=3600, max_entries=32, show_spinner="Working out the indicators ...")
def themes_page(
    version: str, locality_ids: tuple[int, ...], suppressed: bool, as_of: dt.date, slice_: str, today: dt.date
) -> views.ThemesPage:
    shown = indicator_views(version, locality_ids, suppressed, as_of, slice_)
    milestones, _specs = milestone_specs(version, today)
    with Session(reader()) as session:
        commentary = themes.latest_commentary(session)
    return views.themes_page(shown, queries.load_impacts(reader()), milestones, commentary)


@dataclass(frozen=True)
class SavedScenario:
    name: str
    created_by: str
    month: dt.date
    changes: pl.DataFrame  # team, vacancies filled, posts added
    caseloads: pl.DataFrame  # the same with caseloads now and under the scenario


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def what_if(version: str, locality_ids: tuple[int, ...], month: dt.date) -> tuple[pl.DataFrame, list[SavedScenario]]:
    """The what-if table's starting rows and the saved scenarios applied to a month."""
    rows = capacity.month_of(staffing(version, list(locality_ids)), month)
    start = capacity.project(rows, capacity.WhatIf({}, {})).select(
        pl.col("team").alias("Team"),
        pl.lit(0.0).alias("Vacancies filled (FTE)"),
        pl.lit(0.0).alias("New case-holding posts (FTE)"),
    )
    with Session(reader()) as session:
        saved = capacity.load_scenarios(session, list(locality_ids))
    out = []
    for scenario, what in saved:
        result = capacity.project(rows, what).filter((pl.col("vacancies_filled") > 0) | (pl.col("posts_added") > 0))
        changes = result.select(
            pl.col("team").alias("Team"),
            pl.col("vacancies_filled").alias("Vacancies filled"),
            pl.col("posts_added").alias("Posts added"),
        )
        caseloads = changes.with_columns(
            result["caseload_now"].round(1).alias("Cases per FTE now"),
            result["caseload_then"].round(1).alias("Scenario: cases per FTE"),
        )
        out.append(SavedScenario(scenario.name, scenario.created_by, scenario.month, changes, caseloads))
    return start, out


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def workforce_comparison(
    version: str,
    locality_ids: tuple[int, ...],
    visible_ids: tuple[int, ...],
    suppressed: bool,
    month: dt.date,
    slice_: str,
) -> pl.DataFrame | None:
    """Our caseload, vacancy and agency rates beside the published ones; None where none were imported."""
    published, neighbours = workforce_benchmarks(version)
    cases, _holders = caseload_releases(version, visible_ids, suppressed, month)
    totals = establishment(version, locality_ids, month).totals
    return views.workforce_comparison(published, neighbours, settings().our_la_code, totals, cases, month, slice_)


# Every cache keyed by the data version (their first argument).
_BY_VERSION = (
    _settings_at,
    _cohort,
    _indicators,
    care_leaver_benchmarks,
    indicator_views,
    indicator_chart_specs,
    status_grid_spec,
    milestone_specs,
    figures_for,
    cohort_sections,
    overview,
    themes_page,
)
# Every cache keyed by the staffing version: what the capacity page shows.
_BY_STAFFING_VERSION = (
    _staffing,
    workforce_benchmarks,
    caseload_releases,
    caseload_section,
    capacity_trend,
    establishment,
    capacity_trend_chart,
    what_if,
    workforce_comparison,
)


# --- the board publication -------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """The publication a board-level viewer reads: every figure on their
    pages comes from here, never from the data as it is now."""

    header: publication.Header
    meta: publication.Meta

    @property
    def as_of(self) -> dt.date:
        return self.header.as_of

    def part(self, *key: object) -> Any:
        return _published(self.header.id, publication.name(*key))


def board() -> Board | None:
    """The newest ready publication (one small query a run), or None before the first."""
    header = publication.latest(reader())
    if header is None:
        return None
    return Board(header, _published(header.id, "meta"))


@st.cache_resource(ttl=3600, max_entries=2048, show_spinner="Reading the board's figures ...")
def _published(publication_id: int, name: str) -> Any:
    # A part is never changed once written: kept by publication and name for every session.
    return publication.read_part(reader(), publication_id, name)


_due_checked = [0.0]
_due_lock = threading.Lock()
DUE_CHECK_SECONDS = 60.0


def publish_if_due() -> None:
    """Start the monthly publication in the background when it is due
    (checked at most once a minute per process; the check is two small queries)."""
    now = time.monotonic()
    with _due_lock:
        if now - _due_checked[0] < DUE_CHECK_SECONDS:
            return
        _due_checked[0] = now
    publication.start_if_due(engine(), settings().publication_days, _altair_lock)


def publish_now(username: str) -> bool:
    """The lead's "Publish to the board": a build in the background; False when one is already running."""
    return publication.start(engine(), username, _altair_lock)
