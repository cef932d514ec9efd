"""Hypothesis strategies for damaged import files.

A case starts from a clean table (real rows from shared/data, or rows written
for a template), writes it in a layout that must not matter (separator, byte-order
mark, blank lines, quoting, line endings, Windows-1252) and applies at most one
piece of structured damage whose outcome is known before the importer runs:
accepted with a known result, or refused naming a known file, line and field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import strategies as st

from tests import bombs


class _Any:
    """Where a random file is refused is not known; only that it is, cleanly."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
UNKNOWN_CHILD = "NO-SUCH-CHILD-9"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def index(self, column: str) -> int:
        return self.header.index(column)

    def cell(self, row: int, column: str) -> str:
        return self.rows[row][self.index(column)]

    def with_cell(self, row: int, column: str, value: str) -> Table:
        cells = list(self.rows[row])
        cells[self.index(column)] = value
        return replace(self, rows=(*self.rows[:row], tuple(cells), *self.rows[row + 1 :]))

    def with_row(self, at: int, cells: tuple[str, ...]) -> Table:
        return replace(self, rows=(*self.rows[:at], cells, *self.rows[at:]))

    def without_column(self, column: str) -> Table:
        i = self.index(column)
        return Table(
            tuple(h for j, h in enumerate(self.header) if j != i),
            tuple(tuple(c for j, c in enumerate(r) if j != i) for r in self.rows),
        )

    def renamed(self, column: str, new: str) -> Table:
        return replace(self, header=tuple(new if h == column else h for h in self.header))


def load_rows(path: Path, lines: Sequence[int]) -> Table:
    """Header and the given file lines (2 = first data line) of a real file, as they are."""
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    return Table(tuple(records[0]), tuple(tuple(records[n - 1]) for n in lines))


def table_of(header: Sequence[str], rows: Sequence[dict[str, str]]) -> Table:
    return Table(tuple(header), tuple(tuple(r.get(h, "") for h in header) for r in rows))


@dataclass(frozen=True)
class Layout:
    """How a table is written; none of it may change what is imported."""

    sep: str = ","
    bom: bool = False
    cp1252: bool = False
    quote_all: bool = False
    crlf: bool = False
    blank_after: tuple[int, ...] = ()  # -1: after the header; i: after data row i
    blank_text: str = ""  # what a blank line holds: nothing, spaces, or separators
    padded: bool = False  # a space each side of every header name and value


CLEAN = Layout()
# The must-accept layouts named in the brief, and Excel's "Unicode text" and
# Windows-1252 exports, one at a time...
INVARIANTS: dict[str, Layout] = {
    "bom": Layout(bom=True),
    "semicolons": Layout(sep=";"),
    "blank lines": Layout(blank_after=(-1, 0, 2)),
    "all quoted": Layout(quote_all=True),
    "windows-1252, tabs, crlf": Layout(sep="\t", cp1252=True, crlf=True),
}
# ... and all at once.
COMBINED: dict[str, Layout] = {
    "bom, semicolons, quoted, blank lines, crlf": Layout(
        sep=";", bom=True, quote_all=True, crlf=True, blank_after=(-1, 0, 1), blank_text="   "
    ),
    "windows-1252, separator-only lines": Layout(cp1252=True, blank_after=(0, 5), blank_text=",,,"),
}


def render(table: Table, layout: Layout) -> tuple[bytes, tuple[int, ...]]:
    """The file's bytes and the file line of each data row (header = line 1)."""
    end = "\r\n" if layout.crlf else "\n"
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=layout.sep,
        quoting=csv.QUOTE_ALL if layout.quote_all else csv.QUOTE_MINIMAL,
        lineterminator=end,
    )
    blank = layout.blank_text.replace(",", layout.sep) + end
    if layout.padded:
        table = Table(
            tuple(f" {h} " for h in table.header), tuple(tuple(f" {c} " if c else c for c in r) for r in table.rows)
        )
    last = len(table.rows) - 1
    after = {min(i, last) for i in layout.blank_after}
    writer.writerow(table.header)
    line = 1
    if -1 in after:
        out.write(blank)
        line += 1
    lines = []
    for i, row in enumerate(table.rows):
        writer.writerow(row)
        line += 1
        lines.append(line)
        if i in after:
            out.write(blank)
            line += 1
    text = out.getvalue()
    data = text.encode("cp1252") if layout.cp1252 else text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data if layout.bom else data), tuple(lines)


def render_xlsx(table: Table, sheet: str) -> tuple[bytes, tuple[int, ...]]:
    """An Excel workbook with every cell as text, as the template would be filled in."""
    import xlsxwriter

    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:
        ws = book.add_worksheet(sheet[:31])
        for r, row in enumerate((table.header, *table.rows)):
            for c, value in enumerate(row):
                if value != "":
                    ws.write_string(r, c, value)
    return buffer.getvalue(), tuple(range(2, len(table.rows) + 2))


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Accepted:
    """Imported. counts: the row count of each named table afterwards; None means
    the database must be exactly what the clean files give."""

    counts: dict[str, int] | None = None


@dataclass(frozen=True)
class Rejected:
    """Refused. Every problem is in `file`; one of them names `line` and `field`
    (ANY: not known) and contains `reason`; `count` problems in all (None: not known)."""

    file: str
    line: int | _Any | None
    field: str | _Any
    count: int | None = 1
    reason: str = ""


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name as the importer expects it, e.g. "episodes.csv"
    clean: Table
    bad: dict[str, tuple[str, ...]]  # column -> values each refused as one problem at that column
    required: tuple[str, ...]  # columns whose absence is refused at line 1
    ignored: dict[str, dict[str, int] | None] = field(default_factory=dict)  # column -> outcome without it
    duplicate: str | Accepted | None = None  # a repeated row: refused at this field, or this outcome
    child: str | None = None  # column that must name a child already known
    data_rows: int | None = None  # rows read as data (later rows are ignored by design)
    excel: bool = False  # also read as .xlsx


@dataclass(frozen=True)
class Spec:
    name: str
    files: tuple[FileSpec, ...]
    counts: dict[str, int]  # rows per table after importing the clean files, counted by hand


@dataclass(frozen=True)
class Case:
    spec: str
    label: str  # what was done, shown by hypothesis for a failing example
    files: dict[str, bytes]
    expect: Accepted | Rejected
    windows_1252: bool = False  # some file is not UTF-8: the importer must say how it read it
    dry_run_first: bool = False  # a dry run first must decide the same and write nothing

    def __repr__(self) -> str:
        return f"Case({self.spec}: {self.label} -> {self.expect})"


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    cp1252 = draw(st.booleans())
    return Layout(
        sep=draw(st.sampled_from([",", ";", "\t"])),
        bom=not cp1252 and draw(st.booleans()),
        cp1252=cp1252,
        quote_all=draw(st.booleans()),
        crlf=draw(st.booleans()),
        blank_after=tuple(sorted(draw(st.sets(st.integers(-1, 12), max_size=3)))),
        blank_text=draw(st.sampled_from(["", "   ", ",,,"])),
        padded=draw(st.booleans()),
    )


def _bad_cells(f: FileSpec) -> list[tuple[int, str, str]]:
    """(row, column, value) for every bad value on every row where that cell is
    filled in the clean file (damaging an empty optional cell is another case)."""
    rows = range(f.data_rows if f.data_rows is not None else len(f.clean.rows))
    return [(r, col, value) for col, values in f.bad.items() for r in rows if f.clean.cell(r, col) for value in values]


def _renames(column: str, header: tuple[str, ...]) -> list[str]:
    names = [column.lower(), column.upper(), f"{column}_old", f"old {column}", column.replace("_", " ")]
    return [n for n in dict.fromkeys(names) if n.strip() != column and n not in header]


KINDS = (
    "layout",
    "bad value",
    "missing column",
    "ignored column",
    "duplicate row",
    "too many fields",
    "too few fields",
    "unknown child",
    "empty file",
    "random bytes",
    "decompression bomb",
)
EXCEL_KINDS = (
    "layout",
    "bad value",
    "missing column",
    "ignored column",
    "duplicate row",
    "unknown child",
    "decompression bomb",
)
# Workbooks small on disk and huge unpacked (tests/bombs.py), with what their refusal says.
BOMBS = {
    "unpacks to 300 MB": (bombs.unpacks_big, "would unpack to 300 MB"),
    "2.5 million cells": (bombs.many_cells, "more than 2,000,000 cells"),
    "sizes that lie": (bombs.lying_sizes, "not a readable Excel file"),
}


def available(f: FileSpec, kind: str) -> bool:
    return {
        "bad value": bool(f.bad),
        "missing column": bool(f.required),
        "ignored column": bool(f.ignored),
        "duplicate row": f.duplicate is not None,
        "unknown child": f.child is not None,
    }.get(kind, True)


@st.composite
def cases(draw: st.DrawFn, spec: Spec, kinds: Sequence[str] = KINDS) -> Case:
    target = draw(st.sampled_from(spec.files))
    excel = target.excel and draw(st.booleans())
    kind = draw(
        st.sampled_from(
            [
                k
                for k in kinds
                if available(target, k) and (not excel or k in EXCEL_KINDS) and (excel or k != "decompression bomb")
            ]
        )
    )
    table = target.clean
    n = target.data_rows if target.data_rows is not None else len(table.rows)
    name = target.name.rsplit(".", 1)[0] + ".xlsx" if excel else target.name
    raw: bytes | None = None
    label = kind
    # What to do to the table, and the expected outcome given each data row's file line.
    expect: Callable[[tuple[int, ...]], Accepted | Rejected] = lambda _lines: Accepted()  # noqa: E731

    if kind == "bad value":
        row, column, value = draw(st.sampled_from(_bad_cells(target)))
        table = table.with_cell(row, column, value)
        label = f"row {row} {column}={value!r}"
        expect = lambda lines: Rejected(name, lines[row], column)  # noqa: E731
    elif kind == "missing column":
        column = draw(st.sampled_from(target.required))
        new = draw(st.sampled_from([None, *_renames(column, table.header)]))
        table = table.without_column(column) if new is None else table.renamed(column, new)
        label = f"{column} dropped" if new is None else f"{column} renamed {new!r}"
        expect = lambda _lines: Rejected(name, 1, column)  # noqa: E731
    elif kind == "ignored column":
        column = draw(st.sampled_from(sorted(target.ignored)))
        table = table.without_column(column)
        label = f"{column} dropped"
        expect = lambda _lines: Accepted(target.ignored[column])  # noqa: E731
    elif kind == "duplicate row":
        first = draw(st.integers(0, n - 1))
        at = draw(st.integers(first + 1, n))
        table = table.with_row(at, table.rows[first])
        label = f"row {first} repeated as row {at}"
        outcome = target.duplicate
        if isinstance(outcome, str):
            expect = lambda lines: Rejected(name, lines[at], outcome, reason=f"duplicates line {lines[first]}")  # noqa: E731
        else:
            assert isinstance(outcome, Accepted)
            expect = lambda _lines: outcome  # noqa: E731
    elif kind == "too many fields":
        row = draw(st.integers(0, n - 1))
        table = replace(table, rows=(*table.rows[:row], (*table.rows[row], "extra"), *table.rows[row + 1 :]))
        label = f"row {row} has an extra field"
        expect = lambda lines: Rejected(name, lines[row], "row")  # noqa: E731
    elif kind == "too few fields":
        row = draw(st.integers(0, n - 1))
        cells = table.rows[row]
        # The reader drops a trailing unnamed column, so the header's width is without it.
        width = len(table.header)
        while width and table.header[width - 1] == "":
            width -= 1
        keep = draw(st.integers(1, width - 1))
        # A row cut down to blanks would be a blank line, which is skipped by design.
        if not any(c.strip() for c in cells[:keep]):
            keep = next(i for i, c in enumerate(cells) if c.strip()) + 1
        table = replace(table, rows=(*table.rows[:row], cells[:keep], *table.rows[row + 1 :]))
        label = f"row {row} cut to {keep} fields"
        expect = lambda lines: Rejected(name, lines[row], "row")  # noqa: E731
    elif kind == "unknown child":
        assert target.child is not None
        column = target.child
        row = draw(st.integers(0, n - 1))
        table = table.with_cell(row, column, UNKNOWN_CHILD)
        label = f"row {row} names an unknown child"
        expect = lambda lines: Rejected(name, lines[row], column)  # noqa: E731
    elif kind == "empty file":
        raw = draw(st.sampled_from([b"", b"\n", b"  \r\n\n", b"\xef\xbb\xbf"]))
        label = f"file is {raw!r}"
        expect = lambda _lines: Rejected(name, None, "file")  # noqa: E731
    elif kind == "decompression bomb":
        which = draw(st.sampled_from(sorted(BOMBS)))
        make, says = BOMBS[which]
        raw = make()
        label = f"a workbook that {which}"
        expect = lambda _lines: Rejected(name, None, "file", reason=says)  # noqa: E731
    elif kind == "random bytes":
        raw = draw(st.binary(min_size=1, max_size=300))
        label = f"file is random bytes {raw[:40]!r}"
        expect = lambda _lines: Rejected(name, ANY, ANY, count=None)  # noqa: E731

    files: dict[str, bytes] = {}
    windows = False
    outcome_lines: tuple[int, ...] = ()
    for f in spec.files:
        if f is target:
            if raw is not None:
                files[name] = raw
                continue
            if excel:
                files[name], outcome_lines = render_xlsx(table, name.rsplit(".", 1)[0])
                label += ", as Excel"
                continue
            layout = draw(layouts())
            files[name], outcome_lines = render(table, layout)
            label += f", {layout}"
        else:
            files[f.name], _ = render(f.clean, draw(layouts()))
        windows = windows or not is_utf8(files[name if f is target else f.name])
    return Case(spec.name, f"{target.name}: {label}", files, expect(outcome_lines), windows, draw(st.booleans()))


def layout_case(spec: Spec, label: str, layout: Layout) -> Case:
    """Every file of a spec, undamaged, in one of the must-accept layouts."""
    files = {f.name: render(f.clean, layout)[0] for f in spec.files}
    return Case(spec.name, label, files, Accepted(), not all(is_utf8(d) for d in files.values()))


def damaged(
    spec: Spec, file_name: str, change: Callable[[Table], Table], expect: Accepted | Rejected, label: str
) -> Case:
    """One hand-written piece of damage to one file of a spec, every file in the
    clean layout (data row i on file line i + 2), for explicit examples."""
    files = {f.name: render(change(f.clean) if f.name == file_name else f.clean, CLEAN)[0] for f in spec.files}
    assert file_name in files
    return Case(spec.name, f"{file_name}: {label}", files, expect)
