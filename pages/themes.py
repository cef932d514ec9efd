"""Theme-by-theme progress against the programme's intended impacts."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import progress, queries, themes
from partnership.access import ALL_ROLES
from partnership.wording import capital
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "themes")
settings = chrome.page_header(viewer, "themes", "Programme progress by theme")
board = chrome.board_publication(viewer)
as_of = board.as_of if board else queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of, cohort_filters=False)
version = settings.get("data_version", "0")
today = dt.date.today()
if board:
    page = board.part("themes", filters.slice)
    _milestones, milestone_charts = board.part("milestones")
    chart_specs = board.part("indicator_specs", filters.slice)
    status_grid = board.part("status_grid", filters.slice)
else:
    page = data.themes_page(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice, today)
    _milestones, milestone_charts = data.milestone_specs(version, today)
    chart_specs = data.indicator_chart_specs(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice)
    status_grid = data.status_grid_spec(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice)
views, titles, short_titles, summary, commentary = (
    page.views,
    page.titles,
    page.short_titles,
    page.summary,
    page.commentary,
)

tolerance = data.settings().status_tolerance
status_rule = progress.STATUS_RULE.format(tolerance=tolerance)
st.caption(
    (f"{capital(chrome.figures_date(board, as_of))}. " if board else "")
    + (
        f"Computed indicators follow the locality filter ({filters.locality_label}), by quarter."
        if present.active() and board
        else f"Indicators computed from the cohort follow the locality filter ({filters.locality_label}) and are by "
        "quarter, whatever the period; entered ones cover the partnership."
    )
    # Presenting, the rule is said with the theme cards rather than on every screen.
    + ("" if present.active() else f" {status_rule}")
)

can_record = viewer.role in ("project_lead", "admin")


def _summary() -> None:
    themes_sentence = f"Of the four themes: **{page.status_words}**."
    if not present.active():
        st.markdown(themes_sentence)
    on = sum(v.status.status == "on_track" for v in views)
    if present.part():
        chrome.chart_block(
            status_grid,
            page.grid_table,
            f"Every indicator at a glance: {on} of {len(views)} on track. Each panel is one indicator, tinted by its "
            "status, with its values by quarter as a line (a gap where a quarter is not shown).",
            "programme_status_grid",
            "status_grid",
        )
    cards = summary.sort("theme").to_dicts()
    if present.part():
        presenting = present.active()
        if presenting:
            # Presenting, the status rule is said here rather than in the page's caption on every screen.
            st.markdown(themes_sentence)
            st.caption(status_rule)
        # Presenting, all four on one screen, two to a row, without the impacts (each theme's own step has them).
        # A row of columns per pair, so the themes read 1, 2, 3, 4 (columns filled in turn would read 1, 3, 2, 4).
        per_row = 2 if presenting else 1
        for i, row in enumerate(cards):
            if i % per_row == 0:
                cols = st.columns(per_row)
            with cols[i % per_row], st.container(border=True):
                # Presenting, the short titles the Overview uses: the full ones head each theme's own step.
                title = short_titles[row["theme"]] if presenting else row["title"]
                st.markdown(f"**Theme {row['theme']}: {themes.plain(title)}**")
                st.markdown(f"Status: **{row['status']}** — {themes.plain(row['reason'])}")
                if not presenting:
                    for text in page.impacts[row["theme"]]:
                        st.caption(text)
    if present.active():  # the cards above, again as a table: for the page, not the projector
        return
    chrome.table_block(page.summary_table, "The same, as a table.", "programme_summary", "summary")


def _theme(number: int) -> None:
    row = summary.filter(pl.col("theme") == number).row(0, named=True)
    st.subheader(f"Theme {number}: {titles[number]}")
    st.markdown(f"**Status: {row['status']}** — {row['reason']}")
    mine = [v for v in views if v.theme == number]
    if present.part():
        left, right = st.columns([3, 2])
        with left:
            st.markdown("**Intended impact** (in the project's own words)")
            for text in page.impacts[number]:
                st.markdown(f"> {themes.plain(text)}")
        # Presenting, long commentary scrolls inside its box rather than push the indicators off the screen.
        with right, st.container(border=True, height=320 if present.active() else "content"):
            st.markdown("**Commentary from the project lead**")
            if number in commentary:
                period, text, author = commentary[number]
                st.caption(f"{period.year} Q{(period.month - 1) // 3 + 1}, by {author}")
                st.markdown(themes.plain(text))
            else:
                st.caption("No commentary yet.")
    # Presenting, the indicator table is a screen of its own and each indicator's chart another.
    if present.part():
        chrome.table_block(
            page.indicator_tables[number],
            f"{len(mine)} indicators; {sum(v.status.status == 'on_track' for v in mine)} on track.",
            f"theme_{number}_indicators",
            f"ind_{number}",
        )
    for view in mine:
        if present.part():
            _indicator(view)
    if present.part():
        st.markdown("**Milestones**")
        ms = page.milestone_tables[number]
        chrome.chart_block(
            milestone_charts[number],
            ms,
            f"{ms.height} milestones, {page.late[number]} late (late ones first).",
            f"theme_{number}_milestones",
            f"ms_{number}",
        )


def _indicator(view: themes.IndicatorView) -> None:
    st.markdown(f"**{view.name}**")
    if not page.drawn[view.code]:
        st.caption(
            "No values to draw yet" + (" (all hidden to protect small counts)" if view.series.height else "") + "."
        )
        return
    hidden = page.hidden_quarters[view.code]
    chrome.chart_block(
        chart_specs[view.code],
        page.series_tables[view.code],
        themes.indicator_sentence(view),
        f"indicator_{view.code}",
        f"ind_chart_{view.code}",
    )
    if hidden:
        st.caption(
            f"{hidden} {'quarter is' if hidden == 1 else 'quarters are'} not shown (c: to protect confidentiality): "
            "the line has a gap there. Direction and status are worked out from the quarters shown."
        )
    if view.measure:
        st.page_link(
            "pages/definitions.py",
            label="How this indicator is worked out",
            icon=":material/menu_book:",
            query_params={"measure": view.measure},
        )


def _record() -> None:
    entered = [v for v in views if v.source == "entered"]
    # Default to the last quarter that has ended: the one figures are usually entered for.
    q_start = dt.date(today.year, today.month - (today.month - 1) % 3, 1) - dt.timedelta(days=1)
    last_quarter = f"{q_start.year}-Q{(q_start.month - 1) // 3 + 1}"
    st.subheader("Enter or correct a value")
    st.caption("A correction adds a new version; earlier versions are kept and every change is audited.")
    names = {v.code: v.name for v in entered}
    with st.form("record_value"):
        code = st.selectbox("Indicator", list(names), format_func=names.__getitem__)
        period = st.text_input("Quarter (e.g. 2026-Q3)", value=last_quarter)
        value = st.text_input("Value")
        note = st.text_input("Note (optional)")
        if st.form_submit_button("Save value", type="primary"):
            try:
                with Session(data.engine()) as session:
                    saved = themes.record_value(session, code, period, value, note, viewer.username, today)
                    session.commit()
                    saved_version = saved.version
            except ValueError as exc:
                st.error(f"Not saved. {exc}")
            else:
                chrome.flash(f"Saved version {saved_version} for {period}.")
    with Session(data.engine()) as session:
        history = themes.value_history(session, code)
    st.markdown(f"**History: {names[code]}**")
    st.dataframe(history, hide_index=True, width="stretch")

    st.subheader("Commentary")
    with st.form("commentary"):
        theme_number = st.selectbox("Theme", sorted(titles), format_func=lambda n: f"Theme {n}")
        c_period = st.text_input("Quarter", value=last_quarter, key="c_q")
        text = st.text_area("Commentary (plain text)", max_chars=themes.MAX_COMMENTARY)
        if st.form_submit_button("Save commentary"):
            try:
                with Session(data.engine()) as session:
                    themes.save_commentary(session, theme_number, c_period, text, viewer.username, today)
                    session.commit()
            except ValueError as exc:
                st.error(f"Not saved. {exc}")
            else:
                chrome.flash("Commentary saved.")


present.sections(
    "themes",
    [
        ("summary", "Programme summary", _summary),
        *[(f"theme{n}", f"Theme {n}", functools.partial(_theme, n)) for n in sorted(titles)],
        *([("record", "Record values", _record)] if can_record else []),
    ],
    editing=frozenset({"record"}),
)
