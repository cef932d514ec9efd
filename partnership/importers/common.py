"""Reading CSV files as people actually send them, and reporting problems as
`file:row:field: reason (value)`."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from partnership.importers.limits import Limits, TooLarge, check_size
from partnership.importers.masking import ID_FIELDS
from partnership.wording import plural

MAX_REPORTED = 200
# No case system's child id is this long; a longer one is not an id.
ID_MAX_CHARS = 64
# Wider than any real return; a "line" wider than this is read the slow way.
MAX_COLUMNS = 2000
BOM = b"\xef\xbb\xbf"
# Exactly what str.strip() removes (polars' own default leaves \x1c-\x1f).
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


# Problems kept per check pass: a file with more is the wrong file, and
# millions of messages would cost more memory than the file itself.
MAX_KEPT = 10_000
_NOT_LISTED = re.compile(r"^[^:]*:file: (?P<n>[0-9,]+) more problems not listed")


def count_problems(problems: list[str]) -> int:
    """Problems in a list, counting those a 'not listed' line stands for."""
    total = 0
    for line in problems:
        m = _NOT_LISTED.match(line)
        total += int(m["n"].replace(",", "")) if m else 1
    return total


class ImportRejected(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, file_name: str, problems: list[str], rows: int = 0) -> None:
        self.file_name, self.problems, self.rows = file_name, problems, rows
        self.count = count_problems(problems)
        shown = problems[:MAX_REPORTED]
        more = f"\n... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        super().__init__(
            "\n".join(shown) + more + f"\n{file_name}: rejected, {self.count} {plural(self.count, 'problem')} in "
            f"{rows} {plural(rows, 'row')}; nothing was imported"
        )


@dataclass
class Problems:
    file_name: str
    items: list[str] = field(default_factory=list)

    def add(self, row: int | None, column: str, reason: str, value: object = None) -> None:
        where = f"{self.file_name}:{row}" if row is not None else self.file_name
        shown = "" if value is None else f" ({value})"
        self.items.append(f"{where}:{column}: {reason}{shown}")

    def raise_if_any(self, rows: int) -> None:
        if self.items:
            raise ImportRejected(self.file_name, self.items, rows)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cp1252_note(file_name: str) -> str:
    return f"{file_name}: not UTF-8; read as Windows-1252"


def _is_utf8(data: bytes) -> bool:
    """Checked a megabyte at a time, so a large file is never held twice as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _first_text_line(body: bytes) -> str:
    """The first line with anything but white space in it, as str.splitlines
    sees lines (the separator is guessed from it)."""
    start = 0
    while start < len(body):
        end = body.find(b"\n", start)
        end = len(body) if end < 0 else end
        for piece in body[start:end].decode("utf-8").splitlines():
            if piece.strip():
                return piece
        start = end + 1
    return ""


def _column_names(header: list[str]) -> list[str]:
    """Header cells as column names: a trailing separator leaves an unnamed
    last column that holds nothing, and a repeated name gets a suffix."""
    header = list(header)
    while header and header[-1] == "":
        header.pop()
    taken = {"_line"}  # the line-number column of every frame
    names = []
    for h in header:
        name, n = h, 1
        while name in taken:
            n += 1
            name = f"{h}__{n}"
        taken.add(name)
        names.append(name)
    return names


def read_csv_text(
    path: Path, comment_prefix: str | None = None, keep: Collection[str] | None = None
) -> tuple[pl.DataFrame, bytes, list[str]]:
    """All columns as text (or only those named in `keep`: the others are
    checked but never held), blank lines dropped (and, with `comment_prefix`,
    rows after the header whose first cell starts with it). Returns (frame,
    raw bytes, notes). Row numbers used in messages are file line numbers
    (header = line 1). A file over the size limit is refused unread, and a
    cell over the length limit before any other check."""
    limits = Limits.from_settings()
    try:
        check_size(path.name, path.stat().st_size, limits)
    except TooLarge as exc:
        raise ImportRejected(path.name, [f"{path.name}:file: {str(exc).removeprefix(path.name + ': ')}"]) from None
    return read_csv_bytes(path.name, path.read_bytes(), comment_prefix, keep, limits)


def read_csv_bytes(
    name: str,
    data: bytes,
    comment_prefix: str | None = None,
    keep: Collection[str] | None = None,
    limits: Limits | None = None,
) -> tuple[pl.DataFrame, bytes, list[str]]:
    """read_csv_text for bytes already in memory (`name` is used in messages)."""
    limits = limits or Limits.from_settings()
    problems = Problems(name)
    if not data or data.isspace():
        problems.add(None, "file", "the file is empty")
        problems.raise_if_any(0)
    body = data[3:] if data.startswith(BOM) else data
    notes = []
    if not _is_utf8(body):
        body = body.decode("cp1252", errors="replace").encode("utf-8")
        notes.append(_cp1252_note(name))
    # Old Mac line endings become \n; Windows ones polars reads as they are
    # (no copy of a large file for them). A NUL byte means it is not text.
    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"\x00" in body:
        problems.add(None, "file", "not a text file (it contains NUL bytes)")
        problems.raise_if_any(0)
    sep = sniff_separator(_first_text_line(body))
    frame = _read_with_polars(body, sep, problems, comment_prefix, keep, limits.max_cells)
    if frame is None:
        text = body.decode("utf-8").replace("\r\n", "\n")
        frame = _read_with_csv_module(text, sep, problems, comment_prefix, keep, limits.max_cells)
    check_lengths(frame, name, limits)
    return frame, data, notes


def check_lengths(frame: pl.DataFrame, name: str, limits: Limits) -> None:
    """Every text cell within the length limit (identifiers within
    ID_MAX_CHARS): checked first, so an over-long value is never carried
    into the other checks, their messages or a pseudonymised key."""
    problems = Problems(name)
    checks = []
    for col in frame.columns:
        if col == "_line" or frame.schema[col] != pl.String:
            continue
        most = ID_MAX_CHARS if col in ID_FIELDS else limits.max_field_chars
        too_long = pl.col(col).str.len_chars() > most
        if frame.select(too_long.any()).item():
            checks.append(
                Check(
                    too_long,
                    col,
                    pl.format("longer than {} characters", pl.lit(most)),
                    pl.concat_str(
                        [
                            pl.col(col).str.len_chars().cast(pl.String),
                            pl.lit(" characters, starting "),
                            pl.col(col).str.slice(0, 12).str.replace_all(r"[()]", "_"),
                        ]
                    ),
                )
            )
    if checks:
        problems.items += row_problems(name, frame, checks)
        problems.raise_if_any(frame.height)


def _too_many_cells(problems: Problems, max_cells: int) -> None:
    problems.add(None, "file", f"more than {max_cells:,} cells, the limit (DASHBOARD_MAX_CELLS); split the file")
    problems.raise_if_any(0)


def _read_with_polars(
    body: bytes,
    sep: str,
    problems: Problems,
    comment_prefix: str | None = None,
    keep: Collection[str] | None = None,
    max_cells: int | None = None,
) -> pl.DataFrame | None:
    """The fast path, for files in which every record is one line (which is
    nearly all of them, quoted separators included): polars parses the file
    twice, once as bare lines to count each line's fields and once as CSV,
    and the two agree line for line, so row numbers are real line numbers
    with no Python object per row or cell. None when a record spans lines
    (a quoted line break) or polars cannot parse it: the caller then uses
    the csv module, which copes with anything but holds every cell."""
    lines_in_file = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if not body:
        lines_in_file = 0
    q = {"\t": r"\t"}.get(sep, sep)  # , ; and tab: none is special in a regex
    quoted = '"(?:[^"]|"")*"'
    # A line with quotes is read here only if it is plain RFC 4180: quotes
    # only around whole fields ("" inside for a quote). Anything looser
    # (5" screen, "a"b) is left to the csv module, whose reading of it is the rule.
    plain = f'^(?:(?:{quoted}|[^"{q}]*){q})*(?:{quoted}|[^"{q}]*)$'
    raw = pl.col("raw")
    has_quote = raw.str.contains('"', literal=True)
    try:
        # Each line as one field (NUL never occurs: refused above), reduced
        # as it streams to its number of fields and whether it is plain.
        per_line = (
            pl.scan_csv(
                body,
                has_header=False,
                separator="\x00",
                quote_char=None,
                schema={"raw": pl.String},
                empty_string_is_null=False,
            )
            .select(
                (pl.when(has_quote).then(raw.str.replace_all(quoted, "")).otherwise(raw))
                .str.count_matches(sep, literal=True)
                .add(1)
                .cast(pl.Int32)
                .alias("_fields"),
                (~has_quote | raw.str.contains(plain)).alias("_plain"),
            )
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError:
        return None
    if per_line.height != lines_in_file or not per_line["_plain"].all():
        return None
    counts = per_line["_fields"]
    del per_line
    cells = int(counts.sum())
    if max_cells is not None and cells > max_cells:
        _too_many_cells(problems, max_cells)
    widest = int(counts.max() or 0)  # type: ignore[arg-type]
    if widest == 0:  # nothing after the byte-order mark
        problems.add(None, "file", "no header row")
        problems.raise_if_any(0)
    if widest > MAX_COLUMNS:
        return None
    cells = [f"c{i}" for i in range(widest)]
    scan = pl.scan_csv(
        body,
        has_header=False,
        separator=sep,
        quote_char='"',
        schema=dict.fromkeys(cells, pl.String),
        empty_string_is_null=False,
        # A short first line must not narrow the frame (tests/test_csv_reading.py
        # holds this reading to the csv module's on generated files).
        missing_columns="insert",
    )
    trimmed = [pl.col(c).fill_null("").str.strip_chars(WHITESPACE) for c in cells]
    lines = scan.with_row_index("_line", offset=1).select(pl.col("_line").cast(pl.Int64), *trimmed)
    not_blank = pl.any_horizontal([pl.col(c) != "" for c in cells])
    try:
        if scan.select(pl.len()).collect().item() != lines_in_file:
            return None  # a record spans lines
        header = lines.filter(not_blank).head(1).collect()
        if header.is_empty():
            problems.add(None, "file", "no header row")
            problems.raise_if_any(0)
        names = _column_names(list(header.row(0)[1:]))
        width = len(names)
        wanted = [i for i, name in enumerate(names) if keep is None or name in keep]
        data_row = not_blank & (pl.col("_line") > header["_line"][0])
        if comment_prefix:
            data_row = data_row & ~pl.col(cells[0]).str.starts_with(comment_prefix)
        # Cells past the header's last column must be empty (a trailing separator).
        spill = pl.any_horizontal([pl.col(c) != "" for c in cells[width:]]) if width < widest else pl.lit(False)
        # Trimmed, filtered and cut to the wanted columns as it streams: one copy of what is kept.
        rows = (
            lines.filter(data_row)
            .select("_line", *[pl.col(cells[i]).alias(names[i]) for i in wanted], spill.alias("_spill"))
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError:
        return None
    fields = counts.gather(rows["_line"] - 1)
    ragged = rows.select("_line", fields.alias("_fields"), "_spill").filter(
        (pl.col("_fields") < width) | pl.col("_spill")
    )
    for line, n in ragged.select("_line", "_fields").iter_rows():
        problems.add(line, "row", f"has {n} fields, the header has {width}")
    problems.raise_if_any(rows.height)
    return rows.drop("_spill")


def _read_with_csv_module(
    text: str,
    sep: str,
    problems: Problems,
    comment_prefix: str | None = None,
    keep: Collection[str] | None = None,
    max_cells: int | None = None,
) -> pl.DataFrame:
    """The slow path: every cell a Python string, but any CSV the csv module
    reads is read, records spanning lines included (numbered by the line
    they start on)."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    last_line = cells = 0
    try:
        for record in reader:
            # Each record starts on the line after the one the last ended on.
            records.append((last_line + 1, record))
            last_line = reader.line_num
            cells += len(record)
            if max_cells is not None and cells > max_cells:
                _too_many_cells(problems, max_cells)
    except csv.Error as exc:
        problems.add(reader.line_num, "file", f"not a readable CSV file: {exc}")
        problems.raise_if_any(0)
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if header is None:
            header = [h.strip() for h in record]
            continue
        if comment_prefix and record[0].strip().startswith(comment_prefix):
            continue
        rows.append(record)
        line_numbers.append(number)
    if header is None:
        problems.add(None, "file", "no header row")
        problems.raise_if_any(0)
    assert header is not None
    names = _column_names(header)
    width = len(names)
    for number, record in zip(line_numbers, rows, strict=True):
        extra = [c for c in record[width:] if c.strip()]
        if len(record) < width or extra:
            problems.add(number, "row", f"has {len(record)} fields, the header has {width}")
    problems.raise_if_any(len(rows))
    columns = {
        name: [r[i].strip() if i < len(r) else "" for r in rows]
        for i, name in enumerate(names)
        if keep is None or name in keep
    }
    return pl.DataFrame(
        {"_line": line_numbers, **columns}, schema={"_line": pl.Int64, **dict.fromkeys(columns, pl.String)}
    )


# --- checks on whole columns ----------------------------------------------------


@dataclass(frozen=True)
class Check:
    """Rows where `when` holds have a problem with `column`; `value`, if
    given, is shown in brackets after the reason."""

    when: pl.Expr
    column: str
    reason: str | pl.Expr
    value: pl.Expr | None = None


def row_problems(file_name: str, frame: pl.DataFrame, checks: Sequence[Check]) -> list[str]:
    """Every row's problems as `file:row:field: reason (value)`, in file order
    and, within a row, in the order of `checks`: the same list a loop over the
    rows would make, without a Python object per row."""
    parts = []
    for order, check in enumerate(checks):
        reason = check.reason if isinstance(check.reason, pl.Expr) else pl.lit(check.reason)
        shown = pl.lit("") if check.value is None else pl.concat_str([pl.lit(" ("), check.value, pl.lit(")")])
        # Messages are made on the whole frame, then filtered: a reason or
        # value may look at other rows (duplicates line N).
        parts.append(
            frame.lazy()
            .select(
                pl.col("_line"),
                pl.lit(order, dtype=pl.Int64).alias("_order"),
                pl.concat_str(
                    [
                        pl.lit(f"{file_name}:"),
                        pl.col("_line").cast(pl.String),
                        pl.lit(f":{check.column}: "),
                        reason,
                        shown,
                    ]
                ).alias("_message"),
                check.when.fill_null(False).alias("_hit"),
            )
            .filter(pl.col("_hit"))
        )
    if not parts:
        return []
    every = pl.concat(parts)
    found = every.sort("_line", "_order", maintain_order=True).head(MAX_KEPT).collect()
    messages: list[str] = found["_message"].to_list()
    if found.height == MAX_KEPT:
        total = every.select(pl.len()).collect().item()
        if total > MAX_KEPT:
            messages.append(f"{file_name}:file: {total - MAX_KEPT:,} more problems not listed; the first are")
    return messages


# No young person this product follows was born, or had a service, before
# this date: an earlier one is a typing slip (1800 for 2008), not history.
EARLIEST = dt.date(1990, 1, 1)


def date_range(parsed: str, column: str, today: dt.date) -> list[Check]:
    """Checks that the date in `parsed` (already a Date column, null where it
    did not parse) lies between EARLIEST and today; the raw text is shown."""
    when = pl.col(parsed)
    return [
        Check(when < EARLIEST, column, f"before {EARLIEST:%Y}: not a date this dashboard holds", pl.col(column)),
        Check(when > today, column, "in the future", pl.col(column)),
    ]


# A plain, zero-padded date: polars reads it exactly as datetime.strptime would.
_PLAIN_DATE = {"%d/%m/%Y": r"^[0-9]{2}/[0-9]{2}/[1-9][0-9]{3}$", "%Y-%m-%d": r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"}


def parse_dates(values: pl.Series, formats: Sequence[str], slow: Callable[[str], dt.date | None]) -> pl.Series:
    """Dates as `slow` (datetime.strptime with `formats`, first that fits)
    reads them; null where it cannot or the value is empty. Plain dates are
    parsed by polars; only the odd other value (1/2/2008, or no date at all)
    is handed to `slow`, once per distinct value."""
    text = pl.col("v")
    fast = pl.coalesce(
        [
            pl.when(text.str.contains(_PLAIN_DATE[fmt])).then(text.str.strptime(pl.Date, fmt, strict=False))
            for fmt in formats
        ]
        + [pl.lit(None, dtype=pl.Date)]
    )
    out = values.to_frame("v").select(fast.alias(values.name))[values.name]
    odd = values.filter(out.is_null() & (values != ""))
    if odd.len():
        mapping = {v: slow(v) for v in odd.unique().to_list()}
        looked_up = values.replace_strict(mapping, default=None, return_dtype=pl.Date)
        out = out.fill_null(looked_up)
    return out
