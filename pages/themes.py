"""Theme-by-theme progress against the programme's intended impacts."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import progress, queries, themes
from partnership.access import ALL_ROLES
from partnership.disclosure import SUPPRESSED
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "themes")
settings = chrome.page_header(viewer, "themes", "Programme progress by theme")
as_of = queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of, cohort_filters=False)
version = settings.get("data_version", "0")
views = data.indicator_views(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice)
impacts = queries.load_impacts(data.engine())
titles = dict(zip(impacts["theme"], impacts["title"], strict=False))
summary = themes.theme_summary(views, titles)
today = dt.date.today()
milestones, milestone_charts = data.milestone_specs(version, today)
chart_specs = data.indicator_chart_specs(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice)
with Session(data.engine()) as session:
    commentary = themes.latest_commentary(session)

tolerance = data.settings().status_tolerance
st.caption(
    f"Indicators computed from the cohort follow the locality filter ({filters.locality_label}) and are by "
    "quarter, whatever the period; entered ones cover the partnership. "
    + progress.STATUS_RULE.format(tolerance=tolerance)
)

can_record = viewer.role in ("project_lead", "admin")


def _summary() -> None:
    counts = summary.group_by("status").len()
    count_words = ", ".join(f"{r['len']} {r['status'].lower()}" for r in counts.sort("status").to_dicts())
    st.markdown(f"Of the four themes: **{count_words}**.")
    on = sum(v.status.status == "on_track" for v in views)
    ordered = sorted(views, key=lambda v: v.theme)  # the grid's order
    chrome.chart_block(
        data.status_grid_spec(version, filters.visible_ids, viewer.suppressed, as_of, filters.slice),
        themes.indicator_table(ordered)
        .with_columns(Theme=pl.Series([v.theme for v in ordered]))
        .select("Theme", "Indicator", "Status", "Latest", "Direction"),
        f"Every indicator at a glance: {on} of {len(views)} on track. Each panel is one indicator, tinted by its "
        "status, with its values by quarter as a line (a gap where a quarter is not shown).",
        "programme_status_grid",
        "status_grid",
    )
    for row in summary.sort("theme").to_dicts():
        with st.container(border=True):
            st.markdown(f"**Theme {row['theme']}: {themes.plain(row['title'])}**")
            st.markdown(f"Status: **{row['status']}** — {themes.plain(row['reason'])}")
            for text in impacts.filter(pl.col("theme") == row["theme"])["text"]:
                st.caption(text)
    table = (
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
        )
    )
    chrome.table_block(table, "The same, as a table.", "programme_summary", "summary")


def _theme(number: int) -> None:
    row = summary.filter(pl.col("theme") == number).row(0, named=True)
    st.subheader(f"Theme {number}: {titles[number]}")
    st.markdown(f"**Status: {row['status']}** — {row['reason']}")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Intended impact** (in the project's own words)")
        for text in impacts.filter(pl.col("theme") == number)["text"]:
            st.markdown(f"> {themes.plain(text)}")
    with right, st.container(border=True):
        st.markdown("**Commentary from the project lead**")
        if number in commentary:
            period, text, author = commentary[number]
            st.caption(f"{period.year} Q{(period.month - 1) // 3 + 1}, by {author}")
            st.markdown(themes.plain(text))
        else:
            st.caption("No commentary yet.")
    mine = [v for v in views if v.theme == number]
    chrome.table_block(
        themes.indicator_table(mine),
        f"{len(mine)} indicators; {sum(v.status.status == 'on_track' for v in mine)} on track.",
        f"theme_{number}_indicators",
        f"ind_{number}",
    )
    for view in mine:
        st.markdown(f"**{view.name}**")
        if view.series.drop_nulls("value").is_empty():
            st.caption(
                "No values to draw yet" + (" (all hidden to protect small counts)" if view.series.height else "") + "."
            )
            continue
        hidden = view.series.filter(pl.col("shown") == SUPPRESSED).height
        chrome.chart_block(
            chart_specs[view.code],
            view.series.select(pl.col("period").alias("Quarter starting"), pl.col("shown").alias("Value")),
            themes.indicator_sentence(view),
            f"indicator_{view.code}",
            f"ind_chart_{view.code}",
        )
        if hidden:
            st.caption(
                f"{hidden} {'quarter is' if hidden == 1 else 'quarters are'} not shown (too few young people): the "
                "line has a gap there. Direction and status are worked out from every quarter, the same for everyone."
            )
        if view.measure:
            st.page_link(
                "pages/definitions.py",
                label="How this indicator is worked out",
                icon=":material/menu_book:",
                query_params={"measure": view.measure},
            )
    st.markdown("**Milestones**")
    ms = milestones.filter(pl.col("theme") == number)
    late = ms.filter(pl.col("status") == "Late").height
    chrome.chart_block(
        milestone_charts[number],
        ms.select(
            pl.col("title").alias("Milestone"),
            pl.col("owner").alias("Owner"),
            pl.col("due").alias("Due"),
            pl.col("status").alias("Status"),
        ),
        f"{ms.height} milestones, {late} late (late ones first).",
        f"theme_{number}_milestones",
        f"ms_{number}",
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
