"""Page furniture: the synthetic-data banner, page views in the audit trail,
and the 'chart, table, summary, downloads' block every chart comes with."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from partnership import accounts, charts, exports, publication, queries
from partnership.access import Viewer
from partnership.wording import capital, small_counts_rule
from ui import data, present
from ui.filters import IN_FORCE

# The filters each page reads from the URL (see ui/filters.py); a parameter a
# page ignores must not appear in the name of a file it exports.
_COHORT_FILTERS = ("locality", "period", "send", "care", "exploitation")
PAGE_FILTERS: dict[str, tuple[str, ...]] = {
    "overview": _COHORT_FILTERS,
    "cohort": _COHORT_FILTERS,
    "capacity": ("locality", "period", "month"),
    "themes": ("locality", "period"),
    # Whole-database pages: no filters apply.
    "quality": (),
    "data": (),
    "stories": (),
    "definitions": (),
}
try:  # Streamlit holds this lock while it changes Altair's process-wide settings to draw a chart
    from streamlit.elements.vega_charts import _altair_globals_lock as _ALTAIR_LOCK
except ImportError:  # pragma: no cover - a later Streamlit may rename it
    _ALTAIR_LOCK = threading.Lock()
PRESENT_TABLE_HEIGHT = 400  # px: about eight rows in the presenting type
PRESENT_TABLE_ROWS = 8
SHORT_TABLE_ROWS = 12  # rows: a table this short with long text is drawn as HTML, where text wraps
_MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class _Context:
    """What the downloads of one page run need to know: set by page_header."""

    page: str
    title: str
    viewer: Viewer | None
    as_of: dt.date
    synthetic: bool
    published: str = ""  # for a board-level viewer: "Figures published on ... (data to ...)"


def page_header(viewer: Viewer, page: str, title: str) -> dict[str, str]:
    """Title, synthetic banner and the page-view audit; returns db settings."""
    settings = data.db_settings()
    synthetic = settings.get("synthetic") == "true"
    st.session_state["_export_context"] = _Context(page, title, viewer, queries.as_of_date(settings), synthetic)
    st.session_state.pop(IN_FORCE, None)  # the filter bar, if the page has one, records this run's
    if synthetic:
        st.warning(
            # Presenting, the same warning in one line: a projector's height is for the figures.
            "**Synthetic demo data:** made up by the demo generator; none of it is real."
            if present.active()
            else "**Synthetic demo data.** Every young person, team figure and indicator on these pages is "
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


def board_publication(viewer: Viewer) -> data.Board | None:
    """For a board-level viewer, the publication their page reads, said at
    the top ("Figures published on ... (data to ...)"); the page stops with
    a sentence saying so when nothing has been published yet. None for
    everyone else (their pages read the data as it is now)."""
    data.publish_if_due()
    if not viewer.suppressed:
        return None
    try:
        found = data.board()
    except publication.PublicationError:
        # Signed with another key: a database copied from another installation, or parts written by hand.
        st.error(
            "**The board's figures cannot be shown:** the stored publication was not made by this dashboard "
            "(its signature does not check out). The project lead can publish again from *Presentations*.",
            icon=":material/gpp_bad:",
        )
        st.stop()
    if found is None and publication.made_by_other_code(data.reader()):
        st.info(
            "**The board's figures are being prepared again** after an update of the dashboard: this takes a "
            "minute or two. Please come back shortly.",
            icon=":material/schedule:",
        )
        st.stop()
    if found is not None:
        # What the board's downloads say of when their figures were made: the publication's dates.
        ctx = st.session_state.get("_export_context")
        if isinstance(ctx, _Context):
            st.session_state["_export_context"] = dataclasses.replace(
                ctx, as_of=found.as_of, published=found.header.words()
            )
    if found is None:
        st.info(
            "**Nothing has been published to the board yet.** The board's figures are published once a month, "
            "or when the project lead publishes them from *Presentations*; every figure the board sees is "
            "checked together before it is published. Please come back once the first publication is made.",
            icon=":material/schedule:",
        )
        st.stop()
    return found


def figures_date(board: data.Board | None, as_of: dt.date) -> str:
    """The one date a page's figures carry: when the board's were published
    (and the data's date then), or the date the figures are as of."""
    if board is None:
        return f"figures as of {as_of:%d %B %Y}"
    if present.active():  # a projector's line: the same dates, shorter
        return f"published {board.header.published_at:%-d %b %Y} (data to {board.as_of:%-d %b %Y})"
    words = board.header.words()
    return words[:1].lower() + words[1:]


def flash(message: str) -> None:
    """Show a message on the next run: used after a save, which reruns the
    page so every figure on it reflects what was just saved."""
    st.session_state["_flash"] = message
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message)


def _context() -> _Context:
    found = st.session_state.get("_export_context")
    if isinstance(found, _Context):
        return found
    return _Context("dashboard", "Dashboard", st.session_state.get("viewer"), dt.date.today(), False)


def _filters(ctx: _Context) -> tuple[dict[str, str], list[str]]:
    """The filters in force, as (name -> URL value) for the file name and as
    words for the file's notes: what the filter bar settled on in this run
    (a value it refused is not in force; a manager's locality is their own)."""
    wanted = PAGE_FILTERS.get(ctx.page, _COHORT_FILTERS)
    in_force, described = st.session_state.get(IN_FORCE, ({}, {}))
    named = {k: v for k, v in in_force.items() if k in wanted}
    words = [described[k] for k in named]
    month = st.query_params.get("month", "")
    if "month" in wanted and re.fullmatch(r"\d{4}-\d{2}", month):
        named["month"] = month
        words.append(f"Month: {month}")
    return named, words


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# What is worked out from a table to show it (its Arrow form, its text widths,
# whether it holds small counts), once per table object: the tables of cached
# sections are the same objects every rerun, and a table is never changed.
# An entry goes when its table is garbage collected, so an id is never reused.
_PER_TABLE: dict[tuple[int, str], Any] = {}


def _arrow_table(table: pl.DataFrame) -> Any:
    """The table as Streamlit itself would send it (through pandas, with its
    column fixes), worked out once: st.dataframe sends a pyarrow table as it is."""
    from streamlit import dataframe_util

    return dataframe_util.convert_pandas_df_to_arrow_table(table.to_pandas())


# A chart's named datasets as Arrow IPC bytes, which Streamlit passes on as
# they are (inline rows it converts through pandas on every rerun: a fifth of
# the server's time under load). Keyed by the rows' identity; the entry holds
# the rows, so the identity cannot be reused while it is kept.
_ARROW_ROWS: dict[tuple[int, frozenset[str]], tuple[list[Any], bytes]] = {}
_ARROW_ROWS_MAX = 2048
_arrow_lock = threading.Lock()


def _arrow_rows(rows: list[Any], fields: frozenset[str]) -> bytes:
    found = _ARROW_ROWS.get((id(rows), fields))
    if found is not None and found[0] is rows:
        return found[1]
    from streamlit import dataframe_util

    data = dataframe_util.convert_anything_to_arrow_bytes(charts.only_fields(rows, fields))
    with _arrow_lock:
        if len(_ARROW_ROWS) >= _ARROW_ROWS_MAX:
            _ARROW_ROWS.clear()  # specs of older data versions; the current ones come back at the next rerun
        _ARROW_ROWS[(id(rows), fields)] = (rows, data)
    return data


def _to_draw(spec: dict) -> dict:
    """A copy of the spec for st.vega_lite_chart: only the fields it draws
    (charts.drawn_only's rule), its datasets as Arrow bytes."""
    fields = frozenset(charts.drawn_fields(spec))
    drawn = charts.drawn_only({k: v for k, v in spec.items() if k != "datasets"}, fields)
    datasets = spec.get("datasets")
    if isinstance(datasets, dict):
        drawn["datasets"] = {k: _arrow_rows(v, fields) if isinstance(v, list) else v for k, v in datasets.items()}
    return drawn


def _per_table(table: object, what: str, make: Callable[[], Any]) -> Any:
    slot = (id(table), what)
    if slot not in _PER_TABLE:
        _PER_TABLE[slot] = make()
        weakref.finalize(table, _PER_TABLE.pop, slot, None)
    return _PER_TABLE[slot]


def _small_counts(table: pl.DataFrame, threshold: int) -> bool:
    return bool(_per_table(table, f"small_counts_{threshold}", lambda: _has_small_counts(table, threshold)))


def _has_small_counts(table: pl.DataFrame, threshold: int) -> bool:
    """Whether a table (held as text) shows a count from 1 to the threshold.
    One query for every column: a polars query costs about half a
    millisecond here, and this ran five for each column of each table."""
    if not table.width:
        return False
    small = []
    for column in table.columns:
        values = pl.col(column).cast(pl.String, strict=False).str.replace_all(",", "")
        whole = pl.when(values.str.contains(r"^[0-9]+$")).then(values.cast(pl.Int64, strict=False))
        small.append(whole.is_between(1, threshold).any().alias(column))
    return any(table.select(small).row(0))


def _notes(
    ctx: _Context, summary: str, words: list[str], today: dt.date, table: pl.DataFrame, audit: str = ""
) -> list[str]:
    notes = [plain for plain in [exports.plain_text(summary)] if plain]
    dates = ctx.published if ctx.published else f"figures as of {_day(ctx.as_of)}"
    notes.append(" · ".join(words) + f" · exported {_day(today)}, {dates[:1].lower()}{dates[1:]}")
    threshold = data.settings().suppression_threshold
    if ctx.viewer is not None and ctx.viewer.suppressed:
        notes.append(
            f"{capital(small_counts_rule(threshold))}."
            + (f" Disclosure check of these figures: {audit}." if audit else "")
        )
    elif _small_counts(table, threshold):
        notes.append(
            f"NOT FOR PUBLICATION: this file holds counts from 1 to {threshold}, which the partnership's "
            "disclosure rule keeps from anyone not cleared to see case-level data."
        )
    if ctx.synthetic:
        notes.append("Synthetic demo data: none of it is real.")
    return notes


def _audited(engine: Engine, username: str, name: str, make: Callable[[], bytes | str]) -> Callable[[], bytes | str]:
    """Build the file when it is asked for (the callable runs on click, in a
    thread of its own), and record the download in the audit trail."""

    def build() -> bytes | str:
        content = make()
        with Session(engine) as session:
            accounts.audit(session, username, "export", name)
            session.commit()
        return content

    return build


def _downloads(
    table: pl.DataFrame,
    summary: str,
    filename: str,
    key: str,
    spec: Callable[[], dict] | None = None,
    audit: str = "",
) -> None:
    """A row of download buttons. Nothing is converted until a button is
    pressed: st.download_button takes a callable and runs it on click."""
    ctx = _context()
    today = dt.date.today()
    named, words = _filters(ctx)
    notes = _notes(ctx, summary, words, today, table, audit)
    title = f"{ctx.title}: {filename.replace('_', ' ')}"
    engine = data.engine()
    username = ctx.viewer.username if ctx.viewer is not None else ""

    def name(ext: str) -> str:
        return exports.export_name(ctx.page, filename, named, today, ext)

    def image(ext: str) -> bytes | str:
        assert spec is not None
        shown = exports.captioned(spec(), notes[:1], notes[1:])
        return exports.chart_to_png(shown) if ext == "png" else exports.chart_to_svg(shown)

    files: list[tuple[str, str, Callable[[], bytes | str], str]] = []
    if spec is not None:
        files += [
            ("png", "PNG", lambda: image("png"), "The chart as a PNG image"),
            ("svg", "SVG", lambda: image("svg"), "The chart as an SVG image (scalable)"),
        ]
    files += [
        ("csv", "CSV", lambda: exports.table_to_csv(table), "The table as CSV"),
        ("xlsx", "Excel", lambda: exports.table_to_excel(table, title, notes), "The table as an Excel workbook"),
    ]
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"exports_{key}"):
        for ext, label, make, help_text in files:
            st.download_button(
                label,
                _audited(engine, username, name(ext), make),
                file_name=name(ext),
                mime=_MIME[ext],
                key=f"dl_{key}" if ext == "csv" else f"dl_{key}_{ext}",
                help=f"{help_text}: {name(ext)}",
                icon=":material/download:",
                on_click="ignore",
            )


def _altair_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with its data inline, for vl-convert. Runs in
    a download thread, so it takes Streamlit's lock rather than catch Altair's
    settings half-way through another session's chart."""
    with _ALTAIR_LOCK, alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def _dataframe(table: pl.DataFrame) -> None:
    """A table whose long text (indicator names, reasons, titles) wraps in
    taller rows in wide columns instead of being cut off at the cell's edge."""
    long: dict[str, int] = _per_table(table, "long_text", lambda: _long_text(table))
    if present.active() and table.height <= PRESENT_TABLE_ROWS:
        # Presenting, a short table is plain HTML: its text wraps at the enlarged type (the grid's cells cut it off).
        st.table(_per_table(table, "plain", lambda: _plain_numbers(table)), hide_index=True, border="horizontal")
        return
    if long and table.height <= SHORT_TABLE_ROWS:
        # Streamlit's grid cuts text at the cell's edge (taller rows do not make it wrap): a short
        # table with long text (indicator names, a theme's reasons) is plain HTML, where it wraps.
        st.table(_per_table(table, "plain", lambda: _plain_numbers(table)), hide_index=True, border="horizontal")
        return
    # Presenting, a long table scrolls inside its frame rather than push the page past the screen.
    height: int | str = PRESENT_TABLE_HEIGHT if present.active() else "auto"
    shown = _per_table(table, "arrow", lambda: _arrow_table(table))  # Streamlit would convert it on every rerun
    if not long:
        st.dataframe(shown, hide_index=True, width="stretch", height=height)
        return
    # About 55 characters a line in a 400 px column; at most four lines a row.
    lines = min(4, max(-(-n // 55) for n in long.values()))
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        row_height=12 + 21 * lines,
        height=height,
        column_config={name: st.column_config.TextColumn(width="large") for name in long},
    )


def _plain_numbers(table: pl.DataFrame) -> pl.DataFrame:
    """Decimal columns as people write them (20.0 FTE, 0.66 a head, 1,234.50): an HTML
    table prints a float with four decimals ("20.0000"). Formatted in Python over the
    column's values, not by a Python function inside polars (tests/test_concurrency.py)."""
    out = []
    for name, dtype in table.schema.items():
        if not dtype.is_float():
            continue
        values = table[name].to_list()
        digits = 1 if all(v is None or abs(v * 10 - round(v * 10)) < 1e-6 for v in values) else 2
        out.append(pl.Series(name, ["" if v is None else f"{v:,.{digits}f}" for v in values], dtype=pl.String))
    return table.with_columns(out) if out else table


def _long_text(table: pl.DataFrame) -> dict[str, int]:
    """Text columns whose longest value is over 45 characters, with that length."""
    text = [name for name, dtype in table.schema.items() if dtype == pl.String]
    if not text or not table.height:
        return {}
    lengths = table.select(pl.col(name).str.len_chars().max() for name in text).row(0, named=True)
    return {name: int(n) for name, n in lengths.items() if n is not None and n > 45}


def table_block(table: pl.DataFrame, summary: str, filename: str, key: str, audit: str = "") -> None:
    """A table with its one-line summary and downloads of exactly what is shown."""
    st.markdown(summary)
    _dataframe(table)
    _downloads(table, summary, filename, key, audit=audit)


def chart_block(
    chart: alt.TopLevelMixin | dict, table: pl.DataFrame, summary: str, filename: str, key: str, audit: str = ""
) -> None:
    """A chart with its data as a table, a one-line summary (also the chart's
    alt text) and downloads of exactly what is shown."""
    st.markdown(summary)
    description = exports.plain_text(summary)
    # Presenting too: the presenter can answer "what are the numbers?" from the Table tab.
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        # Copies with alt text and readable axis text: the caller's chart, or
        # a spec cached for every session, is never changed.
        # Every chart goes to the browser as a spec of what it draws (_to_draw), never as
        # an Altair object Streamlit would serialise whole.
        plain = chart if isinstance(chart, dict) else _per_table(chart, "spec", lambda: _altair_spec(chart))
        described = exports.with_description(plain, description)
        if present.active():
            # Presenting: chart text scales with the enlarged type (copies; the cached spec is untouched).
            described = charts.presenting(described)
        described["config"] = charts.readable_config(plain.get("config"), large=present.active())
        st.vega_lite_chart(_to_draw(described), width="stretch")
        spec: Callable[[], dict] = lambda: charts.drawn_only(described)  # noqa: E731
    with table_tab:
        _dataframe(table)
    _downloads(table, summary, filename, key, spec, audit)


def section(sec: object, key_prefix: str = "") -> None:
    """A section of partnership.sections: tiles, then each block as a chart
    (or table) with its sentence, downloads and notes, then the section's notes."""
    from partnership.sections import Section

    assert isinstance(sec, Section)
    # Presenting, each block is a part of its own (the tiles with the first), and a chart
    # in pieces one part per piece, so no part is taller than a screen.
    presenting = present.active()
    shown = [[present.part() for _ in (b.pieces if presenting and b.pieces else [b])] for b in sec.blocks]
    if not shown:
        shown = [[present.part()]]
    if sec.tiles and shown[0][0]:
        cols = st.columns(len(sec.tiles))
        for col, (label, value, help_text) in zip(cols, sec.tiles, strict=True):
            col.metric(label, value, help=help_text or None)
    for block, on_screen in zip(sec.blocks, shown, strict=False):
        if not any(on_screen):
            continue
        st.subheader(block.heading)
        key = f"{key_prefix}{block.filename}"
        audit = sec.audit.words() if sec.audit is not None else ""
        table, sentence, filename = block.table, block.sentence, block.filename
        if block.narrow is not None and not present.active():
            narrow = block.narrow
            if st.toggle(narrow.label, key=f"narrow_{key}"):
                table = table.filter(pl.col(narrow.column).is_in(list(narrow.kept)))
                sentence = f"{table.height} of {block.table.height} shown ({narrow.label.lower()}). {sentence}"
                filename = f"{filename}_{narrow.suffix}"
        if block.chart is not None:
            chart = block.pieces[on_screen.index(True)] if presenting and block.pieces else block.chart
            chart_block(chart, table, sentence, filename, key, audit)
        else:
            table_block(table, sentence, filename, key, audit)
        for note in block.notes:
            st.caption(note)
    if not shown[-1][-1]:  # the section's notes and its definitions go with its last part
        return
    for note in sec.notes:
        st.caption(note)
    if sec.measures:
        st.page_link(
            "pages/definitions.py",
            label="How these figures are worked out",
            icon=":material/menu_book:",
            query_params={"measure": sec.measures[0]},
        )
