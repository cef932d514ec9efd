"""Statistical disclosure control for counts shown to viewers not cleared for case-level data.

Follows the DfE children-in-need convention: counts from 1 to a threshold are
shown as the GSS symbol "c", zero is always shown, and percentages built on a
suppressed count are suppressed too.

Tables with totals need secondary suppression. The table is handled together
with its totals as one grid in which every row and every column is an
additive line (cells sum to the line's total; the Total row and the Total
column are lines too, both summing to the grand total). A line with exactly
one hidden entry gives that entry away by subtraction, so a second entry is
hidden. After that, a linear-algebra check looks for hidden entries that
several lines pin down together (e.g. a cell joining two blocks of hidden
cells) and hides more until none is exactly recoverable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import polars as pl

SUPPRESSED = "c"
TOTAL_LABEL = "Total"
DEFAULT_THRESHOLD = 5

Position = tuple[int, int]


def is_small(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for 1..threshold; False for 0, None and larger."""
    return n is not None and 1 <= n <= threshold


def suppress_count(n: int | None, threshold: int = DEFAULT_THRESHOLD) -> int | str | None:
    """Return "c" for a count in 1..threshold, otherwise the count unchanged."""
    return SUPPRESSED if is_small(n, threshold) else n


def suppress_share(
    numerator: int | None,
    denominator: int | None,
    threshold: int = DEFAULT_THRESHOLD,
    digits: int = 0,
) -> float | str | None:
    """Percentage 100 * numerator / denominator rounded to `digits`.

    None when the denominator is 0 or missing (no meaningful share, whatever
    the numerator); "c" when either count is small, since a shown percentage
    and a shown denominator would give the hidden numerator back.
    """
    if denominator is None or denominator == 0:
        return None
    if is_small(numerator, threshold) or is_small(denominator, threshold):
        return SUPPRESSED
    if numerator is None:
        return None
    # Decimal with half-up rounding: published statistics round 12.5 to 13,
    # whereas float round() would give 12 (banker's rounding, binary error).
    share = Decimal(100 * numerator) / Decimal(denominator)
    return float(share.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class SuppressionPlan:
    """Which entries of a table and its totals are hidden.

    `row_totals` / `col_totals` / `grand_total` say which totals are hidden;
    they are all False when the matching totals are not displayed at all.
    """

    cells: tuple[tuple[bool, ...], ...]
    row_totals: tuple[bool, ...]
    col_totals: tuple[bool, ...]
    grand_total: bool
    show_row_totals: bool
    show_col_totals: bool


@dataclass(frozen=True)
class _Line:
    members: tuple[Position, ...]
    total: Position


class _Grid:
    """The table plus its displayed totals, addressed as one augmented matrix.

    Row totals sit in column `n_cols`, column totals in row `n_rows`.
    """

    def __init__(self, values: Sequence[Sequence[int]], row_totals: bool, col_totals: bool) -> None:
        self.n_rows = len(values)
        self.n_cols = len(values[0]) if values else 0
        self.show_row_totals = row_totals
        self.show_col_totals = col_totals
        self.value: dict[Position, int] = {}
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                self.value[(i, j)] = v
        r, c = self.n_rows, self.n_cols
        if row_totals:
            for i in range(r):
                self.value[(i, c)] = sum(values[i])
        if col_totals:
            for j in range(c):
                self.value[(r, j)] = sum(values[i][j] for i in range(r))
        if row_totals and col_totals:
            self.value[(r, c)] = sum(sum(row) for row in values)
        self.lines = self._build_lines()

    def _build_lines(self) -> list[_Line]:
        r, c = self.n_rows, self.n_cols
        lines: list[_Line] = []
        # Rows before columns: on the usual tables this closes a lone cell
        # with a rectangle of four rather than a long chain.
        if self.show_row_totals:
            lines.extend(_Line(tuple((i, j) for j in range(c)), (i, c)) for i in range(r))
            if self.show_col_totals:
                lines.append(_Line(tuple((r, j) for j in range(c)), (r, c)))
        if self.show_col_totals:
            lines.extend(_Line(tuple((i, j) for i in range(r)), (r, j)) for j in range(c))
            if self.show_row_totals:
                lines.append(_Line(tuple((i, c) for i in range(r)), (r, c)))
        return lines

    def is_total(self, pos: Position) -> bool:
        return pos[0] == self.n_rows or pos[1] == self.n_cols


def _validate_matrix(values: Sequence[Sequence[int]]) -> None:
    widths = {len(row) for row in values}
    if len(widths) > 1:
        raise ValueError("values must be a rectangular matrix")
    for row in values:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"counts must be int, got {v!r}")
            if v < 0:
                raise ValueError(f"counts must be non-negative, got {v}")


def _secondary_choice(grid: _Grid, line: _Line, hidden: set[Position]) -> Position:
    # Zeros are never candidates: 0 is always shown, so hiding one protects nothing.
    candidates = [(grid.value[p], k, p) for k, p in enumerate(line.members) if p not in hidden and grid.value[p] != 0]
    if candidates:
        return min(candidates)[2]
    # Only reached when the lone hidden entry is a member and all the other
    # members are 0; the total then equals that member and is non-zero.
    return line.total


def _close_lines(grid: _Grid, hidden: set[Position]) -> None:
    """Hide a second entry in every line with exactly one hidden entry, until stable."""
    changed = True
    while changed:
        changed = False
        for line in grid.lines:
            entries = (*line.members, line.total)
            if sum(p in hidden for p in entries) == 1:
                hidden.add(_secondary_choice(grid, line, hidden))
                changed = True


def _determined(grid: _Grid, hidden: set[Position]) -> list[Position]:
    """Hidden entries whose value follows exactly from the shown entries.

    Each line gives one equation (members minus total = 0); an unknown is
    determined iff its unit vector lies in the row space of those equations
    restricted to the unknowns, i.e. its reduced row has no free variable.
    """
    unknowns = sorted(hidden)
    if not unknowns:
        return []
    index = {p: k for k, p in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for line in grid.lines:
        row = [Fraction(0)] * len(unknowns)
        for p in line.members:
            if p in index:
                row[index[p]] = Fraction(1)
        if line.total in index:
            row[index[line.total]] = Fraction(-1)
        if any(row):
            rows.append(row)

    pivots: list[tuple[int, int]] = []  # (row in `rows`, column)
    top = 0
    for col in range(len(unknowns)):
        pivot = next((i for i in range(top, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[top], rows[pivot] = rows[pivot], rows[top]
        lead = rows[top][col]
        rows[top] = [x / lead for x in rows[top]]
        for i in range(len(rows)):
            if i != top and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[top], strict=True)]
        pivots.append((top, col))
        top += 1
        if top == len(rows):
            break

    return [unknowns[col] for row_i, col in pivots if all(x == 0 for k, x in enumerate(rows[row_i]) if k != col)]


def _bridge_breaker(grid: _Grid, target: Position, hidden: set[Position]) -> Position:
    def ranked(positions: Iterable[Position]) -> list[tuple[bool, int, Position]]:
        # Prefer interior cells, then the smallest value, then reading order.
        return sorted((grid.is_total(p), grid.value[p], p) for p in positions if p not in hidden and grid.value[p] != 0)

    near = ranked(p for p in grid.value if p[0] == target[0] or p[1] == target[1])
    if near:
        return near[0][2]
    anywhere = ranked(grid.value)
    if anywhere:
        return anywhere[0][2]
    # With every non-zero entry hidden, each line equation has only zeros on
    # its shown side, so a determined entry would have to be 0: impossible.
    raise AssertionError("no entry left to hide although a hidden entry is recoverable")


def suppression_plan(
    values: Sequence[Sequence[int]],
    threshold: int = DEFAULT_THRESHOLD,
    row_totals: bool = True,
    col_totals: bool = True,
) -> SuppressionPlan:
    """Primary and secondary suppression for a count matrix and its totals."""
    _validate_matrix(values)
    grid = _Grid(values, row_totals, col_totals)
    hidden = {p for p, v in grid.value.items() if is_small(v, threshold)}
    while True:
        _close_lines(grid, hidden)
        recoverable = _determined(grid, hidden)
        if not recoverable:
            break
        hidden.add(_bridge_breaker(grid, min(recoverable), hidden))

    r, c = grid.n_rows, grid.n_cols
    return SuppressionPlan(
        cells=tuple(tuple((i, j) in hidden for j in range(c)) for i in range(r)),
        row_totals=tuple((i, c) in hidden for i in range(r)),
        col_totals=tuple((r, j) in hidden for j in range(c)),
        grand_total=(r, c) in hidden,
        show_row_totals=row_totals,
        show_col_totals=col_totals,
    )


def suppression_mask(
    values: list[list[int]],
    threshold: int = DEFAULT_THRESHOLD,
    row_totals: bool = True,
    col_totals: bool = True,
) -> list[list[bool]]:
    """Which interior cells are hidden; see `suppression_plan` for the totals."""
    plan = suppression_plan(values, threshold, row_totals, col_totals)
    return [list(row) for row in plan.cells]


def recoverable_cells(
    values: Sequence[Sequence[int]],
    mask: Sequence[Sequence[bool]],
    row_totals: bool = True,
    col_totals: bool = True,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    hidden_row_totals: Sequence[bool] | None = None,
    hidden_col_totals: Sequence[bool] | None = None,
) -> list[tuple[int, int]]:
    """Hidden interior cells given away by one row or column by subtraction.

    A cell is caught when it is the only hidden cell of a row (column) whose
    total is displayed and shown. Which totals are hidden defaults to the
    small ones; pass `hidden_row_totals` / `hidden_col_totals` (e.g. from a
    `SuppressionPlan`) when totals were also hidden as secondary suppression.
    This is the single-line check only; `linearly_recoverable` also catches
    values pinned down by several lines together.
    """
    n_rows = len(values)
    n_cols = len(values[0]) if values else 0
    if hidden_row_totals is None:
        hidden_row_totals = [is_small(sum(row), threshold) for row in values]
    if hidden_col_totals is None:
        hidden_col_totals = [is_small(sum(values[i][j] for i in range(n_rows)), threshold) for j in range(n_cols)]
    found: set[tuple[int, int]] = set()
    if row_totals:
        for i in range(n_rows):
            hidden_js = [j for j in range(n_cols) if mask[i][j]]
            if len(hidden_js) == 1 and not hidden_row_totals[i]:
                found.add((i, hidden_js[0]))
    if col_totals:
        for j in range(n_cols):
            hidden_is = [i for i in range(n_rows) if mask[i][j]]
            if len(hidden_is) == 1 and not hidden_col_totals[j]:
                found.add((hidden_is[0], j))
    return sorted(found)


def linearly_recoverable(values: Sequence[Sequence[int]], plan: SuppressionPlan) -> list[Position]:
    """Hidden entries (cells or totals) whose exact value follows from what is shown.

    Positions are in the augmented grid: row totals in column len(values[0]),
    column totals in row len(values).
    """
    _validate_matrix(values)
    grid = _Grid(values, plan.show_row_totals, plan.show_col_totals)
    r, c = grid.n_rows, grid.n_cols
    hidden = {(i, j) for i in range(r) for j in range(c) if plan.cells[i][j]}
    if plan.show_row_totals:
        hidden |= {(i, c) for i in range(r) if plan.row_totals[i]}
    if plan.show_col_totals:
        hidden |= {(r, j) for j in range(c) if plan.col_totals[j]}
    if plan.show_row_totals and plan.show_col_totals and plan.grand_total:
        hidden.add((r, c))
    return _determined(grid, hidden)


def _check_count_columns(df: pl.DataFrame, value_cols: list[str]) -> None:
    missing = [c for c in value_cols if c not in df.columns]
    if missing:
        raise ValueError(f"value columns not in frame: {missing}")
    for c in value_cols:
        if not df.schema[c].is_integer():
            raise TypeError(f"value column {c!r} must be an integer type, got {df.schema[c]}")


def _shown(value: int, hidden: bool) -> str:
    return SUPPRESSED if hidden else str(value)


def suppress_table(
    df: pl.DataFrame,
    value_cols: list[str],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    row_totals: bool = True,
    col_totals: bool = True,
) -> pl.DataFrame:
    """Counts table with totals, primary and secondary suppression applied.

    Label columns (all columns not in `value_cols`) pass through unchanged;
    value columns and the added "Total" column become strings ("c" when
    hidden). With `col_totals` a last row labelled "Total" in the first
    label column holds the column sums.
    """
    _check_count_columns(df, value_cols)
    labels = [c for c in df.columns if c not in value_cols]
    if row_totals and TOTAL_LABEL in df.columns:
        raise ValueError(f"frame already has a {TOTAL_LABEL!r} column")
    if col_totals and not labels:
        raise ValueError("col_totals needs a label column to carry the 'Total' row label")
    if any(df[c].null_count() for c in value_cols):
        raise ValueError("value columns must not contain nulls")

    # Built per row so a frame with no value columns still keeps its height.
    columns = [df[c].to_list() for c in value_cols]
    values = [[col[i] for col in columns] for i in range(df.height)]
    if not values:
        # Nothing to hide in an empty table; its totals are all 0.
        plan = SuppressionPlan(
            cells=(),
            row_totals=(),
            col_totals=tuple(False for _ in value_cols),
            grand_total=False,
            show_row_totals=row_totals,
            show_col_totals=col_totals,
        )
    else:
        plan = suppression_plan(values, threshold, row_totals, col_totals)

    body = df.with_columns(
        pl.Series(
            c,
            [_shown(values[i][j], plan.cells[i][j]) for i in range(df.height)],
            dtype=pl.String,
        )
        for j, c in enumerate(value_cols)
    )
    if row_totals:
        body = body.with_columns(
            pl.Series(
                TOTAL_LABEL,
                [_shown(sum(values[i]), plan.row_totals[i]) for i in range(df.height)],
                dtype=pl.String,
            )
        )
    if not col_totals:
        return body

    # The first label column must hold the word "Total", so a non-string
    # label (e.g. an integer code or an Enum) is widened to String.
    first = labels[0]
    if body.schema[first] != pl.String:
        body = body.with_columns(pl.col(first).cast(pl.String))
    total_row: dict[str, object] = {c: None for c in body.columns}
    total_row[first] = TOTAL_LABEL
    for j, c in enumerate(value_cols):
        total_row[c] = _shown(sum(row[j] for row in values), plan.col_totals[j])
    if row_totals:
        total_row[TOTAL_LABEL] = _shown(sum(sum(row) for row in values), plan.grand_total)
    footer = pl.DataFrame([total_row], schema=body.schema)
    return pl.concat([body, footer], how="vertical")


def suppress_frame_counts(df: pl.DataFrame, value_cols: list[str], threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Primary suppression only, for lists that show no totals."""
    _check_count_columns(df, value_cols)
    return df.with_columns(
        pl.when(pl.col(c).is_between(1, threshold))
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in value_cols
    )
