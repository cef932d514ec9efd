"""Altair chart builders. They draw what they are given: filtering and
suppression happen before, so a chart never sees a hidden number."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
import os
import re

import altair as alt
import polars as pl

# Okabe-Ito, distinguishable with the common forms of colour blindness. Its
# orange, sky blue and yellow are darkened (same hue and saturation) to reach
# 3:1 against white, as marks must (WCAG 1.4.11); tests/test_accessibility.py
# checks every colour in this file. Colour is never the only carrier: bars
# are labelled, categories also differ by shape or dash, statuses are words.
PALETTE = ["#0072B2", "#BD8300", "#009E73", "#CC79A7", "#1D96DB", "#D55E00", "#9C920C", "#000000"]
STATUS_COLOURS = {"On track": "#009E73", "At risk": "#BD8300", "Off track": "#D55E00", "Not yet measurable": "#767676"}
# Streamlit's chart theme writes axis and legend text in a light grey (about
# 3.8:1 on white); every chart on a page gets this instead (WCAG 1.4.3, 4.5:1).
TEXT_COLOUR = "#3D3D3D"
_TEXT_CONFIG = {
    "axis": {"labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR},
    "legend": {"labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR},
    "title": {"color": TEXT_COLOUR, "subtitleColor": TEXT_COLOUR},
    "header": {"labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR},
}


# Presenting to a room: axis and legend text large enough to read from the back.
_LARGE_TEXT = {
    "axis": {"labelFontSize": 16, "titleFontSize": 17},
    "legend": {"labelFontSize": 16, "titleFontSize": 17},
    "header": {"labelFontSize": 16, "titleFontSize": 17},
}


_FONT_KEYS = {"fontSize", "labelFontSize", "titleFontSize"}
_DATA_KEYS = {"data", "datasets"}
# Checking a spec against the Vega-Lite schema took a fifth of the first view
# of programme progress after an import (18 trend charts). The charts' shape
# is fixed by this module and only their data changes, so the test suite
# checks every spec it builds (conftest sets this) and the app does not.
VALIDATE = os.environ.get("DASHBOARD_VALIDATE_CHARTS", "") == "1"


def spec(chart: alt.TopLevelMixin) -> dict:
    """A chart's Vega-Lite spec (data inline), checked against the schema where VALIDATE."""
    return chart.to_dict(validate=VALIDATE)


# Keys whose string values (or lists of strings) name data fields, in encodings
# ("field", a tooltip's or sort's "field") and transforms (aggregate, fold, pivot, lookup ...).
_FIELD_NAME_KEYS = {"field", "groupby", "fields", "fold", "flatten", "pivot", "lookup", "impute", "stack", "on", "key"}
_DATUM = re.compile(r"datum(?:\.([A-Za-z_$][\w$]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def drawn_fields(spec: dict) -> set[str]:
    """Every data field a Vega-Lite spec reads: its encodings (tooltips, text
    and sort included), its transforms, and `datum` in any expression. The
    rows themselves are not read."""
    found: set[str] = set()

    def names(value: object) -> None:
        if isinstance(value, str):
            found.add(value.replace("\\", ""))
        elif isinstance(value, list):
            for item in value:
                names(item)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasets" or (k == "data" and isinstance(v, dict) and "values" in v):
                    continue
                if k in _FIELD_NAME_KEYS:
                    names(v)
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.update(a or b for a, b in _DATUM.findall(node))

    walk(spec)
    return found


def only_fields(rows: list, fields: set[str] | frozenset[str]) -> list:
    """The rows with only `fields` (rows that are not records pass as they are)."""
    return [{k: v for k, v in row.items() if k in fields} if isinstance(row, dict) else row for row in rows]


def drawn_only(spec: dict, fields: set[str] | frozenset[str] | None = None) -> dict:
    """A copy of the spec whose data carry only the fields it draws. Chart data
    reach the browser whole (and a downloaded spec the reader's disk): a column
    that no encoding, tooltip, text or transform reads is not on screen, so it
    must not be in the data either (a table's raw counts behind a fill-rate
    picture gave one worker's caseload away). Every chart the app shows or
    exports goes through here. `fields`: drawn_fields(spec), where the caller has it."""
    fields = drawn_fields(spec) if fields is None else fields

    def prune(node: object) -> object:
        if isinstance(node, list):
            return [prune(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if k == "datasets" and isinstance(v, dict):
                out[k] = {n: only_fields(rows, fields) if isinstance(rows, list) else rows for n, rows in v.items()}
            elif k == "data" and isinstance(v, dict) and isinstance(v.get("values"), list):
                out[k] = {**v, "values": only_fields(v["values"], fields)}
            else:
                out[k] = prune(v)
        return out

    pruned = prune(spec)
    assert isinstance(pruned, dict)
    return pruned


PRESENT_MAX_HEIGHT = 320  # px
PRESENT_PANEL_HEIGHT = 60  # px
PRESENT_MIN_STEP = 30  # px a row


def presenting(spec: dict, factor: float = 1.45) -> dict:
    """A copy of a Vega-Lite spec for a projector: every font size the chart
    sets itself (text marks: flow labels, heat-map cells, reference-line
    names; axis and header labels) scaled with the presenting type, and text
    marks with no size given the same enlarged default. Config sizes are
    readable_config's job."""

    def walk(node: object) -> object:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {
            k: (
                round(v * factor)
                # A label's room grows with its type, or an enlarged milestone name is cut short.
                if k in _FONT_KEYS | {"labelLimit"} and isinstance(v, (int, float))
                else v
                if k in _DATA_KEYS  # rows of data hold no fonts: not walked
                else walk(v)
            )
            for k, v in node.items()
        }
        mark = out.get("mark")
        if mark == "text":
            out["mark"] = {"type": "text", "fontSize": round(11 * factor)}
        elif isinstance(mark, dict) and mark.get("type") == "text" and "fontSize" not in mark:
            out["mark"] = {**mark, "fontSize": round(11 * factor)}
        return out

    out = walk(spec)
    assert isinstance(out, dict)
    # A fixed-height chart (the flow diagram, trend lines) fits one screen with its heading
    # and sentence at 1440x900; a chart that grows by row keeps its rows (its view is split instead).
    if isinstance(out.get("height"), (int, float)):
        out["height"] = min(out["height"], PRESENT_MAX_HEIGHT)
    elif isinstance(out.get("height"), dict) and isinstance(out["height"].get("step"), (int, float)):
        # A chart of one row per group: its rows fit the larger type, or Vega drops every other label as overlapping.
        out["height"] = {**out["height"], "step": max(out["height"]["step"], PRESENT_MIN_STEP)}
    # Small multiples (the status grid) shrink their panels, not their number, to fit.
    inner = out.get("spec")
    if "facet" in out and isinstance(inner, dict) and isinstance(inner.get("height"), (int, float)):
        out["spec"] = {**inner, "height": min(inner["height"], PRESENT_PANEL_HEIGHT)}
    return out


def readable_config(config: dict | None, large: bool = False) -> dict:
    """A chart's Vega-Lite config with readable text colours (and, to present,
    larger text) added; anything the chart sets itself wins. Returns a new dict."""
    out = dict(config or {})
    wanted = {part: {**ours, **(_LARGE_TEXT.get(part, {}) if large else {})} for part, ours in _TEXT_CONFIG.items()}
    for part, ours in wanted.items():
        theirs = out.get(part)
        if theirs is None:
            out[part] = dict(ours)
        elif isinstance(theirs, dict):
            out[part] = {**ours, **theirs}
    return out


# Relative luminance at which black and white text contrast equally with a
# background (sqrt(1.05 * 0.05) - 0.05): above it black is the better choice.
_BLACK_OR_WHITE = 0.1791


def count_bars(table: pl.DataFrame, category: str, value: str, title: str) -> alt.LayerChart:
    """Horizontal bars from a table whose value column is text (numbers or the
    suppression symbol). Suppressed rows get no bar, only the symbol, so the
    chart cannot show a hidden count."""
    frame = (
        table.filter(pl.col(category) != "Total")
        .with_columns(
            # Hidden (c) or left out (blank): no bar, so the chart cannot show what the table does not.
            shown=pl.col(value).str.replace_all(",", "").cast(pl.Int64, strict=False),
            label=pl.col(value),
        )
        .with_columns(label_x=pl.col("shown").fill_null(0))
    )
    # The table's own order, written out: with sort=None a suppressed row (no
    # bar) would be placed after the others.
    order = frame[category].to_list()
    base = alt.Chart(frame).encode(y=alt.Y(f"{category}:N", title=None, sort=order, axis=alt.Axis(labelLimit=240)))
    bars = base.mark_bar(color=PALETTE[0]).encode(
        # Counts of people: whole numbers on the axis, never 0.5.
        x=alt.X("shown:Q", title=title, axis=alt.Axis(format="d", tickMinStep=1)),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip("label:N", title=title)],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(x=alt.X("label_x:Q"), text=alt.Text("label:N"))
    return alt.layer(bars, labels).properties(height=alt.Step(34))


def flow_diagram(nodes: pl.DataFrame, ribbons: pl.DataFrame, height: int = 520) -> alt.LayerChart:
    """Sankey-style flow from node rectangles and ribbon polygons (see
    partnership.flow.layout). Hover gives count and share of the cohort."""
    # Shapes to a thousandth of the chart (half a pixel) and shares as the tooltip gives
    # them: the browser gets no figure more precise than the page shows.
    nodes, ribbons = (
        frame.with_columns(pl.col(pl.Float64).round(3)).with_columns(pl.col("share").round(2))
        for frame in (nodes, ribbons)
    )
    y_scale = alt.Scale(domain=[0, 1.0], reverse=True)
    x_scale = alt.Scale(domain=[0, 1.0])
    bands = (
        alt.Chart(ribbons)
        .mark_area(opacity=0.35, interpolate="monotone")
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=None),
            y=alt.Y("y0:Q", scale=y_scale, axis=None),
            y2=alt.Y2("y1:Q"),
            detail=alt.Detail("link:N"),
            color=alt.Color("source:N", legend=None, scale=alt.Scale(range=PALETTE)),
            tooltip=[
                alt.Tooltip("source:N", title="From"),
                alt.Tooltip("target:N", title="To"),
                alt.Tooltip("value:Q", title="Young people"),
                alt.Tooltip("share:Q", title="Share", format=".0%"),
            ],
        )
    )
    rects = (
        alt.Chart(nodes)
        .mark_rect(color="#1B1B1B")
        .encode(
            x=alt.X("x0:Q", scale=x_scale),
            x2=alt.X2("x1:Q"),
            y=alt.Y("y0:Q", scale=y_scale),
            y2=alt.Y2("y1:Q"),
            tooltip=[
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("name:N", title="Group"),
                alt.Tooltip("value:Q", title="Young people"),
                alt.Tooltip("share:Q", title="Share", format=".0%"),
            ],
        )
    )
    label_frame = nodes.with_columns(
        ymid=((pl.col("y0") + pl.col("y1")) / 2).round(3),
        text=pl.format("{} ({})", pl.col("name"), pl.col("value")),
        xl=(pl.col("x1") + 0.004).round(3),
    )
    labels = (
        alt.Chart(label_frame)
        .mark_text(align="left", fontSize=11)
        .encode(x=alt.X("xl:Q", scale=x_scale), y=alt.Y("ymid:Q", scale=y_scale), text=alt.Text("text:N"))
    )
    titles = (
        nodes.group_by("stage", "stage_index", maintain_order=True)
        .agg(x=pl.col("x0").first())
        .with_columns(y=pl.lit(-0.04))
    )
    heads = (
        alt.Chart(titles)
        .mark_text(align="left", fontSize=12, fontWeight="bold")
        .encode(
            x=alt.X("x:Q", scale=x_scale),
            y=alt.Y("y:Q", scale=alt.Scale(domain=[-0.06, 1.0], reverse=True)),
            text=alt.Text("stage:N"),
        )
    )
    return alt.layer(bands, rects, labels, heads).properties(height=height).resolve_scale(y="shared")


def share_bars(table: pl.DataFrame, category: str, value: str, title: str, colour: str = PALETTE[0]) -> alt.Chart:
    """Bars of a percentage column held as text; suppressed or missing rows get no bar."""
    frame = table.with_columns(
        shown=pl.col(value).cast(pl.Float64, strict=False),
        label=pl.col(value).fill_null("no data"),
    )
    return (
        alt.Chart(frame)
        .mark_bar(color=colour)
        .encode(
            y=alt.Y(f"{category}:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("shown:Q", title=title),
            tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip("label:N", title=title)],
        )
        .properties(height=alt.Step(30))
    )


def trend_line(table: pl.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    frame = table.with_columns(shown=pl.col(y).cast(pl.Float64, strict=False))
    return (
        alt.Chart(frame)
        .mark_line(point=True, color=PALETTE[5], invalid="break-paths-filter-domains")
        .encode(
            x=alt.X(f"{x}:T", title="Quarter of 18th birthday", axis=alt.Axis(format="%b %Y")),
            # A long title is not cut off at this height: it may run to the chart's full height.
            y=alt.Y("shown:Q", title=title, axis=alt.Axis(titleLimit=300)),
            tooltip=[alt.Tooltip(f"{x}:T", title="Quarter", format="%Y-%m"), alt.Tooltip(f"{y}:N", title=title)],
        )
        .properties(height=300)
    )


def ratio_chart(table: pl.DataFrame) -> alt.LayerChart:
    """Representation ratios with 95% intervals; 1 = same share as the cohort.
    Flagged groups are also marked by shape, not colour alone."""
    frame = table.filter(pl.col("ratio_value").is_not_null()).with_columns(
        label=pl.format("{}: {}", pl.col("Characteristic"), pl.col("Group")),
        flagged=pl.when(pl.col("Flag") == "").then(pl.lit("Interval includes 1")).otherwise(pl.col("Flag")),
    )
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)))
    # Intervals on tiny groups can reach far out; the axis stops at 4 so the rest stays readable.
    whiskers = base.mark_rule(color="#555555").encode(
        x=alt.X("lo:Q", title="Ratio to cohort share", scale=alt.Scale(domain=[0, 4], clamp=True)), x2=alt.X2("hi:Q")
    )
    # Opaque: Vega-Lite's default 0.7 would take the colours below 3:1.
    points = base.mark_point(filled=True, size=70, opacity=1).encode(
        x=alt.X("ratio_value:Q"),
        shape=alt.Shape("flagged:N", title=None),
        color=alt.Color(
            "flagged:N",
            title=None,
            scale=alt.Scale(
                domain=["Over-represented", "Under-represented", "Interval includes 1"],
                range=[PALETTE[5], PALETTE[0], "#777777"],
            ),
        ),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("Ratio:N"), alt.Tooltip("95% interval:N"), alt.Tooltip("Flag:N")],
    )
    one = alt.Chart(pl.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x=alt.X("x:Q"))
    return alt.layer(whiskers, points, one).properties(height=alt.Step(26))


def fill_heatmap(frame: pl.DataFrame) -> alt.LayerChart:
    """Team x role fill rate. The percentage is written in each cell, so the
    colour is never the only carrier of the value."""
    data = frame.with_columns(
        pct=(pl.col("fill_rate") * 100).round(0),
        text=pl.format("{}%", (pl.col("fill_rate") * 100).round(0).cast(pl.Int64)),
    )
    base = alt.Chart(data).encode(
        x=alt.X("role:N", sort=None, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=220, labelOverlap=False)),
        y=alt.Y("team:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("pct:Q", title="Fill rate (%)", scale=alt.Scale(domain=[0, 100], scheme="blues")),
        tooltip=[
            alt.Tooltip("team:N"),
            alt.Tooltip("role:N"),
            alt.Tooltip("funded_fte:Q", title="Funded FTE"),
            alt.Tooltip("filled_fte:Q", title="Filled FTE"),
            alt.Tooltip("text:N", title="Fill rate"),
        ],
    )
    # Black or white, whichever stands out more from the cell's own colour:
    # the better of the two always reaches 4.5:1 (WCAG 1.4.3).
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("text:N"),
        color=alt.condition(
            f"luminance(scale('color', datum.pct)) > {_BLACK_OR_WHITE}", alt.value("black"), alt.value("white")
        ),
    )
    return alt.layer(cells, text).properties(height=alt.Step(30))


def caseload_bars(frame: pl.DataFrame, threshold: float, england: float) -> alt.LayerChart:
    """Cases per case-holding FTE per team, with the threshold and England's figure as lines."""
    data = frame.filter(pl.col("caseload").is_not_null())
    bars = (
        alt.Chart(data)
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y("team:N", sort=None, title=None),
            x=alt.X("caseload:Q", title="Cases per case-holding FTE"),
            tooltip=[
                alt.Tooltip("team:N"),
                alt.Tooltip("caseload:Q", format=".1f", title="Cases per FTE"),
                alt.Tooltip("cases:Q", title="Cases"),
                alt.Tooltip("case_fte:Q", title="Case-holding FTE"),
            ],
        )
    )
    names = [f"Threshold ({threshold:g})", f"England ({england:g})"]
    lines = pl.DataFrame({"x": [float(threshold), float(england)], "what": names})
    rules = (
        alt.Chart(lines)
        .mark_rule(size=2)
        .encode(
            x=alt.X("x:Q"),
            color=alt.Color("what:N", title=None, scale=alt.Scale(domain=names, range=[PALETTE[5], "#555555"])),
            # One legend, drawn with each line's own dash, so it reads without colour.
            strokeDash=alt.StrokeDash("what:N", title=None, scale=alt.Scale(domain=names, range=[[6, 3], [2, 2]])),
        )
    )
    # Each line named at its top, the lower one to its left and the higher to
    # its right, so two lines as close as 15 and 15.2 stay readable.
    threshold_side = "right" if threshold <= england else "left"
    tags = pl.DataFrame(
        {
            "x": [float(threshold), float(england)],
            "text": [f"Threshold {threshold:g}", f"England {england:g}"],
            "side": [threshold_side, "left" if threshold_side == "right" else "right"],
        }
    )
    names_at_top = [
        alt.Chart(tags.filter(pl.col("side") == side))
        .mark_text(align=side, dx=-5 if side == "right" else 5, baseline="bottom", fontSize=12, color="#333333")
        .encode(x=alt.X("x:Q"), y=alt.YValue(-2), text=alt.Text("text:N"))
        for side in ("right", "left")
    ]
    return alt.layer(bars, rules, *names_at_top).properties(height=alt.Step(28))


def trend_lines(
    frame: pl.DataFrame, value: str, title: str, rule: float | None = None, percent: bool = False
) -> alt.LayerChart:
    """One line per locality over the months held; shape as well as colour marks each locality."""
    # Rounded as the table and tooltip show it: the data drawn are the data shown.
    data = frame.with_columns(shown=(pl.col(value) * (100 if percent else 1)).round(1))
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("shown:Q", title=title),
            color=alt.Color("locality:N", title="Locality", scale=alt.Scale(range=PALETTE)),
            shape=alt.Shape("locality:N", title="Locality"),
            tooltip=[
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("locality:N"),
                alt.Tooltip("shown:Q", title=title, format=".1f"),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    if rule is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"y": [rule]})).mark_rule(strokeDash=[5, 3], color=PALETTE[5]).encode(y=alt.Y("y:Q"))
        )
    return alt.layer(*layers).properties(height=280)


def _trend_frames(
    series: pl.DataFrame, baseline: float, target: float, target_date: object
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The indicator chart's three layers' data: its values, the target and
    baseline lines, and the target's point at the target date."""
    return (
        # Hidden quarters stay in, as empty values: the line breaks there rather
        # than draw straight across a quarter the viewer may not see.
        series,
        pl.DataFrame({"y": [target, baseline], "what": ["Target", "Baseline"]}),
        pl.DataFrame({"x": [target_date], "y": [target]}),
    )


def _trend_title(name: str, unit: str) -> str:
    return name if len(name) < 40 else unit.capitalize()


def indicator_trend(
    series: pl.DataFrame, name: str, unit: str, baseline: float, target: float, target_date: object
) -> alt.LayerChart:
    """An indicator's values with its target (dashed line and a marked point
    at the target date) and its baseline (dotted line)."""
    data, refs, goal_at = _trend_frames(series, baseline, target, target_date)
    line = (
        alt.Chart(data)
        .mark_line(point=True, color=PALETTE[0], invalid="break-paths-filter-domains")
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("value:Q", title=_trend_title(name, unit)),
            tooltip=[
                alt.Tooltip("period:T", title="Quarter starting", format="%b %Y"),
                alt.Tooltip("shown:N", title="Value"),
            ],
        )
    )
    rules = (
        alt.Chart(refs)
        .mark_rule(size=2)
        .encode(
            y=alt.Y("y:Q"),
            color=alt.Color(
                "what:N", title=None, scale=alt.Scale(domain=["Target", "Baseline"], range=[PALETTE[5], "#777777"])
            ),
            strokeDash=alt.StrokeDash(
                "what:N", title=None, scale=alt.Scale(domain=["Target", "Baseline"], range=[[6, 3], [2, 2]])
            ),
            tooltip=[alt.Tooltip("what:N"), alt.Tooltip("y:Q", title="Value")],
        )
    )
    goal = (
        alt.Chart(goal_at)
        .mark_point(shape="diamond", size=120, filled=True, opacity=1, color=PALETTE[5])
        .encode(x=alt.X("x:T"), y=alt.Y("y:Q"))
    )
    return alt.layer(line, rules, goal).properties(height=220)


@functools.cache
def _trend_shape() -> dict:
    """indicator_trend's spec with no rows and no title: its shape, made by
    Altair once per process. Never changed: indicator_trend_spec copies it."""
    empty = pl.DataFrame(schema={"period": pl.Date, "value": pl.Float64, "shown": pl.String})
    return spec(indicator_trend(empty, "", "", 0.0, 0.0, dt.date(2000, 1, 1)))


def _values(frame: pl.DataFrame) -> list[dict]:
    """A frame's rows as Altair writes them into a spec (a date as midnight in ISO form)."""
    return [
        {k: f"{v.isoformat()}T00:00:00" if type(v) is dt.date else v for k, v in row.items()}
        for row in frame.to_dicts()
    ]


def _dataset_name(values: list[dict]) -> str:
    # Named by its content, as Altair names them: two layers with the same rows share one.
    return "data-" + hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]


def indicator_trend_spec(
    series: pl.DataFrame, name: str, unit: str, baseline: float, target: float, target_date: object
) -> dict:
    """spec(indicator_trend(...)), without building the chart: eighteen are
    drawn on the first view of the programme pages after new data, and
    Altair spent 17 ms on each for a shape that never changes. The shape is
    Altair's (_trend_shape); this fills in the title and the three datasets
    (tests/test_themes.py checks the two draw the same)."""
    out = copy.deepcopy(_trend_shape())
    out["layer"][0]["encoding"]["y"]["title"] = _trend_title(name, unit)
    datasets: dict[str, list[dict]] = {}
    for layer, frame in zip(out["layer"], _trend_frames(series, baseline, target, target_date), strict=True):
        values = _values(frame)
        layer["data"] = {"name": _dataset_name(values)}
        datasets[layer["data"]["name"]] = values
    out["datasets"] = datasets
    return out


def milestone_timeline(frame: pl.DataFrame, today: object) -> alt.LayerChart:
    """Milestones on a time axis; status shown by shape and in the tooltip as
    well as by colour. The red rule is today."""
    domain = ["Done", "On track", "Late"]
    points = (
        alt.Chart(frame)
        .mark_point(size=160, filled=True, opacity=1)
        .encode(
            x=alt.X("due:T", title="Due", axis=alt.Axis(format="%b %Y")),
            y=alt.Y("title:N", sort=None, title=None, axis=alt.Axis(labelLimit=440)),
            color=alt.Color(
                "status:N", scale=alt.Scale(domain=domain, range=[PALETTE[2], PALETTE[0], PALETTE[5]]), title="Status"
            ),
            shape=alt.Shape(
                "status:N", scale=alt.Scale(domain=domain, range=["circle", "square", "triangle-up"]), title="Status"
            ),
            tooltip=[
                alt.Tooltip("title:N"),
                alt.Tooltip("owner:N"),
                alt.Tooltip("due:T", format="%d %b %Y"),
                alt.Tooltip("status:N"),
            ],
        )
    )
    now = (
        alt.Chart(pl.DataFrame({"x": [today], "label": ["Today"]}))
        .mark_rule(color="#B00020")
        .encode(x=alt.X("x:T"), tooltip=[alt.Tooltip("label:N")])
    )
    return alt.layer(points, now).properties(height=alt.Step(34))


def status_grid(frame: pl.DataFrame) -> alt.FacetChart:
    """The programme at a glance: one small panel per indicator in theme
    order, tinted and labelled by its status, with its released series as a
    line (a hidden quarter is a gap). frame: order, panel (its title, lines
    separated by "|"), status, period, value."""
    statuses = list(STATUS_COLOURS)
    tint = alt.Scale(domain=statuses, range=[STATUS_COLOURS[s] for s in statuses])
    # Darker shades of the same hues for the status word: 4.5:1 on the tint.
    ink = alt.Scale(domain=statuses, range=["#00573F", "#6B4A00", "#8F3700", "#404040"])
    one_per_panel = {"groupby": ["panel", "status"]}
    band = (
        alt.Chart()
        .transform_aggregate(n="count()", **one_per_panel)
        .mark_rect(opacity=0.18)
        .encode(
            x=alt.value(0),
            x2=alt.value("width"),
            y=alt.value(0),
            y2=alt.value("height"),
            color=alt.Color("status:N", title="Status", scale=tint),
        )
    )
    line = (
        alt.Chart()
        .mark_line(color="#1B1B1B", strokeWidth=2, invalid="break-paths-filter-domains", clip=True)
        .encode(
            x=alt.X("period:T", title=None, axis=None),
            # The line keeps below the status word at the top of its panel, whatever the panel's height
            # (presenting shrinks it); in a facet that height is the signal child_height.
            y=alt.Y(
                "value:Q",
                title=None,
                axis=None,
                scale=alt.Scale(zero=False, nice=False, range=[{"expr": "child_height - 6"}, 26]),
            ),
            tooltip=[
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("period:T", title="Quarter starting", format="%b %Y"),
                alt.Tooltip("value:Q", title="Value", format=".1f"),
            ],
        )
    )
    word = (
        alt.Chart()
        .transform_aggregate(n="count()", **one_per_panel)
        .mark_text(align="left", baseline="top", dx=5, dy=5, fontSize=13, fontWeight="bold")
        .encode(
            x=alt.XValue(0),
            y=alt.YValue(0),
            text=alt.Text("status:N"),
            color=alt.Color("status:N", scale=ink, legend=None),
        )
    )
    return (
        alt.layer(band, line, word, data=frame)
        .properties(width=200, height=90)
        .facet(
            facet=alt.Facet(
                "panel:N",
                title=None,
                sort=alt.SortField("order"),
                header=alt.Header(
                    labelExpr="split(datum.label, '|')",
                    labelBaseline="top",
                    labelFontSize=12,
                    labelLimit=0,
                    labelAlign="left",
                    labelAnchor="start",
                ),
            ),
            columns=4,
            spacing={"row": 10, "column": 14},
        )
        .resolve_scale(x="independent", y="independent")
    )
