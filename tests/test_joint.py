"""Joint releases over cells a reader cannot rule out, and what a reader
holding the last publication learns from the next (hand-worked)."""

from __future__ import annotations

import polars as pl
import pytest

from partnership.disclosure import Count, Released, disclose
from partnership.joint import PART, Part, _release, cells, prior


def test_cells_hold_every_combination_a_reader_allows_and_refuse_one_the_definitions_rule_out() -> None:
    people = pl.DataFrame({"id": [1, 2, 3], "locality": ["A", "A", "B"], "picked": [True, False, False]})
    people = people.with_columns(slipped=pl.Series([False, True, False]))
    part = Part(
        "p",
        people,
        {"locality": ["A", "B"], "picked": [False, True], "slipped": [False, True]},
        ~(pl.col("picked") & pl.col("slipped")),  # picked up within 3 months: never slipped
    )
    grid = cells([part]).sort("locality", "picked", "slipped")
    # 2 x 2 x 2 combinations less the two the rule rules out; empty ones are there as 0.
    assert grid.height == 6
    assert grid["n"].sum() == 3
    assert grid.filter(pl.col("picked") & pl.col("slipped")).height == 0
    wrong = people.with_columns(slipped=pl.Series([True, True, False]))  # person 1 picked up and slipped
    with pytest.raises(ValueError, match="rule out"):
        cells([Part("p", wrong, part.domains, part.valid)])


def _release_of(people: pl.DataFrame) -> object:
    part = Part("p", people, {"locality": ["A", "B"], "flag": [False, True]})
    release = _release("r", [part])
    for loc in ("A", "B"):
        release.add(
            Count(f"n|{loc}", {PART: "p", "locality": loc}, headline=True),
            Count(f"k|{loc}", {PART: "p", "locality": loc, "flag": True}),
        )
    return release


def test_a_reader_holding_the_last_publication_reads_a_small_change_off_the_difference() -> None:
    # Last time: A had 10 young people (3 flagged), B had 12 (8 flagged).
    before_people = pl.DataFrame(
        {
            "id": list(range(22)),
            "locality": ["A"] * 10 + ["B"] * 12,
            "flag": [True] * 3 + [False] * 7 + [True] * 8 + [False] * 4,
        }
    )
    before_release = _release_of(before_people)
    before = disclose(before_release, True, 5)
    assert before.values == {"n|A": 10, "k|A": "c", "n|B": 12, "k|B": 8}
    # Now one more young person in A, flagged: A's figures moved by exactly one; B's did not.
    now_people = pl.concat(
        [before_people, pl.DataFrame({"id": [22], "locality": ["A"], "flag": [True]})], how="vertical"
    )
    now = _release_of(now_people)
    known = prior(now, before_release.people, before, 5)
    # B is about the same young people: shown before, so known, and stays shown; its hidden
    # count would stay hidden (sticky). A's count moved by one person one way: exposed, with
    # the range a reader who knows the old value allows (old value + 1 to + 5).
    assert known.fixed == {"n|B", "k|B"}
    assert known.sticky == frozenset()  # k|A changed (3 to 4): not the same young people
    assert dict(known.exposed) == {"n|A": (11, 15)}
    shown = disclose(now, True, 5, known)
    assert shown.values["n|A"] == "c" and shown.values["n|B"] == 12 and shown.values["k|B"] == 8
    # Without the last publication, A's total of 11 would simply be shown.
    assert disclose(now, True, 5).values["n|A"] == 11


def test_a_figure_about_the_same_young_people_is_hidden_the_same_way_next_time() -> None:
    people = pl.DataFrame(
        {"id": list(range(20)), "locality": ["A"] * 9 + ["B"] * 11, "flag": [True] * 2 + [False] * 7 + [True] * 11}
    )
    release = _release_of(people)
    before = disclose(release, True, 5)
    assert before.values["k|A"] == "c"
    again = _release_of(people)
    known = prior(again, release.people, before, 5)
    assert known.sticky == {"k|A"} and known.sticky_primary == {"k|A"}
    assert isinstance(disclose(again, True, 5, known), Released)
    assert disclose(again, True, 5, known).values["k|A"] == "c"
