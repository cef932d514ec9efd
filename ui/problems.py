"""An import's problem list on screen: every row visible up to a long list
(a refusal is read line by line while fixing the file), and a CSV of it."""

from __future__ import annotations

import polars as pl
import streamlit as st

from partnership.exports import table_to_csv

SHOWN_WHOLE = 40  # rows; a longer list scrolls inside the table
# Drawn on screen at most; the CSV holds every problem kept. A damaged file
# once put 5.5 million problems on screen over 84 seconds.
SHOWN_MAX = 1000
ROW_PX, HEADER_PX = 35, 38


def problem_list(problems: pl.DataFrame, summary: str, filename: str, key: str) -> None:
    st.markdown(summary)
    height = "content" if problems.height <= SHOWN_WHOLE else SHOWN_WHOLE * ROW_PX + HEADER_PX
    st.dataframe(problems.head(SHOWN_MAX), hide_index=True, width="stretch", height=height)
    if problems.height > SHOWN_MAX:
        st.caption(f"The first {SHOWN_MAX:,} of {problems.height:,} problems are shown; the CSV has them all.")
    st.download_button(
        "Problems as CSV",
        # A refused file's values are whatever it held: `=1+1` must open as text, as in page exports.
        table_to_csv(problems),
        file_name=f"{filename}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"dl_{key}",
    )
