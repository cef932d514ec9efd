"""Limits on what an import reads, checked before the file is parsed.

A file is refused, with a message naming it and the limit, when it is larger
than `max_file_mb`; an Excel workbook (a zip archive of XML parts) also when
its parts would unpack to more than `max_unpacked_mb`, when a part is
compressed far beyond what real spreadsheets are, or when its worksheets
hold more than `max_cells` cells. The sizes a zip declares can lie, so the
parts are unpacked a megabyte at a time, counting bytes and cells, and the
reading stops as soon as a limit is passed: memory stays bounded by the
limits whatever the file claims. The same limits hold on the command line
and on the Data page (settings, see partnership/settings.py).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from partnership.settings import get_settings

MB = 1 << 20
CHUNK = MB
# A worksheet's declared range (<dimension>) is not trusted: Excel may
# declare a million rows for a formatted column. Cells are counted instead.
# Real .xlsx parts compress about 5 to 20 to 1; a sheet of one repeated cell
# can reach 1,000 to 1. Beyond this ratio a part is not a spreadsheet someone typed.
MAX_RATIO = 250
MAX_PARTS = 2000
# A cell in a worksheet's XML, with or without a namespace prefix.
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_unpacked_bytes: int
    max_cells: int
    max_field_chars: int

    @classmethod
    def from_settings(cls) -> Limits:
        s = get_settings()
        return cls(s.max_file_mb * MB, s.max_unpacked_mb * MB, s.max_cells, s.max_field_chars)


class TooLarge(ValueError):
    """The file passes a limit; the message says which, in words."""


def _mb(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n < 10 * MB else f"{n / MB:,.0f} MB"


def check_size(name: str, size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise TooLarge(
            f"{name}: the file is {_mb(size)}, more than the limit of {_mb(limits.max_file_bytes)}; "
            "split it, or ask the administrator to raise DASHBOARD_MAX_FILE_MB"
        )


def _count_new(pattern: re.Pattern[bytes], tail: bytes, chunk: bytes) -> int:
    """Matches in tail + chunk that end inside chunk: those wholly inside the
    tail were counted with the previous chunk."""
    return sum(1 for m in pattern.finditer(tail + chunk) if m.end() > len(tail))


def check_workbook(name: str, data: bytes, limits: Limits) -> None:
    """Refuse a workbook past the limits before any Excel reader sees it.
    A file that is not a zip archive at all is left to the reader, which
    says it is not a readable Excel file."""
    check_size(name, len(data), limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise TooLarge(f"{name}: {len(parts):,} parts in the workbook, more than a spreadsheet has")
        declared = sum(p.file_size for p in parts)
        if declared > limits.max_unpacked_bytes:
            raise TooLarge(
                f"{name}: the workbook would unpack to {_mb(declared)}, more than the limit of "
                f"{_mb(limits.max_unpacked_bytes)}"
            )
        for part in parts:
            if part.file_size > MB and part.file_size > MAX_RATIO * max(part.compress_size, 1):
                raise TooLarge(
                    f"{name}: part {part.filename} is compressed {part.file_size // max(part.compress_size, 1):,} "
                    "to 1, far beyond a real spreadsheet; refused unread"
                )
        unpacked = cells = 0
        for part in parts:
            sheet = part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")
            tail = b""
            try:
                with archive.open(part) as stream:
                    while chunk := stream.read(CHUNK):
                        unpacked += len(chunk)
                        if unpacked > limits.max_unpacked_bytes:
                            raise TooLarge(
                                f"{name}: the workbook unpacks to more than the limit of "
                                f"{_mb(limits.max_unpacked_bytes)} (its parts declare {_mb(declared)})"
                            )
                        if not sheet:
                            continue
                        cells += _count_new(_CELL, tail, chunk)
                        if cells > limits.max_cells:
                            raise TooLarge(
                                f"{name}: more than {limits.max_cells:,} cells in its worksheets, the limit "
                                "(DASHBOARD_MAX_CELLS); split the file"
                            )
                        tail = chunk[-32:]
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                reason = " ".join(str(exc).split())[:200]
                raise TooLarge(f"{name}: not a readable Excel file ({reason})") from None
