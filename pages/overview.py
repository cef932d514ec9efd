"""Overview: headline figures across the partnership."""

from __future__ import annotations

import polars as pl
import streamlit as st

from partnership import charts, queries
from partnership.access import ALL_ROLES
from partnership.progress import STATUS_LABELS
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "overview")
settings = chrome.page_header(viewer, "overview", "Overview")
as_of = queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of)
version = settings.get("data_version", "0")
ov = data.overview_figures(
    version, tuple(filters.locality_ids), filters.cohort, filters.period, viewer.suppressed, as_of
)

st.caption(
    f"{filters.locality_label} · {filters.period_label} · figures as of {as_of:%d %B %Y}"
    + (" · counts from 1 to 5 are shown as **c** (fewer than 6)" if viewer.suppressed else "")
)

PAGE_FILES = {
    "cohort": ("pages/cohort.py", "Cohort flow across 18"),
    "capacity": ("pages/capacity.py", "Team capacity"),
}


def _overview() -> None:
    cols = st.columns(3)
    for i, fig in enumerate(ov.figures):
        with cols[i % 3], st.container(border=True):
            st.metric(fig.label, fig.value)
            st.caption(fig.detail)
            if fig.link in PAGE_FILES:
                path, title = PAGE_FILES[fig.link]
                # Carry the filters over, so the linked page shows the same view.
                st.page_link(
                    path,
                    label=f"See {title.lower()}",
                    icon=":material/arrow_forward:",
                    query_params=dict(st.query_params),
                )

    st.subheader("Open to children's services aged 16-17, by locality")
    open_table = ov.open_16_17.rename({"locality": "Locality", "young_people": "Young people aged 16-17"})
    total = open_table.filter(pl.col("Locality") == "Total")["Young people aged 16-17"]
    where = "across all localities" if filters.locality_label == "All localities" else f"in {filters.locality_label}"
    if open_table.height <= 1:
        st.info(f"No young people aged 16-17 are open to children's services {where} with these filters.")
    else:
        shown_total = "fewer than 6" if total[0] == "c" else total[0]
        chrome.chart_block(
            charts.count_bars(open_table, "Locality", "Young people aged 16-17", "Young people aged 16-17"),
            open_table,
            f"**{shown_total}** young people aged 16-17 are open to children's services {where}; "
            "all of them turn 18 within two years.",
            "overview_open_16_17",
            "open",
        )

    st.subheader("The four themes")
    st.page_link(
        "pages/themes.py",
        label="See programme progress by theme",
        icon=":material/arrow_forward:",
        query_params=dict(st.query_params),
    )
    if ov.themes is not None and not ov.themes.is_empty():
        counts = ov.themes.group_by("status").len()
        st.markdown(" · ".join(f"**{row['len']}** {row['status'].lower()}" for row in counts.sort("status").to_dicts()))
        for row in ov.themes.to_dicts():
            with st.container(border=True):
                st.markdown(f"**Theme {row['theme']}: {row['title']}** — {row['status']}")
                st.caption(row["reason"])
        st.caption(
            "Status rule: on track if the trend, projected to the target date (or the latest value once it "
            "has passed), meets the target; at risk if short by no more than a quarter of the distance from "
            f"baseline to target; off track otherwise; {STATUS_LABELS['not_measurable'].lower()} with fewer "
            "than three values."
        )


present.sections("overview", [("overview", "Overview", _overview)])
