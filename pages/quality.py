"""Data quality (project lead and administrators): how complete each table
is, field by field; the last import from each source; the last refused one."""

from __future__ import annotations

import polars as pl
import streamlit as st

from partnership import quality, queries
from partnership.wording import plural
from ui import chrome, data
from ui.auth import guard
from ui.problems import problem_list

viewer = guard({"admin", "project_lead"})
chrome.page_header(viewer, "quality", "Data quality")
engine = data.engine()
st.caption("Counts of rows in whole tables, across every locality; nothing here is about one young person.")

st.subheader("Last refused import")
rejection = quality.last_rejection(engine)
if rejection is None:
    st.success("No import has been refused yet.", icon=":material/check_circle:")
else:
    st.error(
        f"**{rejection.source}**, {rejection.when}, by {rejection.by}. {rejection.summary}.",
        icon=":material/block:",
    )
    shown = (
        f"The first {rejection.shown} of {rejection.total} problems"
        if rejection.shown < rejection.total
        else f"All {rejection.total} {plural(rejection.total, 'problem')}"
    )
    problem_list(
        rejection.problems,
        f"{shown}, by file, row (line of the file) and field. Nothing from this import was written. "
        "Children's ids and dates of birth are masked.",
        "last_rejected_import",
        "rejection",
    )

st.subheader("Last import from each source")
imports = quality.last_imports(engine)
if imports.is_empty():
    st.info("Nothing has been imported yet.", icon=":material/info:")
else:
    chrome.table_block(
        imports,
        f"{imports.height} {plural(imports.height, 'source')}. The published comparators that ship with the "
        "dashboard are imported by "
        "'system' when a database is created.",
        "last_imports",
        "imports",
    )

st.subheader("Linkage: children's records found in adult data")
as_of = queries.as_of_date(data.db_settings())
linked = quality.linkage(data.engine(), as_of)
if linked.is_empty():
    st.info("No young person turned 18 in the last six years.", icon=":material/info:")
else:
    years = linked["Year turned 18"]
    chrome.table_block(
        linked,
        f"Of the young people who turned 18 in each year from {years.min()} to {years.max()}, how many have an "
        "adult service episode (from adult social care Client Level Data, linked by the keyed hash of the "
        "council's person id or the NHS number, or from a partnership file), by locality.",
        "linkage",
        "linkage",
    )
    sources = quality.linkage_imports(data.engine())
    if not sources.is_empty():
        chrome.table_block(
            sources,
            "The imports these records came from (the latest of each kind).",
            "linkage_imports",
            "linkage_imports",
        )

st.subheader("Completeness by table")
fields = quality.completeness(engine)
summary = quality.table_summary(fields)
incomplete = summary.filter(pl.col("rows") > 0, pl.col("complete") < pl.col("fields"))
empty = summary.filter(pl.col("rows") == 0)["table"].to_list()
words = f"{incomplete.height} of {summary.height} tables have a field with values missing" + (
    f"; empty: {', '.join(empty)}." if empty else "."
)
chrome.table_block(
    summary.select(
        pl.col("table").alias("Table"),
        pl.col("rows").alias("Rows"),
        pl.col("fields").alias("Fields"),
        pl.col("complete").alias("Fields complete"),
        pl.when(pl.col("least_share") < 1)
        .then(pl.col("least_field"))
        .otherwise(pl.lit("—"))
        .alias("Least complete field"),
        pl.when(pl.col("least_share") < 1)
        .then((pl.col("least_share") * 100).round(1).cast(pl.String) + "%")
        .otherwise(pl.lit("—"))
        .alias("Filled"),
    ),
    words,
    "completeness_tables",
    "tables",
)

st.subheader("Completeness by field")
gaps = fields.filter(pl.col("share") < 1)
chrome.table_block(
    gaps.select(
        pl.col("table").alias("Table"),
        pl.col("field").alias("Field"),
        pl.col("rows").alias("Rows"),
        pl.col("filled").alias("Filled"),
        (pl.col("share") * 100).round(1).alias("Filled (%)"),
    ),
    f"{gaps.height} {plural(gaps.height, 'field')} with values missing. A value counts when it is there "
    "and, for text, not blank; "
    "some fields are empty by design (an open episode has no end date). Every field of each table:",
    "completeness_fields",
    "fields",
)
for table, rows in fields.group_by("table", maintain_order=True):
    label = str(table[0])
    count = int(rows["rows"][0])
    with st.expander(f"{label}: {count:,} {plural(count, 'row')}", expanded=False):
        if count == 0:
            st.markdown("No rows yet.")
            continue
        st.dataframe(
            rows.select(
                pl.col("field").alias("Field"),
                pl.col("filled").alias("Filled"),
                (pl.col("share") * 100).alias("Filled (%)"),
            ),
            hide_index=True,
            width="stretch",
            height="content",
            column_config={
                "Filled (%)": st.column_config.ProgressColumn("Filled (%)", min_value=0, max_value=100, format="%.1f%%")
            },
        )
