"""Team capacity across the EmPower localities: funded, filled, vacant,
agency and caseloads, by locality, team and role."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import capacity, queries, themes, wording
from partnership.access import ALL_ROLES
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "capacity")
settings = chrome.page_header(viewer, "capacity", "Team capacity")
board = chrome.board_publication(viewer)
as_of = board.as_of if board else queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of, cohort_filters=False)
version = data.staffing_version(settings)
threshold = data.settings().caseload_threshold
staffing = data.staffing(version, filters.locality_ids)
months = board.meta.months if board else sorted(staffing["month"].unique().to_list(), reverse=True)
if not months:
    st.info("No staffing has been recorded yet.")
    st.stop()

month_param = st.query_params.get("month")
default_month = next((m for m in months if m.strftime("%Y-%m") == month_param), months[0])
if month_param and month_param != default_month.strftime("%Y-%m"):
    st.warning(f"No staffing recorded for '{month_param}'; showing {default_month:%B %Y}.")
month = default_month
if not present.active():
    month = st.sidebar.selectbox("Month", months, index=months.index(default_month), format_func=lambda d: f"{d:%B %Y}")
if month != default_month:
    st.query_params["month"] = month.strftime("%Y-%m")
rows = capacity.month_of(staffing, month)
est = (
    board.part("establishment", month, filters.slice)
    if board
    else data.establishment(version, tuple(filters.locality_ids), month)
)
where = "across all localities" if filters.locality_label == "All localities" else f"in {filters.locality_label}"
st.caption(
    f"{filters.locality_label} · staffing for {month:%B %Y} · caseload threshold {threshold:g} cases per "
    "case-holding FTE"
    # Presenting, one line: England's figure is on the caseload chart.
    + ("" if present.active() and board else " (England 2025: 15.2)")
    + (f" · {chrome.figures_date(board, as_of)}" if board else "")
)

can_record = viewer.role in ("project_lead", "admin")


def _establishment() -> None:
    # Presenting: three parts (localities, teams, the fill-rate picture), each one screen.
    if present.part():
        tiles = est.tiles
        for col, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
            col.metric(label, value, help=help_text or None)
        t = est.totals
        st.subheader("By locality")
        chrome.table_block(
            est.by_locality,
            f"{t['posts']} funded posts {where} ({t['funded_fte']:g} FTE): {t['filled_fte']:g} filled by permanent "
            f"staff, {t['vacant_fte']:g} vacant, of which {t['agency_fte']:g} FTE covered by agency staff.",
            "establishment_locality",
            "est_loc",
        )
    if present.part():
        _by_team()
    if present.part():
        _fill_rate()


def _by_team() -> None:
    st.subheader("By team")
    st.caption("Posts shared by a locality's teams are shown as their own group.")
    chrome.table_block(
        est.by_team,
        f"{est.groups} groups: EmPower teams and each locality's shared posts.",
        "establishment_team",
        "est_team",
    )


def _fill_rate() -> None:
    st.subheader("Fill rate by team and role")
    chrome.chart_block(
        est.heatmap,
        est.by_role,
        "Each cell is a team's posts in one role; the number in the cell is the share filled by permanent staff."
        + "".join(f" {r['team']}, {r['role']}: *{themes.plain(r['note'])}*." for r in est.notes),
        "fill_rate_team_role",
        "heat",
    )


def _caseloads() -> None:
    chrome.section(
        board.part("caseloads", month, filters.slice)
        if board
        else data.caseload_section(version, filters.visible_ids, viewer.suppressed, month, filters.slice),
        "caseloads_",
    )


def _trend() -> None:
    st.caption("Every month recorded, whatever the period chosen; the month chosen applies to the other tabs.")
    trend_views = [
        (
            "Vacancy rate",
            "vacancy_rate",
            "Vacancy rate (%)",
            True,
            None,
            f"Vacant FTE as a share of vacant plus filled FTE, month by month, {where}.",
            "vacancy_trend",
            "vac",
        ),
        (
            "Agency rate",
            "agency_rate",
            "Agency rate (%)",
            True,
            None,
            "Agency FTE as a share of agency plus filled FTE.",
            "agency_trend",
            "agency",
        ),
        (
            "Caseload per case-holding FTE",
            "caseload",
            "Cases per FTE",
            False,
            threshold,
            f"The dashed line is the threshold of {threshold:g}.",
            "caseload_trend",
            "cl",
        ),
    ]
    for heading, column, label, percent, rule, summary, filename, key in trend_views:
        if not present.part():
            continue
        st.subheader(heading)
        spec, table = (
            board.part("trend", filters.slice, column)
            if board
            else data.capacity_trend_chart(
                version, filters.visible_ids, viewer.suppressed, filters.slice, column, label, rule, percent
            )
        )
        chrome.chart_block(spec, table, summary, filename, key)
    comparison = (
        board.part("workforce", month, filters.slice)
        if board
        else data.workforce_comparison(
            version, tuple(filters.locality_ids), filters.visible_ids, viewer.suppressed, month, filters.slice
        )
    )
    if comparison is not None and present.part():
        st.subheader("Beside England, our region and our statistical neighbours")
        chrome.table_block(
            comparison,
            "Published figures are for all children's social workers (DfE workforce statistics); "
            "ours are the EmPower posts in view.",
            "workforce_comparison",
            "wf",
        )


def _what_if() -> None:
    st.subheader("What if vacancies were filled or posts added?")
    start, saved = data.what_if(version, tuple(filters.locality_ids), month)
    can_try = viewer.role in ("project_lead", "admin", "manager")
    if not can_try:
        st.info(
            "The project lead and locality managers try scenarios here. "
            + (
                f"{len(saved)} saved {wording.plural(len(saved), 'scenario is', 'scenarios are')} listed below."
                if saved
                else "None has been saved yet."
            ),
            icon=":material/info:",
        )
    else:
        st.caption(
            "Type into the table: the results below change as you type. Nothing is saved"
            + (
                "; to keep a scenario, name it in the form under the results."
                if viewer.role == "project_lead"
                else ". The project lead can save a scenario by name."
            )
        )
        editor = st.data_editor(
            start,
            hide_index=True,
            disabled=["Team"],
            key="whatif",
            column_config={
                "Vacancies filled (FTE)": st.column_config.NumberColumn(min_value=0.0, max_value=10.0, step=0.5),
                "New case-holding posts (FTE)": st.column_config.NumberColumn(min_value=0.0, max_value=10.0, step=0.5),
            },
        )
        edited = pl.DataFrame(editor) if not isinstance(editor, pl.DataFrame) else editor
        trial = capacity.WhatIf(
            {r["Team"]: float(r["Vacancies filled (FTE)"] or 0) for r in edited.to_dicts()},
            {r["Team"]: float(r["New case-holding posts (FTE)"] or 0) for r in edited.to_dicts()},
        )
        projected = capacity.project(rows, trial)
        st.dataframe(
            projected.select(
                pl.col("team").alias("Team"),
                pl.col("cases").alias("Cases"),
                pl.col("caseload_now").round(1).alias("Cases per FTE now"),
                pl.col("vacancies_filled").alias("Vacancies filled"),
                pl.col("posts_added").alias("Posts added"),
                pl.col("caseload_then").round(1).alias("Cases per FTE in this scenario"),
            ),
            hide_index=True,
        )
        if viewer.role == "project_lead":
            with st.form("save_scenario"):
                name = st.text_input("Scenario name")
                if not st.form_submit_button("Save as a scenario"):
                    pass
                elif not (any(trial.fill.values()) or any(trial.add.values())):
                    st.error("Nothing to save yet: fill a vacancy or add a post in the table first.")
                else:
                    try:
                        with Session(data.engine()) as session:
                            capacity.save_scenario(session, name, month, None, trial, viewer.username)
                            session.commit()
                    except ValueError as exc:
                        st.error(str(exc))
                    else:
                        chrome.flash(f"Saved scenario '{themes.plain(name.strip())}'.")
    if saved:
        st.subheader("Saved scenarios")
        for scenario in saved:
            with st.container(border=True):
                # The name is typed by the lead: shown as typed, never read as Markdown.
                st.markdown(
                    f"**SCENARIO: {themes.plain(scenario.name)}** — not recorded staffing; saved by "
                    f"{themes.plain(scenario.created_by)} for {scenario.month:%B %Y}, applied here to {month:%B %Y}."
                )
                if viewer.suppressed:
                    # A team's caseload is its cases over its FTE: at board level only the disclosure step
                    # releases it (the Caseloads tab), so a scenario shows the board what it changes.
                    st.dataframe(scenario.changes, hide_index=True)
                    st.caption("Caseloads under a scenario are shown to the project lead and managers.")
                    continue
                st.dataframe(scenario.caseloads, hide_index=True)


def _record() -> None:
    st.subheader("Record or correct a month")
    st.caption("Every save is one transaction and is audited; earlier figures are kept as history.")
    next_month = (months[0] + dt.timedelta(days=32)).replace(day=1)
    # A month can be recorded once it has begun, never ahead of time.
    choices = [*months, *([next_month] if next_month <= dt.date.today() else [])]
    target = st.selectbox(
        "Month to record",
        choices,
        format_func=lambda d: f"{d:%B %Y}" + (" (new)" if d == next_month else ""),
        key="record_month",
    )
    base = capacity.post_labels(capacity.month_of(staffing, target if target != next_month else months[0]))
    group = st.selectbox("Team or group", base["team"].unique(maintain_order=True).to_list(), key="record_team")
    mine = base.filter(pl.col("team") == group)
    edited = st.data_editor(
        mine.select(
            pl.col("label").alias("Post"),
            pl.col("funded_fte").alias("Funded FTE"),
            pl.col("filled_fte").alias("Filled FTE"),
            pl.col("agency_fte").alias("Agency FTE"),
            pl.col("vacant_fte").alias("Vacant FTE"),
            pl.col("cases_held").alias("Cases held"),
        ),
        hide_index=True,
        disabled=["Post", "Funded FTE"],
        key=f"record_{target}_{group}",
    )
    edited_rows = (pl.DataFrame(edited) if not isinstance(edited, pl.DataFrame) else edited).to_dicts()
    if st.button("Save month", type="primary"):
        snapshot_rows = [
            capacity.SnapshotRow(
                int(p),
                r["Post"],
                float(r["Funded FTE"]),
                r["Filled FTE"],
                r["Agency FTE"],
                r["Vacant FTE"],
                r["Cases held"],
            )
            for p, r in zip(mine["post_id"].to_list(), edited_rows, strict=True)
        ]
        try:
            with Session(data.engine()) as session:
                written = capacity.save_month(session, target, snapshot_rows, viewer.username)
                session.commit()
            st.success(
                f"Saved: {written} {wording.plural(written, 'post')} changed for {target:%B %Y}."
                if written
                else "Nothing changed; nothing saved."
            )
        except ValueError as exc:
            st.error("Nothing was saved. Please correct:\n\n" + "\n".join(f"- {p}" for p in str(exc).split("\n")))
        else:
            chrome.flash(
                f"Saved: {written} {wording.plural(written, 'post')} changed for {target:%B %Y}."
                if written
                else "Nothing changed; nothing saved."
            )
    st.markdown("**History of a post this month**")
    post = st.selectbox("Post", mine["label"].to_list(), key="history_post")
    with Session(data.engine()) as session:
        hist = capacity.history(session, int(mine.filter(pl.col("label") == post)["post_id"][0]), target)
    if hist.height:
        st.dataframe(hist, hide_index=True)
    else:
        st.caption("No figures recorded for this month yet.")


present.sections(
    "capacity",
    [
        ("establishment", "Establishment", _establishment),
        ("caseloads", "Caseloads", _caseloads),
        ("trend", "Trend", _trend),
        ("what_if", "What if", _what_if),
        *([("record", "Record a month", _record)] if can_record else []),
    ],
    editing=frozenset({"what_if", "record"}),
)
