"""Overview: headline figures across the partnership, each the same released
figure its own page shows, each linked to how it is worked out."""

from __future__ import annotations

import polars as pl
import streamlit as st

from partnership import queries
from partnership.access import ALL_ROLES
from partnership.progress import STATUS_RULE
from partnership.wording import small_counts_rule
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "overview")
settings = chrome.page_header(viewer, "overview", "Overview")
board = chrome.board_publication(viewer)
as_of = board.as_of if board else queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of)
cards, open_block, theme_statuses = (
    board.part("overview", filters.period, filters.slice)
    if board
    else data.overview(
        settings.get("data_version", "0"),
        filters.visible_ids,
        filters.cohort,
        viewer.suppressed,
        as_of,
        filters.period,
        filters.slice,
    )
)
threshold = board.header.threshold if board else data.settings().suppression_threshold
st.caption(
    f"{filters.locality_label} · {filters.period_label} · {chrome.figures_date(board, as_of)}"
    + (f" · {small_counts_rule(threshold, short=present.active())}" if viewer.suppressed else "")
)

PAGE_FILES = {
    "cohort": ("pages/cohort.py", "Cohort flow across 18"),
    "capacity": ("pages/capacity.py", "Team capacity"),
}


def _overview() -> None:
    if present.part():
        _cards()
    if present.part():
        _localities()
    if present.part():
        st.subheader(open_block.heading)
        chrome.chart_block(open_block.chart, open_block.table, open_block.sentence, open_block.filename, "open")
    if present.part():
        _themes()


def _cards() -> None:
    for i, card in enumerate(cards):
        if i % 3 == 0:  # a row of columns per three cards, so they read across, in order
            cols = st.columns(3)
        with cols[i % 3], st.container(border=True):
            st.metric(card.label, card.value, delta=card.delta, delta_color=card.delta_color)  # type: ignore[arg-type]
            st.caption(card.detail)
            with st.container(horizontal=True, gap="small"):
                path, title = PAGE_FILES[card.page]
                # Carry the filters over, so the linked page shows the same view.
                st.page_link(
                    path,
                    label=f"See {title.lower()}",
                    icon=":material/arrow_forward:",
                    query_params=dict(st.query_params),
                )
                st.page_link(
                    "pages/definitions.py",
                    label="How it is worked out",
                    icon=":material/menu_book:",
                    query_params={"measure": card.measure},
                )


def _cards_of(slice_: str) -> list:
    """The overview's cards for one locality (or "all"), from the same release as the chosen view's."""
    if board:
        return board.part("overview", filters.period, slice_)[0]
    version = settings.get("data_version", "0")
    return data.overview(
        version, filters.visible_ids, filters.cohort, viewer.suppressed, as_of, filters.period, slice_
    )[0]


def _cell(value: str, delta: str | None) -> str:
    # A card says in words what it does not show; a table cell says c, as the caption's legend does.
    if "not shown" in value or value.startswith("fewer than"):
        return "c"
    return value + (f" ({delta})" if delta else "")


def _localities() -> None:
    """Which locality needs attention: every headline figure side by side, each as
    that locality's own overview shows it (no new figure, so nothing new to hide)."""
    names = [r["name"] for r in data.localities().to_dicts() if r["id"] in filters.visible_ids]
    if len(names) < 2:
        return
    columns = {name: _cards_of(name) for name in names}
    columns["All localities"] = _cards_of("all")
    labels = [card.label for card in columns["All localities"]]
    rows = {"Measure": labels}
    for name, shown in columns.items():
        by_label = {card.label: _cell(card.value, card.delta) for card in shown}
        rows[name] = [by_label.get(label, "") for label in labels]
    st.subheader("Localities side by side")
    chrome.table_block(
        pl.DataFrame(rows),
        f"Each locality's headline figures for {filters.period_label.lower()}, as its own overview shows them; "
        "in brackets, the change on the same period a year before. c: not shown to protect confidentiality.",
        "localities_side_by_side",
        "side_by_side",
    )


def _themes() -> None:
    st.subheader("The four themes")
    st.page_link(
        "pages/themes.py",
        label="See programme progress by theme",
        icon=":material/arrow_forward:",
        query_params=dict(st.query_params),
    )
    if not theme_statuses.is_empty():
        counts = theme_statuses.group_by("status").len()
        st.markdown(" · ".join(f"**{row['len']}** {row['status'].lower()}" for row in counts.sort("status").to_dicts()))
        # Two to a row: four full-width cards ran past a projector's screen.
        # A row of columns per pair, so the themes read in order, 1, 2, 3, 4.
        for i, row in enumerate(theme_statuses.to_dicts()):
            if i % 2 == 0:
                cols = st.columns(2)
            with cols[i % 2], st.container(border=True):
                st.markdown(f"**Theme {row['theme']}: {row['title']}** — {row['status']}")
                st.caption(row["reason"])
        st.caption(STATUS_RULE.format(tolerance=data.settings().status_tolerance))


present.sections("overview", [("overview", "Overview", _overview)])
