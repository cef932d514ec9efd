"""Identifiers out of sight: on screen (the screen may be shared) and in the
log of refused imports (ids are stored only as keyed hashes, so a refusal
must not keep them in clear either)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_FIELDS = frozenset(
    {"CHILD", "child_id", "UPN", "MOTHER", "LAchildID", "FormerUPN", "LA_Person_Unique_Identifier", "NHS_Number"}
)
BIRTH_FIELDS = frozenset({"DOB", "birth_date", "MC_DOB", "PersonBirthDate", "Date_of_Birth"})
MASK = "•••••"
# file:row:field: reason (value); the row and the value are optional.
_WHERE = re.compile(r"^(?P<file>[^:]*):(?:(?P<row>\d+):)?(?P<field>[^:]*): ")


@dataclass(frozen=True)
class ProblemParts:
    file: str
    row: int | None
    field: str
    reason: str
    value: str | None


def split_problem(line: str) -> ProblemParts | None:
    """A `file:row:field: reason (value)` line in its parts. The value is the
    bracketed text that closes the line, matched bracket by bracket from the
    end, so a value holding brackets of its own (`=SUM(A1:A9)`) stays whole
    rather than spilling into the reason; a value whose brackets do not
    pair up leaves the line whole in the reason (shown, not mis-split)."""
    where = _WHERE.match(line)
    if where is None:
        return None
    rest = line[where.end() :]
    reason, value = rest, None
    if rest.endswith(")"):
        depth = 0
        for i in range(len(rest) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(rest[i], 0)
            if depth == 0:
                if i > 0 and rest[i - 1] == " ":
                    reason, value = rest[: i - 1], rest[i + 1 : -1]
                break
    row = int(where["row"]) if where["row"] else None
    return ProblemParts(where["file"], row, where["field"], reason, value)


def mask_value(column: str, value: str | None) -> str | None:
    """An identifier becomes a row of dots (blank stays blank, so a missing
    one still shows); a date of birth loses its day."""
    if value is None or value == "":
        return value
    if column in ID_FIELDS:
        return MASK
    if column in BIRTH_FIELDS:
        if m := re.fullmatch(r"\s*\d{1,2}/(\d{1,2}/\d{2,4})\s*", value):
            return f"••/{m.group(1)}"
        if m := re.fullmatch(r"\s*(\d{4}-\d{1,2})-\d{1,2}\s*", value):
            return f"{m.group(1)}-••"
        return MASK
    return value


def mask_problem(line: str) -> str:
    """A `file:row:field: reason (value)` line with an identifier's value masked."""
    parts = split_problem(line)
    if parts is None or parts.value is None:
        return line
    masked = mask_value(parts.field, parts.value)
    return line if masked == parts.value else f"{line[: len(line) - len(parts.value) - 1]}{masked})"
