"""Altair chart builders. They draw what they are given: filtering and
suppression happen before, so a chart never sees a hidden number."""

from __future__ import annotations

import altair as alt
import polars as pl

from partnership.disclosure import SUPPRESSED

# Okabe-Ito: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STATUS_COLOURS = {"On track": "#009E73", "At risk": "#E69F00", "Off track": "#D55E00", "Not yet measurable": "#999999"}


def count_bars(table: pl.DataFrame, category: str, value: str, title: str) -> alt.LayerChart:
    """Horizontal bars from a table whose value column is text (numbers or the
    suppression symbol). Suppressed rows get no bar, only the symbol, so the
    chart cannot show a hidden count."""
    frame = (
        table.filter(pl.col(category) != "Total")
        .with_columns(
            shown=pl.when(pl.col(value) == SUPPRESSED).then(None).otherwise(pl.col(value)).cast(pl.Int64),
            label=pl.col(value),
        )
        .with_columns(label_x=pl.col("shown").fill_null(0))
    )
    base = alt.Chart(frame).encode(y=alt.Y(f"{category}:N", title=None, sort=None))
    bars = base.mark_bar(color=PALETTE[0]).encode(
        x=alt.X("shown:Q", title=title),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip("label:N", title=title)],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(x="label_x:Q", text="label:N")
    return alt.layer(bars, labels).properties(height=alt.Step(34))
