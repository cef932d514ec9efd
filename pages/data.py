"""Data (administrators): upload a file, see it as the importer reads it,
check it with a dry run, import it; blank templates for the partnership's
own files with their column guide."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from partnership import uploads
from partnership.importers import cld, templates
from partnership.themes import plain
from partnership.wording import plural
from ui import chrome, data
from ui.auth import guard
from ui.problems import problem_list

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table_name(table: str) -> str:
    return table.replace("_", " ").capitalize()


def _forget_figures() -> None:
    """Every figure cache is keyed by a version the import just bumped, so no
    page can show figures from before it; reading the settings now lets go of
    what the old versions hold (the capacity page's too after a staffing
    import, not after one of case records, which leaves them as they are)."""
    data.db_settings()


def _show(outcome: uploads.Outcome) -> None:
    if outcome.accepted and outcome.dry_run:
        st.success(f"**Check passed.** {outcome.message}", icon=":material/task_alt:")
        st.caption("A check writes nothing. Press **Import** to bring these rows in.")
    elif outcome.accepted:
        st.success(f"**Imported.** {outcome.message}", icon=":material/check_circle:")
        st.caption("Every page now shows the imported data.")
    else:
        st.error(f"**Refused.** {outcome.message}", icon=":material/block:")
        logged = (
            "A check is not logged."
            if outcome.dry_run
            else "The refusal is logged on the Data quality page and in the audit trail."
        )
        st.markdown(f"**Nothing was written**: the database is exactly as it was. {logged}")
        if not outcome.problems.is_empty():
            problem_list(
                outcome.problems,
                f"{outcome.problems.height} {plural(outcome.problems.height, 'problem')}, by file, row "
                "(line of the file, header = 1) and field. "
                "Children's ids and dates of birth are masked on screen.",
                "import_problems",
                "problems",
            )


def _options(kind: str) -> tuple[str, int | None, str, str, list]:
    """The widgets for one kind of import: (locality, year, table, dataset, files)."""
    locality, year, table, dataset = "", None, "", ""
    if kind in ("ssda903", "cin"):
        locs = data.localities()
        names = dict(zip(locs["code"].to_list(), locs["name"].to_list(), strict=True))
        left, right = st.columns(2)
        locality = left.selectbox(
            "Locality the children belong to", list(names), format_func=names.__getitem__, key=f"locality_{kind}"
        )
    if kind == "cin":
        one = st.file_uploader("Children in need census (XML, as submitted to DfE)", type="xml", key="upload_cin")
        return locality, year, table, dataset, [one] if one else []
    if kind == "cld":
        dataset = st.radio(
            "Link people to children's records by",
            list(cld.LINKS),
            format_func=lambda k: f"{cld.LINKS[k]} (keyed hash)",
            horizontal=True,
            key="cld_link",
            help="The identifier children's imports used as the child's id: the council's person id if one case "
            "system holds children and adults, or the NHS number. Neither is stored.",
        )
        one = st.file_uploader(
            "Client Level Data file (CSV, as submitted to NHS England)", type="csv", key="upload_cld"
        )
        return locality, year, table, dataset, [one] if one else []
    if kind == "ssda903":
        today = dt.date.today()
        year = int(
            right.number_input(
                "Collection year ending 31 March (needed for oc3.csv)",
                min_value=2000,
                max_value=today.year + 1,
                value=uploads.default_collection_year(today),
                step=1,
                help="2025 means the return for April 2024 to March 2025.",
            )
        )
        files = st.file_uploader(
            "SSDA903 files: any of header.csv, episodes.csv, oc3.csv and missing.csv, together; or the XML export",
            type=["csv", "xml"],
            accept_multiple_files=True,
            key="upload_ssda903",
        )
        return locality, year, table, dataset, list(files or [])
    if kind == "template":
        table = st.selectbox("Table", list(templates.TEMPLATES), format_func=_table_name, key="import_table")
        st.caption("The blank template and its column guide are on the **Templates** tab.")
        one = st.file_uploader("File (CSV or Excel)", type=["csv", "xlsx"], key="upload_template")
    elif kind == "benchmark":
        one = st.file_uploader("Tidy CSV from Explore Education Statistics", type="csv", key="upload_benchmark")
        dataset = st.text_input(
            "Dataset name", help="An import replaces the earlier one of the same name. Blank: the file's name."
        )
    else:
        one = st.file_uploader("Statistical neighbour groupings (CSV)", type="csv", key="upload_neighbours")
    return locality, year, table, dataset, [one] if one else []


viewer = guard({"admin"})
chrome.page_header(viewer, "data", "Data")
st.caption(
    "Every file is checked row by row before anything is written, and an import is all-or-nothing: "
    "a refused file leaves the database exactly as it was. The same file twice changes nothing the second time."
)
import_tab, templates_tab = st.tabs(["Import", "Templates"])

with import_tab:
    kind = st.radio(
        "What are you importing?", list(uploads.KINDS), format_func=uploads.KINDS.__getitem__, key="import_kind"
    )
    locality, year, table, dataset, files = _options(kind)
    request = uploads.Request(
        kind,
        tuple(uploads.Upload(f.name, f.getvalue()) for f in files),
        locality,
        year,
        table,
        "" if kind == "cld" else dataset,
        link=dataset if kind == "cld" else "person-id",
    )
    used, ignored = uploads.used_files(request)
    if ignored:
        st.warning(
            "Not read: "
            + ", ".join(ignored)
            + (
                ". SSDA903 files must be named header.csv, episodes.csv, oc3.csv or missing.csv."
                if kind == "ssda903"
                else ". One file at a time."
            )
        )
    if not used:
        st.info("Choose the files above to see a preview and check them.", icon=":material/upload_file:")
    else:
        st.subheader("Preview")
        st.caption(
            "The first rows of each file as the importer reads them; *row* is the line of the file "
            "(in an XML file, the child's position in it). "
            "Children's ids are masked and dates of birth shown to the month."
        )
        shown = uploads.previews(request)
        file_tabs = st.tabs(
            [f"{p.name} ({p.rows:,} rows)" if p.problems is None and p.rows is not None else p.name for p in shown]
        )
        for tab, preview in zip(file_tabs, shown, strict=True):
            with tab:
                if preview.problems is not None:
                    st.error(f"**{plain(preview.name)}** cannot be read. {preview.summary}")
                    st.dataframe(preview.problems, hide_index=True, width="stretch")
                    continue
                st.dataframe(preview.frame, hide_index=True, width="stretch")
                of_rows = f" of {preview.rows:,}" if preview.rows is not None else ""
                st.caption(
                    f"First {preview.frame.height}{of_rows} rows."
                    + (f" Columns never read or stored: {', '.join(preview.not_read)}." if preview.not_read else "")
                )
        with st.container(horizontal=True):
            check = st.button("Check (dry run)", icon=":material/rule:", key="import_check")
            go = st.button("Import", type="primary", icon=":material/input:", key="import_go")
        if check or go:
            with st.spinner("Checking ..." if check else "Importing ..."):
                outcome = uploads.run(data.engine(), request, viewer.username, dry_run=check)
            st.session_state["import_outcome"] = (request.signature(), outcome)
            if outcome.accepted and not outcome.dry_run:
                _forget_figures()
        saved = st.session_state.get("import_outcome")
        if saved and saved[0] == request.signature():
            _show(saved[1])

with templates_tab:
    st.markdown(
        "The header row of a template is the contract: keep its columns and their names, one row per record. "
        "The Excel file carries the column guide as a second sheet, *README*, which may stay. The CSV carries it "
        "as `#` lines after a blank line: delete those lines before importing the file. "
        "Children's ids are stored only as a keyed hash."
    )
    chosen = st.selectbox("Template", list(templates.TEMPLATES), format_func=_table_name, key="template_table")
    # A static table: the code lists are long and must wrap, not scroll out of sight.
    st.table(templates.describe(chosen), hide_index=True)
    with st.container(horizontal=True):
        st.download_button(
            "CSV template",
            templates.template_bytes(chosen, excel=False),
            file_name=f"{chosen}_template.csv",
            mime="text/csv",
            icon=":material/download:",
            key="template_csv",
        )
        st.download_button(
            "Excel template",
            templates.template_bytes(chosen, excel=True),
            file_name=f"{chosen}_template.xlsx",
            mime=XLSX,
            icon=":material/download:",
            key="template_xlsx",
        )
