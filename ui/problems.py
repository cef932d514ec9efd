"""An import's problem list on screen: every row visible up to a long list
(a refusal is read line by line while fixing the file), and a CSV of it."""

from __future__ import annotations

import polars as pl
import streamlit as st

SHOWN_WHOLE = 40  # rows; a longer list scrolls inside the table
ROW_PX, HEADER_PX = 35, 38


def problem_list(problems: pl.DataFrame, summary: str, filename: str, key: str) -> None:
    st.markdown(summary)
    height = "content" if problems.height <= SHOWN_WHOLE else SHOWN_WHOLE * ROW_PX + HEADER_PX
    st.dataframe(problems, hide_index=True, width="stretch", height=height)
    st.download_button(
        "Problems as CSV",
        problems.write_csv(),
        file_name=f"{filename}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"dl_{key}",
    )
