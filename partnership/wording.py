"""Released figures in words and table cells: the one place numbers become
text. Nothing here computes a figure; it only says what was released."""

from __future__ import annotations

import datetime as dt

from partnership.disclosure import SUPPRESSED, Released


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 young person', '3 young people': the noun agrees with the count."""
    return one if n == 1 else (many or one + "s")


def capital(text: str) -> str:
    """A sentence that may start with a figure in words ('fewer than 6 ...')."""
    return text[:1].upper() + text[1:]


def fewer_than(threshold: int) -> str:
    return f"fewer than {threshold + 1}"


def small_counts_rule(threshold: int, short: bool = False) -> str:
    """The suppression rule in the words every caption, note and file uses. c is
    the government statistical symbol for a figure not shown to protect
    confidentiality: it is said of a small count and of a figure hidden to
    protect one alike, so it never tells a reader a hidden figure is small."""
    if short:  # a projector's caption line
        return f"counts of 1 to {threshold}, and figures that would give one away, shown as c"
    return (
        f"counts from 1 to {threshold} are shown as c, and so is any figure that would give one away "
        "(c: not shown to protect confidentiality)"
    )


def count(released: Released, key: str, one: str = "", many: str | None = None) -> str:
    """A count for a sentence: '1,234 young people', 'fewer than 6 young
    people' where it is hidden for being small, 'a number not shown' where it
    is hidden to protect another. With no noun, the number alone."""
    value = released.get(key)
    noun = (
        f" {plural(value, one, many)}" if one and isinstance(value, int) else (f" {many or one + 's'}" if one else "")
    )
    if key in released.withheld or value is None:
        return "a number not shown" + (f" of {many or one + 's'}" if one else "")
    if value == SUPPRESSED:
        if key in released.primary:
            return f"{fewer_than(released.threshold)}{noun}"
        return "a number not shown" + (f" of {many or one + 's'}" if one else "") + " (to protect smaller counts)"
    return f"{int(value):,}{noun}"


def cell(released: Released, key: str) -> str:
    """A count for a table cell: the number, c where hidden, blank where left out."""
    value = released.get(key)
    if value is None or key in released.withheld:
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    return f"{int(value):,}" if isinstance(value, int) else str(value)


def pct(released: Released, key: str, digits: int = 0) -> str:
    """A share for a sentence: '34%', 'not shown' where hidden, 'no data' with nobody in it."""
    value = released.get(key)
    if value == SUPPRESSED or key in released.withheld:
        return "a share not shown"
    if value is None:
        return "no data"
    return f"{float(value):.{digits}f}%"


def pct_cell(released: Released, key: str, digits: int = 1) -> str:
    value = released.get(key)
    if value == SUPPRESSED:
        return SUPPRESSED
    if value is None or key in released.withheld:
        return ""
    return f"{float(value):.{digits}f}"


def number(released: Released, key: str, digits: int = 2) -> str:
    value = released.get(key)
    if value == SUPPRESSED:
        return SUPPRESSED
    if value is None or key in released.withheld:
        return ""
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else str(value)


def days(released: Released, key: str) -> str:
    value = released.get(key)
    if value == SUPPRESSED:
        return "not shown"
    if value is None:
        return "no data"
    return f"{float(value):.0f} days"


def points(difference: float) -> str:
    """A difference of two percentages, in percentage points."""
    n = abs(round(difference))
    return f"{n} {plural(n, 'point')}"


def month(day: dt.date) -> str:
    """A month, where only the month is kept (dates of birth, 18th birthdays)."""
    return f"{day:%B %Y}"


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def hidden_note(released: Released, keys: list[str], what: str) -> str:
    """'3 bands of fewer than 6 young people are not drawn.' for the keys of a
    table or chart that are hidden or left out; empty when none is."""
    gone = [k for k in keys if k in released.hidden or k in released.withheld]
    if not gone:
        return ""
    # Small: hidden for being small, or left out of a breakdown for being small (not withheld to protect another).
    small = [k for k in gone if k in released.primary or (released.get(k) is None and k not in released.withheld)]
    n = len(gone)
    if len(small) == n:
        return (
            f"{n} {plural(n, what)} of {fewer_than(released.threshold)} young people "
            f"{'is' if n == 1 else 'are'} not shown."
        )
    return f"{n} {plural(n, what)} {'is' if n == 1 else 'are'} not shown, to protect small counts."
