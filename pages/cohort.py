"""Cohort flow across 18: who crosses, to what, after how long, and how they fare."""

from __future__ import annotations

import functools

import streamlit as st

from partnership import queries
from partnership.access import ALL_ROLES
from partnership.wording import small_counts_rule
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "cohort")
settings = chrome.page_header(viewer, "cohort", "Cohort flow across 18")
board = chrome.board_publication(viewer)
as_of = board.as_of if board else queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of)
threshold = board.header.threshold if board else data.settings().suppression_threshold
built = (
    board.part("cohort", filters.period, filters.slice)
    if board
    else data.cohort_sections(
        settings.get("data_version", "0"),
        filters.visible_ids,
        filters.cohort,
        viewer.suppressed,
        as_of,
        filters.period,
        filters.slice,
        viewer.can_see_rows,
    )
)
st.caption(
    f"{filters.locality_label} · 18th birthdays in {filters.period_label.lower()} · {chrome.figures_date(board, as_of)}"
    + (f" · {small_counts_rule(threshold, short=present.active())}" if viewer.suppressed else "")
)

present.sections(
    "cohort",
    [
        (slug, label, functools.partial(chrome.section, built[slug], f"{slug}_"))
        for slug, label in (
            ("flow", "Flow across 18"),
            ("age", "Cohort by age"),
            ("gap", "The gap"),
            ("outcomes", "Outcomes at 19-21"),
            ("risk", "Shared view of risk"),
            ("representation", "Who is over-represented"),
        )
    ],
)
