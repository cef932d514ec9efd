"""The disclosure step, on releases worked by hand.

Each case is checked two ways: the values a reader sees (what is hidden),
and, independently of the engine's own audit, by brute force: every
assignment of whole numbers to the hidden counts that agrees with everything
shown (totals, percentages as rounded, c meaning 1 to the threshold for a
count hidden for being small, and at least 1 for any hidden count) is
enumerated, and each small hidden count must keep at least protection()
possible values. The examples are the ones the issue found in the product.
"""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from partnership.disclosure import (
    SUPPRESSED,
    Count,
    Derived,
    Median,
    Rate,
    Release,
    Released,
    Share,
    disclose,
    is_small,
    merge,
    protection,
    round_half_up,
)


def table(name: str, cells: dict[str, int], total: str | None = "total") -> Release:
    """A one-line table: each cell an atom and a published count, and its total."""
    release = Release(name, pl.DataFrame({"cell": list(cells), "n": list(cells.values())}))
    release.add(*(Count(c, {"cell": c}) for c in cells))
    if total:
        release.add(Count(total, {}, headline=True))
        release.line(total, list(cells))
    return release


def possible_values(release: Release, shown: Released, threshold: int) -> dict[str, set[int]]:
    """Brute force: for each hidden cell (cells are the atoms here), the values
    consistent with every shown count and share of `release`."""
    atoms = release.atoms["cell"].to_list()
    truth = dict(zip(atoms, release.atoms["n"].to_list(), strict=True))
    counts = {i.key: i for i in release.items if isinstance(i, Count)}
    hidden = [a for a in atoms if shown.values.get(a) == SUPPRESSED or shown.values.get(a) is None]
    fixed = {a: truth[a] for a in atoms if a not in hidden}
    # Values tried for a count hidden to protect another: a little past the largest that could fit.
    cap = 2 * sum(truth.values()) + 2
    # A count shown as c is 1 to the threshold (primary) or at least 1; one
    # left out altogether (withheld) could be anything.
    ranges = [
        range(0, cap) if a in shown.withheld else range(1, threshold + 1) if a in shown.primary else range(1, cap)
        for a in hidden
    ]

    def members(item: Count) -> list[str]:
        where = item.where.get("cell")
        if where is None:
            return atoms
        return list(where) if isinstance(where, (list, tuple, set)) else [where]  # type: ignore[arg-type]

    found: dict[str, set[int]] = {a: set() for a in hidden}
    for combo in itertools.product(*ranges):
        values = {**fixed, **dict(zip(hidden, combo, strict=True))}
        ok = True
        for key, item in counts.items():
            v = shown.values.get(key)
            total = sum(values[m] for m in members(item))
            if isinstance(v, int) and total != v:
                ok = False
                break
            if v == SUPPRESSED and key in shown.primary and key not in shown.withheld and not 1 <= total <= threshold:
                ok = False
                break
        if ok:
            for s in (i for i in release.items if isinstance(i, Share)):
                v = shown.values.get(s.key)
                if not isinstance(v, float):
                    continue
                num = sum(values[m] for m in members(counts[s.num]))
                den = sum(values[m] for m in members(counts[s.den]))
                if den == 0 or round_half_up(100 * num / den, s.digits) != v:
                    ok = False
                    break
        if ok:
            for a, v in zip(hidden, combo, strict=True):
                found[a].add(v)
    return found


def assert_protected(release: Release, shown: Released, threshold: int = 5) -> None:
    values = possible_values(release, shown, threshold)
    for cell, options in values.items():
        if cell in shown.primary:
            assert len(options) >= protection(threshold), f"{cell} can only be {sorted(options)}"
    assert shown.audit.recoverable == 0


# --- the primary and derived rules ----------------------------------------------------


@pytest.mark.parametrize(("n", "small"), [(0, False), (1, True), (5, True), (6, False), (None, False)])
def test_counts_from_1_to_the_threshold_are_small(n: int | None, small: bool) -> None:
    assert is_small(n) is small


def test_primary_suppression_and_what_stands_on_it() -> None:
    release = Release("r", pl.DataFrame({"g": ["a", "b", "c"], "n": [3, 40, 0]}))
    release.add(
        Count("a", {"g": "a"}),
        Count("b", {"g": "b"}),
        Count("zero", {"g": "c"}),
        Count("all", {}, headline=True),
        Share("a_share", "a", "all"),
        Share("b_share", "b", "all"),
        Median("a_median", 12.0, "a"),
        Rate("a_rate", 7.0, "a"),
        Derived("a_ratio", 1.5, ("a_share",)),
        Derived("b_ratio", 0.9, ("b_share",)),
    )
    shown = disclose(release, suppressed=True)
    assert shown["a"] == SUPPRESSED and shown["zero"] == 0 and shown["all"] == 43
    # A share, median, rate or ratio standing on a small count is hidden too.
    for key in ("a_share", "a_median", "a_rate", "a_ratio"):
        assert shown[key] == SUPPRESSED, key
    # 43 less 40 would give a back: b goes too, and what stands on it.
    assert shown["b"] == SUPPRESSED and shown["b_share"] == SUPPRESSED and shown["b_ratio"] == SUPPRESSED
    # Everything is shown to a viewer cleared for case-level data.
    cleared = disclose(release, suppressed=False)
    assert cleared["a"] == 3 and cleared["a_share"] == 7.0 and cleared["a_median"] == 12.0


def test_the_threshold_is_a_parameter() -> None:
    release = table("t", {"a": 7, "b": 30, "c": 12})
    assert disclose(release, True, threshold=5)["a"] == 7
    at_ten = disclose(release, True, threshold=10)
    assert at_ten["a"] == SUPPRESSED
    assert_protected(release, at_ten, threshold=10)


def test_percentages_round_half_up() -> None:
    assert round_half_up(12.5, 0) == 13.0 and round_half_up(0.125, 2) == 0.13


# --- what the board could work out before: each is protected now ------------------------------


def test_three_localities_of_1_to_5_beside_their_total() -> None:
    """Capacity: each locality's case holders over the threshold showed c while
    the sentence said 15: three cells of 1-5 adding to 15 must each be 5."""
    release = table("over", {"East": 5, "Central": 5, "North": 5})
    shown = disclose(release, True)
    assert not (all(shown[loc] == SUPPRESSED for loc in ("East", "Central", "North")) and shown["total"] == 15)
    assert_protected(release, shown)


def test_a_c_is_never_0() -> None:
    """A row 0, 10, 7, c, c with total 19 makes both hidden cells 1."""
    release = table("row", {"none": 0, "ten": 10, "seven": 7, "d": 1, "e": 1})
    shown = disclose(release, True)
    assert shown["none"] == 0
    assert shown["ten"] == SUPPRESSED or shown["seven"] == SUPPRESSED or shown["total"] == SUPPRESSED
    assert_protected(release, shown)


def test_a_band_pinned_by_the_total_and_two_percentages() -> None:
    """The gap: 156 with both services, 47% over 28 days and 19% over 90 days
    pinned the hidden 'No gap' band at 3."""
    bands = {"No gap": 3, "1-28": 80, "29-90": 44, "91-180": 20, "180+": 9}
    release = table("gap", bands)
    release.add(
        Count("over28", {"cell": ["29-90", "91-180", "180+"]}, published=False),
        Count("over90", {"cell": ["91-180", "180+"]}, published=False),
        Share("p28", "over28", "total", digits=0),
        Share("p90", "over90", "total", digits=0),
    )
    shown = disclose(release, True)
    assert shown["No gap"] == SUPPRESSED
    assert shown["total"] == 156
    assert_protected(release, shown)


def test_a_quarter_pinned_by_the_year_and_the_other_quarters() -> None:
    """'13 of 52 slipped' less the published quarters gave the hidden one (5)."""
    release = table("slipped", {"Q1": 3, "Q2": 2, "Q3": 3, "Q4": 5})
    release = table("slipped", {"Q1": 6, "Q2": 14, "Q3": 9, "Q4": 5})
    shown = disclose(release, True)
    assert shown["Q4"] == SUPPRESSED and shown["total"] == 34
    assert_protected(release, shown)


def test_a_lone_small_cell_takes_its_smallest_sibling_with_it() -> None:
    release = table("t", {"a": 2, "b": 9, "c": 30, "d": 14})
    shown = disclose(release, True)
    assert [shown[k] for k in ("a", "b", "c", "d", "total")] == [SUPPRESSED, SUPPRESSED, 30, 14, 55]
    assert_protected(release, shown)


def test_localities_and_partnership_are_one_release() -> None:
    """A locality's view is a slice of the partnership's: the same figures,
    hidden the same way, so two views together give nothing away."""
    atoms = pl.DataFrame({"loc": ["E", "E", "C", "C", "N", "N"], "g": ["x", "y"] * 3, "n": [2, 20, 9, 14, 11, 25]})
    release = Release("two-way", atoms)
    for loc in (None, "E", "C", "N"):
        where = {} if loc is None else {"loc": loc}
        name = loc or "all"
        release.add(*(Count(f"{name}|{g}", where | {"g": g}) for g in "xy"), Count(f"{name}|n", where, headline=True))
        release.line(f"{name}|n", [f"{name}|x", f"{name}|y"])
    for g in ("x", "y", "n"):
        release.line(f"all|{g}", [f"{loc}|{g}" for loc in "ECN"])
    shown = disclose(release, True)
    assert shown["E|x"] == SUPPRESSED
    # East's x is not the partnership's x less the other two, nor East's total less its y.
    assert not (isinstance(shown["all|x"], int) and isinstance(shown["C|x"], int) and isinstance(shown["N|x"], int))
    assert not (isinstance(shown["E|n"], int) and isinstance(shown["E|y"], int))
    assert shown.audit.recoverable == 0


def test_merged_releases_hide_a_shared_figure_hidden_in_either() -> None:
    a = disclose(table("a", {"x": 3, "y": 30}), True)
    b = disclose(table("b", {"total_elsewhere": 33}, total=None), True)
    both = merge("both", a, b)
    assert both["x"] == SUPPRESSED and both["y"] == SUPPRESSED and both.audit.primary == 1


def test_the_audit_counts_what_it_checked() -> None:
    shown = disclose(table("t", {"a": 2, "b": 9, "c": 30, "d": 14}), True)
    assert (shown.audit.published, shown.audit.hidden, shown.audit.primary, shown.audit.recoverable) == (5, 2, 1, 0)
    assert shown.audit.words() == "5 figures published, 2 hidden, none recoverable"


def test_round_half_up_matches_decimal() -> None:
    for value in (0.5, 1.5, 2.5, 12.345, 99.95):
        expected = float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        assert round_half_up(value, 1) == expected


def test_a_release_seen_again_is_disclosed_as_before_without_a_second_audit() -> None:
    """After a write that leaves a release as it was (a value the lead enters,
    an import into another year), the board's release is the one already made."""
    first = disclose(table("kept", {"a": 3, "b": 40, "c": 25}), True, 5)
    assert (first["a"], first["b"], first["c"]) == (SUPPRESSED, 40, SUPPRESSED)
    # The same content, its atoms in another order: the very same result, not a second audit.
    again = table("kept", {"a": 3, "b": 40, "c": 25})
    again.atoms = again.atoms.reverse()
    assert disclose(again, True, 5) is first
    # Any change in what it counts is a release of its own, disclosed afresh.
    changed = disclose(table("kept", {"a": 4, "b": 40, "c": 25}), True, 5)
    assert changed is not first and changed.hidden == first.hidden
    assert disclose(table("kept", {"a": 3, "b": 40, "c": 25}), True, 10) is not first  # another threshold
    # The lead's view is never the board's kept one.
    assert disclose(table("kept", {"a": 3, "b": 40, "c": 25}), False, 5)["a"] == 3
