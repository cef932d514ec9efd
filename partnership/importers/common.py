"""Reading CSV files as people actually send them, and reporting problems as
`file:row:field: reason (value)`."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

MAX_REPORTED = 200


class ImportRejected(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, file_name: str, problems: list[str], rows: int = 0) -> None:
        self.file_name, self.problems, self.rows = file_name, problems, rows
        shown = problems[:MAX_REPORTED]
        more = f"\n... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        super().__init__(
            "\n".join(shown) + more + f"\n{file_name}: rejected, {len(problems)} problem(s) in "
            f"{rows} row(s); nothing was imported"
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


def decode(data: bytes, file_name: str) -> tuple[str, str | None]:
    """Text of a file; UTF-8 (with or without byte-order mark) or, failing
    that, Windows-1252 as Excel writes it, with a note saying so."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), f"{file_name}: not UTF-8; read as Windows-1252"


def sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def read_csv_text(path: Path) -> tuple[pl.DataFrame, bytes, list[str]]:
    """All columns as text, blank lines dropped. Returns (frame, raw bytes, notes).
    Row numbers used in messages are file line numbers (header = line 1)."""
    data = path.read_bytes()
    problems = Problems(path.name)
    if not data.strip():
        problems.add(None, "file", "the file is empty")
        problems.raise_if_any(0)
    text, note = decode(data, path.name)
    notes = [note] if note else []
    # Old Mac and Windows line endings alike; a NUL byte means it is not text.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        problems.add(None, "file", "not a text file (it contains NUL bytes)")
        problems.raise_if_any(0)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    sep = sniff_separator(first)
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    header: list[str] | None = None
    try:
        records = list(reader)
    except csv.Error as exc:
        problems.add(reader.line_num, "file", f"not a readable CSV file: {exc}")
        problems.raise_if_any(0)
    for number, record in enumerate(records, start=1):
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if header is None:
            header = [h.strip() for h in record]
            continue
        rows.append(record)
        line_numbers.append(number)
    if header is None:
        problems.add(None, "file", "no header row")
        problems.raise_if_any(0)
    assert header is not None
    # A trailing separator leaves an unnamed last column; it holds nothing.
    while header and header[-1] == "":
        header.pop()
    seen: dict[str, int] = {}
    names = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        names.append(h if seen[h] == 1 else f"{h}__{seen[h]}")
    width = len(names)
    for number, record in zip(line_numbers, rows, strict=True):
        extra = [c for c in record[width:] if c.strip()]
        if len(record) < width or extra:
            problems.add(number, "row", f"has {len(record)} fields, the header has {width}")
    problems.raise_if_any(len(rows))
    columns = {name: [r[i].strip() if i < len(r) else "" for r in rows] for i, name in enumerate(names)}
    frame = pl.DataFrame(
        {"_line": line_numbers, **columns}, schema={"_line": pl.Int64, **dict.fromkeys(names, pl.String)}
    )
    return frame, data, notes
