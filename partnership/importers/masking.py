"""Identifiers out of sight: on screen (the screen may be shared) and in the
log of refused imports (ids are stored only as keyed hashes, so a refusal
must not keep them in clear either)."""

from __future__ import annotations

import re

ID_FIELDS = frozenset({"CHILD", "child_id", "UPN", "MOTHER"})
BIRTH_FIELDS = frozenset({"DOB", "birth_date", "MC_DOB"})
MASK = "•••••"
# file:row:field: reason (value); the row and the value are optional.
PROBLEM = re.compile(
    r"^(?P<file>[^:]*):(?:(?P<row>\d+):)?(?P<field>[^:]*): (?P<reason>.*?)(?: \((?P<value>[^()]*)\))?$"
)


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
    m = PROBLEM.match(line)
    if m is None or m["value"] is None:
        return line
    masked = mask_value(m["field"], m["value"])
    return line if masked == m["value"] else f"{line[: m.start('value')]}{masked})"
