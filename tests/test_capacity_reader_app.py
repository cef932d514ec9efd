"""Case holders over the caseload threshold, as a board member can work them out.

How many case holders a locality has is no secret: the establishment lists
the filled and agency posts, and case-holding FTE is that number where posts
are full-time (in the demo every post is). It used to be hidden as `c` two
tables above an FTE that gave it away. Now it is shown, and what is protected
is how many of them are over the threshold. This test reads every month the
board can choose, as the board receives it, and works out by enumeration
what a reader can tell of each hidden count from the locality counts, the
case holders shown beside them and the partnership's total in the sentence.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest
from apptest_support import private_copy, seeded_once, signed_in
from attacker import Seen, number, protection, visit

from models.db import get_engine
from partnership import publication
from partnership.settings import get_settings

PAGE = "pages/capacity.py"
HEADING = "Case holders over the threshold"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_once(tmp_path_factory, "capacity_reader")


def _read(seen: Seen) -> tuple[int | None, list[tuple[str, int | None, str]]]:
    """The sentence's total over the threshold (None when not shown) and, per locality,
    its case holders and what is shown of those over the threshold."""
    part = seen.after(HEADING)
    sentence = next(t for k, t in part.elements if k == "markdown")
    found = re.match(r"(\d[\d,]*) case holders? ", str(sentence))
    (table,) = part.tables("Case holders over threshold")
    rows = [
        (str(r["Locality"]), number(r["Case holders"]), str(r["Case holders over threshold"]))
        for r in table.to_dict("records")
    ]
    if "Team" in table.columns:  # the lead's table, by team: its localities are the sums
        summed: dict[str, tuple[int, int]] = {}
        for name, holders, over in rows:
            n, k = summed.get(name, (0, 0))
            summed[name] = (n + (holders or 0), k + (number(over) or 0))
        rows = [(name, n, str(k)) for name, (n, k) in summed.items()]
    return (number(found.group(1)) if found else None), rows


def _possible(
    total: int | None, rows: list[tuple[str, int | None, str]], small: list[bool], threshold: int
) -> list[set[int]]:
    """For each locality, every value its count over the threshold can take. As the
    product assumes, the reader knows which hidden counts are small (1 to the threshold)."""
    choices = []
    for (_name, holders, shown), is_small in zip(rows, small, strict=True):
        assert holders is not None
        if (v := number(shown)) is not None:
            choices.append([v])
        elif is_small:
            choices.append(list(range(1, min(threshold, holders) + 1)))
        else:  # hidden to protect another, or withheld: anything up to the case holders
            choices.append(list(range(0, holders + 1)))
    out: list[set[int]] = [set() for _ in rows]
    for combo in itertools.product(*choices):
        if total is None or sum(combo) == total:
            for i, v in enumerate(combo):
                out[i].add(v)
    return out


def test_no_count_over_the_threshold_can_be_told_from_case_holders_and_their_fte(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At 10, a locality's eight case holders are a small count: the old product hid them as c
    # beside a case-holding FTE of 8.0.
    url = private_copy(seeded, tmp_path, monkeypatch)
    monkeypatch.setenv("DASHBOARD_SUPPRESSION_THRESHOLD", "10")
    publication.build(get_engine(url), "lead", "lead", force=True)
    threshold = get_settings().suppression_threshold
    assert threshold == 10
    board = signed_in("board", PAGE)
    lead = signed_in("lead", PAGE)
    (months,) = [s.options for s in board.sidebar.selectbox if s.label == "Month"]
    checked, narrowed = 0, []
    for label in months:
        month = dt.datetime.strptime(label, "%B %Y").strftime("%Y-%m")
        total, rows = _read(visit(board, PAGE, month=month))
        _total, truth = _read(visit(lead, PAGE, month=month))
        # Case holders are shown, the same as the lead sees: they were never the secret.
        assert [(n, h) for n, h, _ in rows] == [(n, h) for n, h, _ in truth], month
        values_of = [number(t) for _n, _h, t in truth]
        small = [v is not None and 1 <= v <= threshold for v in values_of]
        for (name, _h, shown), values, value in zip(
            rows, _possible(total, rows, small, threshold), values_of, strict=True
        ):
            if number(shown) is not None:
                continue
            checked += 1
            assert value is not None and value in values, (month, name)
            if 1 <= value <= threshold and len(values) < protection(threshold):
                narrowed.append(f"{month} {name}: true {value}, a reader can tell {sorted(values)}")
    assert checked, "no month hides a count over the threshold: the test read nothing"
    assert narrowed == []
