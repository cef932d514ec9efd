"""What the browser receives is what the page shows.

A chart's data travel to the browser whole, as Arrow tables inside
Streamlit's protocol messages, whatever the chart draws; a reader with
developer tools (or a script on the WebSocket) reads them all. So this test
does what such a reader would: it signs in as board, a locality manager and
the lead in real Chromium, opens every page they may see, records every
WebSocket frame the server sends, decodes each as Streamlit's ForwardMsg,
and reads every chart's datasets and every table. It fails on a chart column
that no encoding, tooltip, text mark or transform of that chart reads, on a
table column the page hides, and on a chart value more precise than any
page shows (a raw ratio where the screen says 15.8).

The field reader below is the test's own, written from the Vega-Lite
specification, not the product's (partnership.charts.drawn_fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pyarrow as pa
import pytest
from browser_support import sign_in
from conftest import Server
from playwright.sync_api import Page, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from test_browser import _idle, _no_traceback

WAIT = 45_000  # ms
PAGES = {
    "board": ["", "cohort", "capacity", "themes", "stories", "definitions"],
    "manager_east": ["", "cohort", "capacity", "themes", "stories"],
    "lead": ["", "cohort", "capacity", "themes", "stories", "quality"],
}
# The most decimals a chart may send: shapes to a thousandth of the chart (half a pixel);
# no figure on any page has more (a ratio's interval is shown as 0.85 to 1.20).
DECIMALS = 3

pytestmark = pytest.mark.browser


@dataclass
class Chart:
    page: str
    title: str
    spec: dict
    datasets: dict[str, pa.Table]


@dataclass
class Table:
    page: str
    table: pa.Table
    hidden: list[str]


def _fields(spec: object) -> set[str]:
    """Every field name a Vega-Lite spec reads: `field` of any encoding
    channel, tooltip, sort or transform, the names a transform lists
    (groupby, fold, pivot, lookup ...) and `datum.<name>` in expressions."""
    found: set[str] = set()
    listing = {"groupby", "fields", "fold", "flatten", "pivot", "lookup", "impute", "stack", "on", "key", "field"}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("datasets", "values"):
                    continue
                if k in listing:
                    found.update(x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str))
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.update(a or b for a, b in re.findall(r"datum(?:\.(\w+)|\[\s*['\"]([^'\"]+)['\"]\s*\])", node))

    walk(spec)
    return found


def _decode(frames: list[bytes], page: str) -> tuple[list[Chart], list[Table]]:
    charts: list[Chart] = []
    tables: list[Table] = []
    for frame in frames:
        msg = ForwardMsg.FromString(frame)
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            continue
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind == "vega_lite_chart":
            chart = element.vega_lite_chart
            spec = json.loads(chart.spec)
            datasets = {d.name or "": pa.ipc.open_stream(d.data.data).read_all() for d in chart.datasets}
            if chart.data.data:
                datasets["(inline)"] = pa.ipc.open_stream(chart.data.data).read_all()
            charts.append(Chart(page, str(spec.get("description", ""))[:90], spec, datasets))
        elif kind in ("dataframe", "table"):
            holder = getattr(element, kind)
            data = holder.arrow_data.data
            if not data:
                continue
            config = json.loads(holder.columns) if kind == "dataframe" and holder.columns else {}
            # The row numbers (`_index`) are turned off, not data.
            hidden = [n for n, c in config.items() if isinstance(c, dict) and c.get("hidden") and n != "_index"]
            tables.append(Table(page, pa.ipc.open_stream(data).read_all(), hidden))
    return charts, tables


def _too_precise(table: pa.Table) -> list[str]:
    out = []
    for name in table.column_names:
        if not pa.types.is_floating(table.schema.field(name).type):
            continue
        for value in table.column(name).to_pylist():
            if value is not None and abs(value - round(value, DECIMALS)) > 1e-9:
                out.append(f"{name}={value!r}")
                break
    return out


def _received(page: Page, server: Server, role: str) -> tuple[list[Chart], list[Table]]:
    frames: list[bytes] = []

    def listen(ws: object) -> None:
        ws.on("framereceived", lambda payload: frames.append(payload) if isinstance(payload, bytes) else None)  # type: ignore[attr-defined]

    page.on("websocket", listen)
    sign_in(page, server, role)
    charts: list[Chart] = []
    tables: list[Table] = []
    for slug in PAGES[role]:
        frames.clear()
        page.goto(f"{server.url}/{slug}")
        expect(page.get_by_text(f"Signed in as {role}")).to_be_visible(timeout=WAIT)
        _idle(page)
        _no_traceback(page)
        c, t = _decode(list(frames), slug or "overview")
        charts += c
        tables += t
    return charts, tables


@pytest.mark.parametrize("role", ["board", "manager_east", "lead"])
def test_every_chart_sends_only_what_it_draws(page: Page, server: Server, role: str) -> None:
    charts, tables = _received(page, server, role)
    # Every page that draws charts was read (a test that saw none would pass for nothing).
    assert {c.page for c in charts} >= {"overview", "cohort", "capacity", "themes"}, {c.page for c in charts}
    assert len(tables) >= 10
    undrawn, precise = [], []
    for chart in charts:
        fields = _fields(chart.spec)
        for name, data in chart.datasets.items():
            extra = sorted(set(data.column_names) - fields - {"index", "__index_level_0__"})
            if extra:
                undrawn.append(f"{chart.page}: '{chart.title}' sends {extra} (draws {sorted(fields)}) in {name}")
            if too := _too_precise(data):
                precise.append(f"{chart.page}: '{chart.title}' sends {too}")
    assert undrawn == []
    assert precise == []
    assert [f"{t.page}: hides {t.hidden}" for t in tables if t.hidden] == []
