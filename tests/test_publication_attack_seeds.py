"""The board publication against a reader who holds all of it at once, on three
other synthetic partnerships (tests/test_publication_attack.py has the demo; a
file of its own so that the two run on both cores)."""

from __future__ import annotations

import pytest
from test_publication_attack import YEARS, _narrowed, published

__all__ = ["published"]  # the fixture, used by name


@pytest.mark.parametrize(("young_people", "seed"), [(1200, 7), (800, 31), (2000, 99)])
def test_no_hidden_count_can_be_narrowed_on_other_partnerships(
    published: callable,  # type: ignore[valid-type]
    young_people: int,
    seed: int,
) -> None:
    url = published(young_people, seed, 5)
    assert _narrowed(url, 5, YEARS) == []
