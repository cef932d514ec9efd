"""The one filter bar, shared by every page. Its state lives in the URL
(st.query_params) so a link reproduces a view; a manager's locality is fixed
by their account and a URL cannot widen it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import streamlit as st

from partnership.access import Viewer, scope_localities
from partnership.metrics import CohortFilter, default_period, period_options
from partnership.themes import plain

SEND_OPTIONS = {"all": "Everyone", "send": "With SEND", "no_send": "Without SEND"}
CARE_OPTIONS = {"all": "Everyone", "care_experienced": "Care experienced", "not_care": "Not care experienced"}
EXPLOITATION_OPTIONS = {
    "all": "Any",
    "cce": "Criminal exploitation",
    "cse": "Sexual exploitation",
    "gangs": "Gangs",
    "trafficking": "Trafficking",
    "missing": "Going missing",
}


# Session key of the filters the bar settled on in this run:
# (name -> URL value, name -> words for a download's notes).
IN_FORCE = "_filters_in_force"


@dataclass(frozen=True)
class Filters:
    locality_ids: list[int]  # the localities chosen
    locality_label: str
    period: str
    period_label: str
    cohort: CohortFilter
    visible_ids: tuple[int, ...] = ()  # every locality the viewer may see: the scope figures are released over
    slice: str = "all"  # the chosen locality's name, or "all"


def _param(name: str, options: dict[str, str], default: str, problems: list[str]) -> str:
    value = st.query_params.get(name, default)
    if value not in options:
        shown = options[default].lower() if default == "all" else options[default]
        problems.append(f"'{plain(value)}' is not a valid {name}; showing {shown} instead.")
        return default
    return value


def _select(label: str, options: dict[str, str], current: str, disabled: bool = False) -> str:
    # No widget key on purpose: the index comes from the URL, so opening a
    # shared link (or going back) always shows what the link says.
    keys = list(options)
    chosen = st.selectbox(label, keys, index=keys.index(current), format_func=options.__getitem__, disabled=disabled)
    return str(chosen)


def filter_bar(viewer: Viewer, localities: pl.DataFrame, as_of: dt.date, cohort_filters: bool = True) -> Filters:
    problems: list[str] = []
    codes = {row["code"]: row for row in localities.to_dicts()}
    loc_options = {"all": "All localities", **{c: r["name"] for c, r in codes.items()}}
    periods = period_options(as_of, rolling=not viewer.suppressed)
    default = default_period(as_of)
    own = next((c for c, r in codes.items() if r["id"] == viewer.locality_id), "all")
    manager = viewer.role == "manager"
    # A manager's link that names no locality we know is answered with what they do see: their own.
    loc = _param("locality", loc_options, own if manager else "all", problems)
    if manager:
        if loc not in (own, "all"):
            problems.append(f"You can see {codes[own]['name']} only; the link asked for {loc_options[loc]}.")
        loc = own
    period = _param("period", periods, default, problems)
    # Board-level views show the whole cohort: a figure for everyone beside the
    # same figure for a group would give the rest of the cohort by subtraction.
    # Breakdowns by SEND, care status and exploitation are in the tables that show them.
    cohort_filters = cohort_filters and not viewer.suppressed
    send = _param("send", SEND_OPTIONS, "all", problems) if cohort_filters else "all"
    care = _param("care", CARE_OPTIONS, "all", problems) if cohort_filters else "all"
    expl = _param("exploitation", EXPLOITATION_OPTIONS, "all", problems) if cohort_filters else "all"

    parsed = {"locality": loc, "period": period, "send": send, "care": care, "exploitation": expl}
    # Presenting: the view's filters come from the link or story, and no
    # widget is drawn (the sidebar is hidden, and nothing hidden should act).
    if st.query_params.get("present") != "1":
        with st.sidebar:
            st.subheader("Filters")
            loc = _select("Locality", loc_options, loc, disabled=viewer.role == "manager")
            period = _select("Period", periods, period)
            if cohort_filters:
                send = _select("SEND", SEND_OPTIONS, send)
                care = _select("Care status", CARE_OPTIONS, care)
                expl = _select("Exploitation", EXPLOITATION_OPTIONS, expl)
            elif viewer.suppressed:
                st.caption(
                    "Board views show calendar years and the whole cohort; breakdowns by SEND, care status "
                    "and exploitation are in the tables that show them."
                )
    # A refused or unknown value stays in the URL, with its warning, until the
    # viewer picks something else: the page never silently rewrites a link.
    for problem in problems:
        st.warning(problem)
    chosen = {"locality": loc, "period": period, "send": send, "care": care, "exploitation": expl}
    for key, value in chosen.items():
        if value == parsed[key]:
            continue
        if value == (default if key == "period" else "all"):
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value
    # What is in force, for the names and notes of downloads: recorded here so
    # a file never describes a view other than the one the bar settled on.
    words = {
        "locality": "Locality: " + (codes[loc]["name"] if loc in codes else "all localities"),
        "period": "Period: " + (period if period.isdigit() else periods[period].lower()),
    }
    named = {"locality": loc, "period": period}
    for name, value, (label, options) in (
        ("send", send, ("SEND", SEND_OPTIONS)),
        ("care", care, ("Care status", CARE_OPTIONS)),
        ("exploitation", expl, ("Exploitation", EXPLOITATION_OPTIONS)),
    ):
        if value != "all":
            named[name] = value
            words[name] = f"{label}: {options[value].lower()}"
    st.session_state[IN_FORCE] = (named, words)
    requested = None if loc == "all" else [codes[loc]["id"]]
    every = [r["id"] for r in codes.values()]
    ids = scope_localities(viewer, requested, every)
    visible = tuple(scope_localities(viewer, None, every))
    return Filters(
        ids,
        loc_options[loc],
        period,
        periods[period],
        CohortFilter(send, care, expl),
        visible,
        "all" if loc == "all" else codes[loc]["name"],
    )
