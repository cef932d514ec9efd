"""partnership.exports: file names, CSV and Excel that read back as the same
table, PNG and SVG from vl-convert with the chart's words in them."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import struct

import polars as pl
import pytest

from partnership import charts, exports

DAY = dt.date(2026, 11, 22)


# --- file names -------------------------------------------------------------


def test_name_has_page_section_filters_in_a_fixed_order_and_date() -> None:
    name = exports.export_name("cohort", "gap_distribution", {"period": "2025", "locality": "east"}, DAY, "png")
    assert name == "cohort_gap-distribution_locality-east_period-2025_2026-11-22.png"


def test_section_named_after_its_page_is_not_prefixed_twice() -> None:
    assert exports.export_name("cohort", "cohort_flow", {}, DAY, "csv") == "cohort_flow_2026-11-22.csv"
    assert exports.export_name("overview", "overview_open_16_17", {}, DAY, "xlsx") == (
        "overview_open-16-17_2026-11-22.xlsx"
    )


def test_unsafe_characters_are_replaced_and_empty_filters_dropped() -> None:
    name = exports.export_name(
        "Team capacity",
        "../../etc/passwd",
        {"zzz": "A B/C", "send": "", "month": "2026-10", "care": "care_experienced"},
        DAY,
        "XLSX",
    )
    # locality, period, month, send, care, exploitation first; the rest after, alphabetically
    assert name == "team-capacity_etc-passwd_month-2026-10_care-care-experienced_zzz-a-b-c_2026-11-22.xlsx"
    assert re.fullmatch(r"[a-z0-9_.-]+", name)


# --- alt text ---------------------------------------------------------------


def test_plain_text_keeps_the_words_of_markdown() -> None:
    summary = "**12%** of the *East* cohort; see [the guide](https://example.org) and `c`, not 2 * 3."
    assert exports.plain_text(summary) == "12% of the East cohort; see the guide and c, not 2 * 3."


def test_description_is_set_on_a_copy_of_a_cached_spec() -> None:
    cached = {"mark": "bar", "data": {"values": [{"a": 1}]}}
    before = copy.deepcopy(cached)
    described = exports.with_description(cached, "Bars of a")
    assert described["description"] == "Bars of a"
    assert cached == before


def test_caption_wraps_the_summary_into_the_title_of_a_copy() -> None:
    spec = {"mark": "bar"}
    out = exports.captioned(spec, ["word " * 30], ["Locality: East"], width=40)
    assert spec == {"mark": "bar"}
    # 150 characters of "word " wrap at 40 into lines of 8 words (39 characters)
    assert out["title"]["text"] == ["word word word word word word word word"] * 3 + ["word word word word word word"]
    assert out["title"]["subtitle"] == ["Locality: East"]


# --- tables -----------------------------------------------------------------


def _table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Locality": ["East", "North", "Total"],
            "Young people": ["12", "c", "40"],
            "Owner": ['=HYPERLINK("x")', "-", "-3"],
            "Cases": [3, None, 17],
            "Share": [0.25, 0.5, None],
            "Quarter starting": [dt.date(2025, 1, 1), dt.date(2025, 4, 1), None],
        }
    )


def test_excel_reads_back_as_exactly_the_table_with_notes_beside_it() -> None:
    table = _table()
    content = exports.table_to_excel(table, "Cohort: the gap", ["Locality: East", "Counts from 1 to 5 are shown as c"])
    assert content[:4] == b"PK\x03\x04"  # an .xlsx is a zip
    back = pl.read_excel(io.BytesIO(content), sheet_name=exports.SHEET_DATA)
    # Same columns, types and cells: the formula-looking text is still text, not a formula result.
    assert back.equals(table), back
    notes = pl.read_excel(io.BytesIO(content), sheet_name=exports.SHEET_NOTES, has_header=False)
    assert notes.to_series().to_list() == ["Cohort: the gap", "Locality: East", "Counts from 1 to 5 are shown as c"]


def test_excel_of_an_empty_table_keeps_its_header() -> None:
    empty = pl.DataFrame(schema={"Locality": pl.String, "Young people": pl.String})
    back = pl.read_excel(io.BytesIO(exports.table_to_excel(empty, "t")), sheet_name=exports.SHEET_DATA)
    assert back.columns == ["Locality", "Young people"]
    assert back.height == 0


def test_csv_has_a_header_row_and_defuses_formulas_only() -> None:
    lines = exports.table_to_csv(_table()).splitlines()
    assert lines == [
        "Locality,Young people,Owner,Cases,Share,Quarter starting",
        'East,12,"\'=HYPERLINK(""x"")",3,0.25,2025-01-01',
        "North,c,-,,0.5,2025-04-01",
        "Total,40,-3,17,,",
    ]


# --- charts -----------------------------------------------------------------


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _bare(width: int | None) -> dict:
    """A chart with no axes and no padding, so the image is exactly its plot area."""
    spec: dict = {
        "data": {"values": [{"a": 1}]},
        "mark": "rect",
        "height": 100,
        "padding": 0,
        "config": {"view": {"stroke": None}},
    }
    if width is not None:
        spec["width"] = width
    return spec


def test_png_is_the_chart_size_times_the_scale() -> None:
    assert _png_size(exports.chart_to_png(_bare(200), scale=2)) == (400, 200)
    assert _png_size(exports.chart_to_png(_bare(200), scale=1)) == (200, 100)


def test_a_chart_that_stretches_on_screen_gets_the_export_width() -> None:
    assert _png_size(exports.chart_to_png(_bare(None), scale=1)) == (exports.EXPORT_WIDTH, 100)
    stretched = {**_bare(None), "width": "container"}
    assert _png_size(exports.chart_to_png(stretched, scale=1)) == (exports.EXPORT_WIDTH, 100)


def test_svg_carries_title_and_description_for_screen_readers() -> None:
    table = pl.DataFrame({"Gap": ["No gap", "1-28 days", "Total"], "Young people": ["7", "c", "40"]})
    spec = exports.with_description(
        charts.count_bars(table, "Gap", "Young people", "Young people").to_dict(), "Gaps & waits: 7 with no gap"
    )
    svg = exports.chart_to_svg(exports.captioned(spec, ["Of 40 young people, 7 had no gap."], ["Locality: East"]))
    assert svg.startswith('<svg role="img" aria-labelledby="chart-title chart-desc" ')
    assert '<title id="chart-title">Of 40 young people, 7 had no gap.</title>' in svg
    assert '<desc id="chart-desc">Gaps &amp; waits: 7 with no gap</desc>' in svg
    # drawn text: the caption, the subtitle and the bar labels (the suppressed row shows only its symbol)
    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for text in ("Of 40 young people, 7 had no gap.", "Locality: East", "No gap", "1-28 days", "7", "c"):
        assert text in drawn, text
    assert "Total" not in drawn


def test_conversion_is_offline() -> None:
    remote = {"data": {"url": "https://example.com/data.csv"}, "mark": "point"}
    with pytest.raises(ValueError, match="not allowed"):
        exports.chart_to_svg(remote)
    with pytest.raises(ValueError, match="not allowed"):
        exports.chart_to_png(remote)
