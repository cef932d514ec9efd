"""Scope is decided in one place and is default-deny."""

from __future__ import annotations

import pytest

from partnership.access import AccessDenied, Viewer, scope_localities

ALL = [1, 2, 3]


def test_manager_gets_own_locality_whatever_is_asked() -> None:
    east = Viewer("manager_east", "manager", 1)
    assert scope_localities(east, None, ALL) == [1]
    assert scope_localities(east, [3], ALL) == [1]
    assert scope_localities(east, [1, 2, 3], ALL) == [1]


def test_lead_and_board_get_what_they_ask_or_everything() -> None:
    for role in ("project_lead", "admin", "board"):
        viewer = Viewer("x", role)
        assert scope_localities(viewer, None, ALL) == ALL
        assert scope_localities(viewer, [2], ALL) == [2]


def test_unknown_role_no_viewer_and_tampered_ids_are_refused() -> None:
    with pytest.raises(AccessDenied):
        scope_localities(None, None, ALL)
    with pytest.raises(AccessDenied):
        scope_localities(Viewer("x", "superuser"), None, ALL)
    with pytest.raises(AccessDenied):
        scope_localities(Viewer("m", "manager", None), None, ALL)
    with pytest.raises(AccessDenied):
        scope_localities(Viewer("l", "project_lead"), [99], ALL)


def test_only_board_is_suppressed_and_cannot_see_rows() -> None:
    assert Viewer("b", "board").suppressed and not Viewer("b", "board").can_see_rows
    for role in ("admin", "project_lead", "manager"):
        assert not Viewer("x", role, 1).suppressed
