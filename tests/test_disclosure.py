"""Tests for partnership.disclosure; expected tables are worked by hand."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from partnership.disclosure import (
    SUPPRESSED,
    SuppressionPlan,
    is_small,
    linearly_recoverable,
    recoverable_cells,
    suppress_count,
    suppress_frame_counts,
    suppress_share,
    suppress_table,
    suppression_mask,
    suppression_plan,
)


def _expected(rows: list[list[str | None]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")


# --- single counts and shares -------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0), (1, "c"), (5, "c"), (6, 6), (None, None), (1234, 1234)],
)
def test_suppress_count_default_threshold(n: int | None, expected: int | str | None) -> None:
    assert suppress_count(n) == expected


def test_suppress_count_custom_threshold() -> None:
    assert suppress_count(7, threshold=10) == "c"
    assert suppress_count(10, threshold=10) == "c"
    assert suppress_count(11, threshold=10) == 11
    assert suppress_count(0, threshold=10) == 0


def test_is_small() -> None:
    assert [is_small(n) for n in (None, 0, 1, 5, 6)] == [
        False,
        False,
        True,
        True,
        False,
    ]
    assert SUPPRESSED == "c"


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (3, 40, "c"),
        (20, 40, 50.0),
        (10, 4, "c"),  # small denominator
        (0, 40, 0.0),
        (5, 0, None),
        (5, None, None),
        (None, 40, None),
        (1, 8, "c"),
        (10, 80, 13.0),  # 12.5 rounds half up, not to even
    ],
)
def test_suppress_share(num: int | None, den: int | None, expected: float | str | None) -> None:
    assert suppress_share(num, den) == expected


def test_suppress_share_digits_and_threshold() -> None:
    assert suppress_share(10, 30, digits=1) == 33.3
    assert suppress_share(20, 30, digits=2) == 66.67
    assert suppress_share(8, 40, threshold=10) == "c"


# --- hand-worked tables -------------------------------------------------------


def test_three_by_three_table() -> None:
    # Grid with totals:        16  17  18 | Tot
    #   East                   12   3  20 |  35
    #   Central                15   9   7 |  31
    #   North                   0  11  14 |  25
    #   Total                  27  23  41 |  91
    # Primary: East/17 (3). Rows first: East has one hidden cell -> hide its
    # smallest other non-zero cell, East/16 (12). Column 16 now has one hidden
    # cell -> Central/16 (15; North/16 is 0 and never chosen). Column 17 has
    # one hidden cell -> Central/17 (9 < 11). Second sweep: every line holds 0
    # or 2 hidden entries, and the four form a rectangle, so nothing is exact.
    df = pl.DataFrame(
        {
            "locality": ["East", "Central", "North"],
            "16": [12, 15, 0],
            "17": [3, 9, 11],
            "18": [20, 7, 14],
        }
    )
    expected = _expected(
        [
            ["East", "c", "c", "20", "35"],
            ["Central", "c", "c", "7", "31"],
            ["North", "0", "11", "14", "25"],
            ["Total", "27", "23", "41", "91"],
        ],
        ["locality", "16", "17", "18", "Total"],
    )
    assert_frame_equal(suppress_table(df, ["16", "17", "18"]), expected)
    assert suppression_mask([[12, 3, 20], [15, 9, 7], [0, 11, 14]]) == [
        [True, True, False],
        [True, True, False],
        [False, False, False],
    ]


def test_row_with_only_zeros_beside_hidden_cell_hides_its_total() -> None:
    # Grid with totals:   a   b | Tot
    #   P                 2   9 |  11
    #   Q                 8   0 |   8
    #   R                10   7 |  17
    #   Total            20  16 |  36
    # Sweep 1: P has one hidden (2) -> P/b (9). Column a -> Q/a (8 < 10).
    # Column b -> R/b (7; Q/b is 0). Sweep 2: Q's only other cell is 0, so
    # Q's total (8) is hidden instead. R -> R/a (10). The Total column now
    # has one hidden entry (Q's total) -> the smallest other row total, P (11).
    # Sweep 3 is stable.
    df = pl.DataFrame({"group": ["P", "Q", "R"], "a": [2, 8, 10], "b": [9, 0, 7]})
    expected = _expected(
        [
            ["P", "c", "c", "c"],
            ["Q", "c", "0", "c"],
            ["R", "c", "c", "17"],
            ["Total", "20", "16", "36"],
        ],
        ["group", "a", "b", "Total"],
    )
    assert_frame_equal(suppress_table(df, ["a", "b"]), expected)


def test_small_row_total_is_hidden_and_protected() -> None:
    # Grid with totals:   a   b | Tot
    #   P                 0   3 |   3   <- cell and total both small
    #   Q                10  12 |  22
    #   Total            10  15 |  25
    # Column b has one hidden (3) -> Q/b (12). The Total column has one hidden
    # (P's 3), which 25 - 22 would give back -> Q's total (22) is hidden too.
    df = pl.DataFrame({"group": ["P", "Q"], "a": [0, 10], "b": [3, 12]})
    expected = _expected(
        [
            ["P", "0", "c", "c"],
            ["Q", "10", "c", "c"],
            ["Total", "10", "15", "25"],
        ],
        ["group", "a", "b", "Total"],
    )
    assert_frame_equal(suppress_table(df, ["a", "b"]), expected)


def test_small_column_total() -> None:
    # Grid with totals:   a   b | Tot
    #   P                 1  10 |  11
    #   Q                 3  20 |  23
    #   Total             4  30 |  34   <- column a's total is small
    # Primary: P/a, Q/a and column a's total. Row P has one hidden -> P/b (10);
    # row Q -> Q/b (20); the Total row has one hidden (4) -> the other column
    # total (30). Columns a and b then hold three hidden entries each.
    df = pl.DataFrame({"group": ["P", "Q"], "a": [1, 3], "b": [10, 20]})
    expected = _expected(
        [
            ["P", "c", "c", "11"],
            ["Q", "c", "c", "23"],
            ["Total", "c", "c", "34"],
        ],
        ["group", "a", "b", "Total"],
    )
    assert_frame_equal(suppress_table(df, ["a", "b"]), expected)


def test_secondary_needed_across_several_lines_is_added() -> None:
    # Two 2x2 blocks of small cells joined by one small cell at (0, 2): every
    # row and column has 0 or >= 2 hidden cells, yet rows 0+1 minus columns
    # 0+1 give (0, 2) exactly. The plan must hide one more cell: the smallest
    # non-zero shown cell in row 0 or column 2 is (0, 3) = 20.
    values = [
        [1, 2, 3, 20],
        [4, 5, 30, 40],
        [50, 60, 1, 2],
        [70, 80, 3, 4],
    ]
    primary_only = SuppressionPlan(
        cells=tuple(tuple(1 <= v <= 5 for v in row) for row in values),
        row_totals=(False,) * 4,
        col_totals=(False,) * 4,
        grand_total=False,
        show_row_totals=True,
        show_col_totals=True,
    )
    assert recoverable_cells(values, [list(r) for r in primary_only.cells]) == []
    assert linearly_recoverable(values, primary_only) == [(0, 2)]

    assert suppression_mask(values) == [
        [True, True, True, True],
        [True, True, False, False],
        [False, False, True, True],
        [False, False, True, True],
    ]
    assert linearly_recoverable(values, suppression_plan(values)) == []


def test_table_without_totals_is_primary_only() -> None:
    values = [[12, 3, 20], [15, 9, 7]]
    assert suppression_mask(values, row_totals=False, col_totals=False) == [
        [False, True, False],
        [False, False, False],
    ]
    df = pl.DataFrame({"locality": ["East", "Central"], "16": [12, 15], "17": [3, 9]})
    expected = _expected([["East", "12", "c"], ["Central", "15", "9"]], ["locality", "16", "17"])
    assert_frame_equal(suppress_table(df, ["16", "17"], row_totals=False, col_totals=False), expected)


def test_row_totals_only() -> None:
    # No column totals: only rows are lines. East: 3 hidden -> 12 hidden.
    df = pl.DataFrame({"locality": ["East", "Central"], "16": [12, 15], "17": [3, 9]})
    expected = _expected(
        [["East", "c", "c", "15"], ["Central", "15", "9", "24"]],
        ["locality", "16", "17", "Total"],
    )
    assert_frame_equal(suppress_table(df, ["16", "17"], col_totals=False), expected)


def test_col_totals_only_and_second_label_column_is_null() -> None:
    # No row totals: only columns are lines. Column 17: 3 hidden -> 9 hidden.
    df = pl.DataFrame({"code": [1, 2], "locality": ["East", "Central"], "16": [12, 15], "17": [3, 9]})
    out = suppress_table(df, ["16", "17"], row_totals=False)
    expected = pl.DataFrame(
        {
            "code": ["1", "2", "Total"],
            "locality": ["East", "Central", None],
            "16": ["12", "15", "27"],
            "17": ["c", "c", "12"],
        }
    )
    assert_frame_equal(out, expected)


def test_custom_threshold_in_table() -> None:
    df = pl.DataFrame({"group": ["P", "Q"], "a": [7, 20], "b": [30, 40]})
    out = suppress_table(df, ["a", "b"], threshold=10)
    # 7 hidden; row P -> 30, column a -> 20; column b -> 40 completes the square.
    expected = _expected(
        [["P", "c", "c", "37"], ["Q", "c", "c", "60"], ["Total", "27", "70", "97"]],
        ["group", "a", "b", "Total"],
    )
    assert_frame_equal(out, expected)


def test_suppress_table_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        suppress_table(pl.DataFrame({"g": ["x"], "a": [1.5]}), ["a"])
    with pytest.raises(ValueError, match="nulls"):
        suppress_table(pl.DataFrame({"g": ["x", "y"], "a": [1, None]}), ["a"])
    with pytest.raises(ValueError, match="non-negative"):
        suppress_table(pl.DataFrame({"g": ["x"], "a": [-1]}), ["a"])
    with pytest.raises(ValueError, match="not in frame"):
        suppress_table(pl.DataFrame({"g": ["x"], "a": [1]}), ["b"])


def test_suppress_frame_counts() -> None:
    df = pl.DataFrame({"name": ["A", "B", "C", "D"], "n": [0, 4, 6, None], "m": [5, 1000, 1, 12]})
    expected = pl.DataFrame(
        {
            "name": ["A", "B", "C", "D"],
            "n": ["0", "c", "6", None],
            "m": ["c", "1000", "c", "12"],
        }
    )
    assert_frame_equal(suppress_frame_counts(df, ["n", "m"]), expected)


def test_recoverable_cells_single_line_check() -> None:
    values = [[12, 3], [15, 9]]
    only_one = [[False, True], [False, False]]
    # Row 0 (total 15) and column 1 (total 12) both give the 3 back.
    assert recoverable_cells(values, only_one) == [(0, 1)]
    assert recoverable_cells(values, only_one, row_totals=False) == [(0, 1)]
    assert recoverable_cells(values, only_one, row_totals=False, col_totals=False) == []
    # A hidden row total stops the row argument; the column one still applies.
    assert recoverable_cells(values, only_one, hidden_row_totals=[True, False]) == [(0, 1)]
    assert (
        recoverable_cells(
            values,
            only_one,
            hidden_row_totals=[True, False],
            hidden_col_totals=[False, True],
        )
        == []
    )
    # By default a total counts as hidden when it is small: row 0 sums to 3.
    small_row = [[0, 3], [10, 12]]
    assert recoverable_cells(small_row, only_one, col_totals=False) == []
    assert recoverable_cells(small_row, only_one) == [(0, 1)]
    square = [[True, True], [True, True]]
    assert recoverable_cells(values, square) == []


# --- properties ---------------------------------------------------------------


@st.composite
def matrices(draw: st.DrawFn) -> list[list[int]]:
    n_rows = draw(st.integers(1, 5))
    n_cols = draw(st.integers(1, 5))
    return draw(
        st.lists(
            st.lists(st.integers(0, 30), min_size=n_cols, max_size=n_cols),
            min_size=n_rows,
            max_size=n_rows,
        )
    )


@settings(max_examples=300, deadline=None)
@given(
    values=matrices(),
    threshold=st.sampled_from([3, 5, 10]),
    row_totals=st.booleans(),
    col_totals=st.booleans(),
)
def test_suppression_properties(values: list[list[int]], threshold: int, row_totals: bool, col_totals: bool) -> None:
    plan = suppression_plan(values, threshold, row_totals, col_totals)
    mask = suppression_mask(values, threshold, row_totals, col_totals)
    assert mask == [list(r) for r in plan.cells]

    row_sums = [sum(r) for r in values]
    col_sums = [sum(col) for col in zip(*values, strict=True)]
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if 1 <= v <= threshold:
                assert mask[i][j], "small cell shown"
            if v == 0:
                assert not mask[i][j], "zero cell hidden"
    if row_totals:
        for s, hidden in zip(row_sums, plan.row_totals, strict=True):
            assert hidden or not 1 <= s <= threshold
            assert not (hidden and s == 0)
    if col_totals:
        for s, hidden in zip(col_sums, plan.col_totals, strict=True):
            assert hidden or not 1 <= s <= threshold
            assert not (hidden and s == 0)

    assert (
        recoverable_cells(
            values,
            mask,
            row_totals,
            col_totals,
            threshold=threshold,
            hidden_row_totals=plan.row_totals,
            hidden_col_totals=plan.col_totals,
        )
        == []
    )
    assert linearly_recoverable(values, plan) == []

    if not row_totals and not col_totals:
        assert mask == [[1 <= v <= threshold for v in row] for row in values]


@settings(max_examples=100, deadline=None)
@given(values=matrices())
def test_table_matches_plan(values: list[list[int]]) -> None:
    cols = [f"v{j}" for j in range(len(values[0]))]
    df = pl.DataFrame(
        {"label": [f"r{i}" for i in range(len(values))]} | {c: [row[j] for row in values] for j, c in enumerate(cols)}
    )
    out = suppress_table(df, cols)
    plan = suppression_plan(values)
    assert out.height == len(values) + 1
    assert out.columns == ["label", *cols, "Total"]
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            assert out[cols[j]][i] == ("c" if plan.cells[i][j] else str(v))
    assert out["label"][-1] == "Total"
    assert out["Total"][-1] == ("c" if plan.grand_total else str(sum(map(sum, values))))


def test_empty_table_shows_zero_totals() -> None:
    empty = pl.DataFrame(schema={"locality": pl.String, "n": pl.Int64})
    out = suppress_table(empty, ["n"], row_totals=False)
    assert out.to_dicts() == [{"locality": "Total", "n": "0"}]
