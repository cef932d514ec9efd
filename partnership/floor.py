"""Streamlit's own floor for a page rerun: a script that emits the very same
elements a page emitted (charts with their spec and data, tables, metrics,
text, download buttons, widgets, in the same containers, tabs and columns)
and computes nothing. A page's warm rerun over this floor is how much of the
rerun is the page's own work rather than Streamlit's.

`capture` reads a finished AppTest run into plain data; `floor_ms` replays it
in a fresh AppTest and times the reruns. The replay is a function whose body
AppTest runs as a script, so it imports what it needs itself."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

Op = dict[str, Any]

_TEXT = {"markdown", "caption", "title", "header", "subheader", "divider", "html"}
_ALERTS = {"warning", "info", "success", "error"}


def capture(node: Any) -> list[Op]:
    """The elements under an AppTest node (its tree, a block), as replayable data."""
    ops: list[Op] = []
    for child in getattr(node, "children", {}).values():
        kind = getattr(child, "type", "")
        if kind in ("main", "sidebar"):
            ops.append({"kind": kind, "children": capture(child)})
        elif kind == "tab_container":
            tabs = list(child.children.values())
            ops.append({"kind": "tabs", "labels": [t.label for t in tabs], "children": [capture(t) for t in tabs]})
        elif kind in ("flex_container", "form", "vertical", "horizontal", "expandable"):
            columns = [c for c in child.children.values() if getattr(c, "type", "") == "column"]
            if columns and len(columns) == len(child.children):
                ops.append({"kind": "columns", "children": [capture(c) for c in columns]})
            else:
                ops.append({"kind": "container", "children": capture(child)})
        elif kind in _TEXT:
            ops.append({"kind": kind, "body": getattr(child.proto, "body", "")})
        elif kind == "alert" or kind in _ALERTS:
            ops.append({"kind": "warning", "body": getattr(child.proto, "body", "")})
        elif kind == "metric":
            ops.append({"kind": "metric", "label": child.label, "value": child.value, "delta": child.delta or None})
        elif kind in ("dataframe", "arrow_data_frame", "table", "arrow_table"):
            ops.append({"kind": "table" if "table" in kind else "dataframe", "frame": child.value})
        elif kind == "vega_lite_chart":
            spec = json.loads(child.proto.spec)
            if child.proto.datasets:  # Streamlit sent these as Arrow: back inline, parsed once, here
                spec["datasets"] = {**spec.get("datasets", {}), **_datasets(child.proto)}
            ops.append({"kind": "chart", "spec": spec})
        elif kind in ("download_button", "button", "page_link", "form_submit_button"):
            label = getattr(child.proto, "label", "")
            ops.append({"kind": "download" if kind == "download_button" else "button", "label": label})
        elif kind in ("selectbox", "radio"):
            ops.append({"kind": "selectbox", "label": child.label, "options": list(child.options)})
        elif kind in ("text_input", "text_area", "number_input"):
            ops.append({"kind": "text_input", "label": child.label})
        elif kind in ("toggle", "checkbox"):
            ops.append({"kind": "toggle", "label": child.label})
        elif hasattr(child, "children") and child.children:
            ops.append({"kind": "container", "children": capture(child)})
    return ops


def _datasets(proto: Any) -> dict[str, list[dict[str, Any]]]:
    """A chart's named datasets (Streamlit sends them as Arrow), back as rows."""
    import pyarrow as pa

    out = {}
    for named in proto.datasets:
        table = pa.ipc.open_stream(named.data.data).read_all()
        out[named.name] = table.to_pylist()
    return out


def replay(ops: list) -> None:  # type: ignore[type-arg]  # AppTest runs this body as a script: no names from outside
    import streamlit as st

    count = [0]

    def key() -> str:
        count[0] += 1
        return f"floor_{count[0]}"

    def emit(items: list[dict]) -> None:
        for op in items:
            kind = op["kind"]
            if kind == "main":
                emit(op["children"])
            elif kind == "sidebar":
                with st.sidebar:
                    emit(op["children"])
            elif kind == "tabs":
                for tab, children in zip(st.tabs(op["labels"]), op["children"], strict=True):
                    with tab:
                        emit(children)
            elif kind == "columns":
                for column, children in zip(st.columns(len(op["children"])), op["children"], strict=True):
                    with column:
                        emit(children)
            elif kind == "container":
                with st.container():
                    emit(op["children"])
            elif kind in ("markdown", "divider"):
                st.markdown(op["body"])
            elif kind == "caption":
                st.caption(op["body"])
            elif kind == "title":
                st.title(op["body"])
            elif kind in ("header", "subheader"):
                st.subheader(op["body"])
            elif kind == "html":
                st.html(op["body"])
            elif kind == "warning":
                st.warning(op["body"])
            elif kind == "metric":
                st.metric(op["label"], op["value"], op["delta"])
            elif kind == "dataframe":
                st.dataframe(op["frame"], hide_index=True)
            elif kind == "table":
                st.table(op["frame"])
            elif kind == "chart":
                st.vega_lite_chart(op["spec"], width="stretch")
            elif kind == "download":
                st.download_button(op["label"], data=b"", key=key())
            elif kind == "button":
                st.button(op["label"], key=key())
            elif kind == "selectbox":
                st.selectbox(op["label"], op["options"], key=key())
            elif kind == "text_input":
                st.text_input(op["label"], key=key())
            elif kind == "toggle":
                st.toggle(op["label"], key=key())

    emit(ops)


def floor_ms(ops: list[Op], runs: int = 5) -> float:
    """The median rerun of the replay, after one run to warm it."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(replay, args=(ops,), default_timeout=600)
    at.run()
    if at.exception:
        raise RuntimeError(f"the floor script raised: {at.exception[0].value}")
    return median_rerun_ms(at, runs)


def median_rerun_ms(at: Any, runs: int) -> float:
    """The median of `runs` reruns of an AppTest that has already run once: a page's or its floor's."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
