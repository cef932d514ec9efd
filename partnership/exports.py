"""Files of what is on screen: charts as PNG and SVG, tables as CSV and Excel.

Plain Python, no Streamlit. Everything here works on the objects a page has
already filtered and suppressed, so an export holds exactly what the viewer
sees. Charts are converted by vl-convert, which bundles Vega and Vega-Lite:
no browser and no network (remote data is refused outright).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import io
import re
import textwrap
from collections.abc import Mapping

import polars as pl
import vl_convert as vlc
import xlsxwriter

# Filters in the order they are named in a file name; anything else follows alphabetically.
FILTER_ORDER = ("locality", "period", "month", "send", "care", "exploitation")
EXPORT_WIDTH = 900  # px, about a page column; on screen charts stretch to fit, a file needs a width of its own
SHEET_DATA = "Data"
SHEET_NOTES = "Notes"
# A spreadsheet runs a text cell that starts with one of these as a formula
# (OWASP "CSV injection"); a number written as text, or a lone dash, is harmless.
_FORMULA_START = r"^[=+\-@\t\r]."
_NUMBER = r"^[+-]?(\d+([.,]\d*)?|\.\d+)([eE][+-]?\d+)?%?$"


def slug(text: str, limit: int = 40) -> str:
    """Lower case letters, digits and single hyphens: safe in a file name on any system."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:limit].strip("-")


def export_name(page: str, section: str, filters: Mapping[str, str], today: dt.date, ext: str) -> str:
    """`<page>_<section>_<filter>-<value>..._<date>.<ext>`, e.g.
    `cohort_the-gap_locality-east_period-2025_2026-11-22.png`.

    A section named after its page (`cohort_flow` on the cohort page) is not
    prefixed twice; filters with an empty value are left out."""
    page_part = slug(page) or "dashboard"
    section_part = slug(section)
    if section_part.startswith(page_part + "-"):
        section_part = section_part[len(page_part) + 1 :]
    rank = {name: i for i, name in enumerate(FILTER_ORDER)}
    names = sorted(filters, key=lambda k: (rank.get(k, len(rank)), k))
    filter_parts = [f"{slug(k, 20)}-{slug(str(filters[k]), 30)}" for k in names if slug(str(filters[k]), 30)]
    parts = [page_part, section_part, *filter_parts, today.isoformat()]
    return "_".join(p for p in parts if p) + "." + slug(ext, 8)


def plain_text(markdown: str) -> str:
    """The words of a one-line Markdown summary without its markup, for alt
    text and file notes: bold, italics, code and links keep only their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = text.replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def with_description(spec: dict, description: str) -> dict:
    """The spec with a Vega-Lite `description` (read out as the chart's
    aria-label). A shallow copy: cached specs are shared between sessions and
    must not change under another viewer."""
    return {**spec, "description": description}


def captioned(spec: dict, lines: list[str], footnotes: list[str], width: int = 96) -> dict:
    """A copy of the spec with the summary as its title and what was chosen
    (filters, date, suppression) underneath, so a saved image says what it shows."""
    out = copy.copy(spec)
    title_lines = [part for line in lines for part in textwrap.wrap(line, width)]
    sub_lines = [part for line in footnotes for part in textwrap.wrap(line, int(width * 1.15))]
    if "title" not in out and title_lines:
        out["title"] = {
            "text": title_lines,
            "subtitle": sub_lines,
            "anchor": "start",
            "fontSize": 13,
            "fontWeight": "bold",
            "subtitleFontSize": 11,
            "subtitleColor": "#3D3D3D",
            "offset": 12,
        }
    return out


def _sized(spec: dict) -> dict:
    out = copy.copy(spec)
    if out.get("width") in (None, "container") and not any(k in out for k in ("hconcat", "vconcat", "concat", "facet")):
        out["width"] = EXPORT_WIDTH
    # The page is white; a transparent file pasted on a dark slide would lose its text.
    out.setdefault("background", "white")
    return out


def chart_to_png(spec: dict, scale: float = 2.0) -> bytes:
    """PNG of a Vega-Lite spec; scale 2 gives print-quality text."""
    return vlc.vegalite_to_png(_sized(spec), scale=scale, allowed_base_urls=[])


def chart_to_svg(spec: dict) -> str:
    """SVG of a Vega-Lite spec, with its title and description as the SVG's
    own <title> and <desc> so a screen reader announces the image."""
    svg = vlc.vegalite_to_svg(_sized(spec), allowed_base_urls=[])
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    label = str(title or spec.get("description") or "Chart")
    desc = str(spec.get("description") or "")
    head_end = svg.index(">", svg.index("<svg")) + 1
    opening = svg[:head_end].replace("<svg ", '<svg role="img" aria-labelledby="chart-title chart-desc" ', 1)
    inner = f'<title id="chart-title">{html.escape(label)}</title><desc id="chart-desc">{html.escape(desc)}</desc>'
    return opening + inner + svg[head_end:]


def table_to_csv(frame: pl.DataFrame) -> str:
    """The table as CSV: one header row, then the rows as shown. A text cell a
    spreadsheet would run as a formula gets a leading apostrophe."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    safe = frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_START) & ~pl.col(name).str.contains(_NUMBER))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )
    return safe.write_csv()


def table_to_excel(frame: pl.DataFrame, title: str, notes: list[str] | None = None) -> bytes:
    """An .xlsx with the table on sheet `Data` (a header row, then the rows,
    nothing else, so it reads back as the same table) and the title and notes
    (filters, date, suppression) on sheet `Notes`."""
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(buffer, options) as book:
        frame.write_excel(book, worksheet=SHEET_DATA, autofit=True, table_style="Table Style Light 1")
        sheet = book.add_worksheet(SHEET_NOTES)
        bold = book.add_format({"bold": True, "font_size": 12})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        sheet.set_column(0, 0, 110)
        sheet.write_string(0, 0, title, bold)
        for row, note in enumerate(notes or [], start=1):
            sheet.write_string(row, 0, note, wrap)
    return buffer.getvalue()
