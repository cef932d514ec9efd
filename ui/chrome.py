"""Page furniture: the synthetic-data banner, page views in the audit trail,
and the 'chart, table, summary, download' block every chart comes with."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import accounts
from partnership.access import Viewer
from ui import data


def page_header(viewer: Viewer, page: str, title: str) -> dict[str, str]:
    """Title, synthetic banner and the page-view audit; returns db settings."""
    settings = data.db_settings()
    if settings.get("synthetic") == "true":
        st.warning(
            "**Synthetic demo data.** Every young person, team figure and indicator on these pages is "
            "made up by the demo generator; none is real.",
            icon=":material/science:",
        )
    st.title(title)
    show_flash()
    # One audit row per page visit, not per widget click.
    if st.session_state.get("_last_page") != page:
        st.session_state["_last_page"] = page
        with Session(data.engine()) as session:
            accounts.audit(session, viewer.username, "page_view", page)
            session.commit()
    return settings


def flash(message: str) -> None:
    """Show a message on the next run: used after a save, which reruns the
    page so every figure on it reflects what was just saved."""
    st.session_state["_flash"] = message
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message)


def _download(table: pl.DataFrame, filename: str, key: str) -> None:
    stamp = dt.date.today().isoformat()
    st.download_button(
        "Download CSV", table.write_csv(), file_name=f"{filename}_{stamp}.csv", mime="text/csv", key=f"dl_{key}"
    )


def table_block(table: pl.DataFrame, summary: str, filename: str, key: str) -> None:
    """A table with its one-line summary and a CSV of exactly what is shown."""
    st.markdown(summary)
    st.dataframe(table, hide_index=True, width="stretch")
    _download(table, filename, key)


def chart_block(chart: alt.TopLevelMixin | dict, table: pl.DataFrame, summary: str, filename: str, key: str) -> None:
    """A chart with its data as a table, a one-line summary and a CSV of
    exactly what is shown."""
    st.markdown(summary)
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        if isinstance(chart, dict):  # a Vega-Lite spec built once and cached
            st.vega_lite_chart(chart, width="stretch")
        else:
            st.altair_chart(chart, width="stretch")
    with table_tab:
        st.dataframe(table, hide_index=True, width="stretch")
    _download(table, filename, key)
