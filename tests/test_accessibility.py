"""WCAG 2.2 AA for what we control: the Streamlit theme's colours, every
colour the chart builders draw with, text inside heat-map cells, and status
or category never carried by colour alone."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import polars as pl
import pytest
import vl_convert as vlc

from partnership import charts

ROOT = Path(__file__).resolve().parent.parent
WHITE = "#FFFFFF"


def _rgb(colour: str) -> tuple[int, int, int]:
    named = {"white": (255, 255, 255), "black": (0, 0, 0)}
    if colour in named:
        return named[colour]
    if colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    r, g, b = (int(v) for v in re.findall(r"\d+", colour)[:3])
    return r, g, b


def luminance(colour: str) -> float:
    """WCAG relative luminance."""

    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_on_known_pairs() -> None:
    assert contrast("#000000", WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    # #767676 is the lightest grey that passes 4.5:1 on white; #777777 is not.
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", WHITE) < 4.5


# --- the Streamlit theme ----------------------------------------------------


@pytest.fixture(scope="module")
def theme() -> dict[str, object]:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def test_text_is_readable_on_both_backgrounds(theme: dict[str, object]) -> None:
    for background in ("backgroundColor", "secondaryBackgroundColor"):
        assert contrast(str(theme["textColor"]), str(theme[background])) >= 4.5, background


def test_captions_are_readable_on_both_backgrounds(theme: dict[str, object]) -> None:
    """Streamlit draws st.caption (and help text) in the text colour at 60%
    opacity: measured on a screenshot, #1B1B1B text gave captions of #757575."""
    text = _rgb(str(theme["textColor"]))
    for background in ("backgroundColor", "secondaryBackgroundColor"):
        bg = _rgb(str(theme[background]))
        caption = "#" + "".join(f"{round(0.6 * t + 0.4 * b):02X}" for t, b in zip(text, bg, strict=True))
        assert contrast(caption, str(theme[background])) >= 4.5, (background, caption)


def test_primary_and_link_colours_work_as_text_and_as_button_fill(theme: dict[str, object]) -> None:
    for name in ("primaryColor", "linkColor"):
        for background in ("backgroundColor", "secondaryBackgroundColor"):
            # Active tabs and links draw text in these colours.
            assert contrast(str(theme[name]), str(theme[background])) >= 4.5, (name, background)
    # A primary button is white text on the primary colour.
    assert contrast(WHITE, str(theme["primaryColor"])) >= 4.5


def test_widget_borders_are_visible_on_both_backgrounds(theme: dict[str, object]) -> None:
    assert theme["showWidgetBorder"] is True
    for background in ("backgroundColor", "secondaryBackgroundColor"):
        assert contrast(str(theme["borderColor"]), str(theme[background])) >= 3.0, background


def test_streamlit_draws_charts_in_our_palette(theme: dict[str, object]) -> None:
    assert theme["chartCategoricalColors"] == charts.PALETTE


# --- chart colours ------------------------------------------------------------


def test_every_colour_in_the_chart_builders_stands_out_from_white() -> None:
    """Marks and text on a white chart need 3:1 (WCAG 1.4.11). Every hex
    colour written in partnership/charts.py is checked, so a new one is too."""
    source = (ROOT / "partnership" / "charts.py").read_text()
    colours = set(re.findall(r'"(#[0-9A-Fa-f]{6})"', source))
    assert set(charts.PALETTE) <= colours and set(charts.STATUS_COLOURS.values()) <= colours
    failing = {c: round(contrast(c, WHITE), 2) for c in colours if contrast(c, WHITE) < 3.0}
    assert not failing


def test_palette_keeps_eight_distinct_colours() -> None:
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) == 8


def _svg(chart: object) -> str:
    return vlc.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])  # type: ignore[attr-defined]


def test_heat_map_cell_text_reaches_4_5_to_1_at_every_fill_rate() -> None:
    """Rendered, not assumed: each cell's fill against the colour of its own
    number, for fill rates 0%, 1%, ..., 100%."""
    frame = pl.DataFrame(
        {
            "team": [f"Team {i:03d}" for i in range(101)],
            "role": ["Social worker"] * 101,
            "funded_fte": [1.0] * 101,
            "filled_fte": [i / 100 for i in range(101)],
            "fill_rate": [i / 100 for i in range(101)],
        }
    )
    svg = _svg(charts.fill_heatmap(frame))
    cells = re.findall(r'aria-roledescription="rect mark" d="[^"]*" fill="([^"]+)"', svg)
    numbers = re.findall(r'<text[^>]*fill="([^"]+)"[^>]*>(\d+)%</text>', svg)
    assert len(cells) == len(numbers) == 101
    assert [int(n) for _, n in numbers] == list(range(101))  # same order as the cells
    worst = min((contrast(cell, text), n) for cell, (text, n) in zip(cells, numbers, strict=True))
    assert worst[0] >= 4.5, worst


# --- never colour alone -------------------------------------------------------


def _layers(spec: dict) -> list[dict]:
    return [spec, *[layer for sub in spec.get("layer", []) for layer in _layers(sub)]]


def _colour_only(spec: dict) -> list[str]:
    """Fields coloured by category in a layer with no other visible channel
    (shape or dash, with a legend) for the same field."""
    problems = []
    for layer in _layers(spec):
        enc = layer.get("encoding", {})
        colour = enc.get("color", {})
        if colour.get("type") != "nominal" or "field" not in colour:
            continue
        twins = [
            enc[ch]
            for ch in ("shape", "strokeDash")
            if ch in enc and enc[ch].get("field") == colour["field"] and enc[ch].get("legend", {}) is not None
        ]
        if not twins:
            problems.append(colour["field"])
    return problems


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    """Specs of the builders that colour by category, on small hand-made frames."""
    today = dt.date(2026, 11, 1)
    ratio = pl.DataFrame(
        {
            "Characteristic": ["Sex", "Sex"],
            "Group": ["Female", "Male"],
            "ratio_value": [1.8, 0.6],
            "lo": [1.2, 0.4],
            "hi": [2.5, 0.9],
            "Ratio": ["1.8", "0.6"],
            "95% interval": ["1.2-2.5", "0.4-0.9"],
            "Flag": ["Over-represented", "Under-represented"],
        }
    )
    milestones = pl.DataFrame(
        {
            "title": ["Protocol signed", "Panel running", "Training"],
            "owner": ["Lead", "Lead", "Lead"],
            "due": [dt.date(2026, 3, 1), dt.date(2027, 1, 1), dt.date(2026, 6, 1)],
            "status": ["Done", "On track", "Late"],
        }
    )
    months = pl.DataFrame(
        {
            "month": [dt.date(2026, 9, 1), dt.date(2026, 10, 1)] * 2,
            "locality": ["East", "East", "North", "North"],
            "fill": [0.8, 0.85, 0.7, 0.75],
        }
    )
    teams = pl.DataFrame({"team": ["East 1"], "caseload": [16.0], "cases": [32], "case_fte": [2.0]})
    series = pl.DataFrame(
        {"period": [dt.date(2026, 1, 1), dt.date(2026, 4, 1)], "value": [10.0, 12.0], "shown": ["10", "12"]}
    )
    return {
        "ratio_chart": charts.ratio_chart(ratio).to_dict(),
        "milestone_timeline": charts.milestone_timeline(milestones, today).to_dict(),
        "trend_lines": charts.trend_lines(months, "fill", "Fill rate (%)", rule=90.0, percent=True).to_dict(),
        "caseload_bars": charts.caseload_bars(teams, 15.0, 15.2).to_dict(),
        "indicator_trend": charts.indicator_trend(series, "Share", "percent", 8.0, 20.0, dt.date(2027, 3, 1)).to_dict(),
    }


def test_categories_and_statuses_also_differ_by_shape_or_dash(built: dict[str, dict]) -> None:
    for name, spec in built.items():
        assert not _colour_only(spec), name


def test_filled_points_are_opaque(built: dict[str, dict]) -> None:
    """Vega-Lite draws filled points at opacity 0.7, which would lighten every
    colour below its checked contrast."""
    points = [
        (name, layer["mark"])
        for name, spec in built.items()
        for layer in _layers(spec)
        if isinstance(layer.get("mark"), dict) and layer["mark"].get("type") == "point"
    ]
    assert {name for name, _ in points} == {"ratio_chart", "milestone_timeline", "indicator_trend"}
    for name, mark in points:
        assert mark.get("opacity") == 1, name


def test_the_check_catches_a_chart_coloured_by_category_alone() -> None:
    import altair as alt

    frame = pl.DataFrame({"x": [1, 2], "status": ["On track", "Late"]})
    plain = alt.Chart(frame).mark_point().encode(x="x:Q", color="status:N")
    assert _colour_only(plain.to_dict()) == ["status"]
    hidden = plain.encode(shape=alt.Shape("status:N", legend=None))
    assert _colour_only(hidden.to_dict()) == ["status"]


def test_chart_text_on_screen_is_dark_enough_and_the_charts_own_settings_win() -> None:
    assert contrast(charts.TEXT_COLOUR, WHITE) >= 4.5
    cached = {"axis": {"grid": False, "labelColor": "#000000"}, "view": {"stroke": None}}
    config = charts.readable_config(cached)
    assert config["axis"] == {"labelColor": "#000000", "titleColor": charts.TEXT_COLOUR, "grid": False}
    assert config["legend"] == {"labelColor": charts.TEXT_COLOUR, "titleColor": charts.TEXT_COLOUR}
    assert config["view"] == {"stroke": None}
    assert cached == {"axis": {"grid": False, "labelColor": "#000000"}, "view": {"stroke": None}}  # not changed
