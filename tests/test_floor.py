"""The bench's floor (partnership/floor.py): a page's elements, captured from
a real run, are emitted again by the replay with nothing computed: the same
text, the same chart spec and data, the same table, in the same tabs."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from partnership.floor import capture, replay


def _page() -> None:
    import altair as alt
    import pandas as pd
    import streamlit as st

    frame = pd.DataFrame({"Locality": ["East", "Central", "North"], "Young people": [84, 128, 79]})
    st.title("Overview")
    st.caption("All localities · 2025")
    left, right = st.columns(2)
    left.metric("Open aged 16-17", "291", "+4 on 2024")
    right.metric("Turning 18 in 6 months", "78")
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        st.altair_chart(alt.Chart(frame).mark_bar().encode(x="Young people:Q", y="Locality:N"))
    with table_tab:
        st.dataframe(frame, hide_index=True)
    st.download_button("CSV", data=frame.to_csv().encode(), file_name="open.csv")


def _plain(ops: object) -> object:
    """Ops with their tables as rows, so two captures compare with ==."""
    if isinstance(ops, list):
        return [_plain(op) for op in ops]
    if isinstance(ops, dict):
        return {k: _plain(v) for k, v in ops.items()}
    if isinstance(ops, pd.DataFrame):
        return ops.to_dict("records")
    return ops


def test_the_floor_emits_what_the_page_emitted() -> None:
    page = AppTest.from_function(_page)
    page.run()
    ops = capture(page._tree)
    floor = AppTest.from_function(replay, args=(ops,))
    floor.run()
    assert not floor.exception
    # Captured again from the floor's own run: the same elements, with the same content.
    assert _plain(capture(floor._tree)) == _plain(ops)
    assert [t.value for t in floor.title] == ["Overview"]
    assert [(m.label, m.value, m.delta) for m in floor.metric] == [
        ("Open aged 16-17", "291", "+4 on 2024"),
        ("Turning 18 in 6 months", "78", ""),
    ]
    assert [t.label for t in floor.tabs] == ["Chart", "Table"]
    assert floor.dataframe[0].value["Young people"].tolist() == [84, 128, 79]
    (chart,) = next(op for op in ops[0]["children"] if op["kind"] == "tabs")["children"][0]
    rows = next(iter(chart["spec"]["datasets"].values()))
    assert [r["Young people"] for r in rows] == [84, 128, 79]
    assert [b.label for b in floor.get("download_button")] == ["CSV"]
