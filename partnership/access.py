"""Who may see what. Default-deny: an unknown role or a missing scope sees nothing."""

from __future__ import annotations

from dataclasses import dataclass

ROWS_ALLOWED = frozenset({"admin", "project_lead", "manager"})
ALL_ROLES = frozenset({"admin", "project_lead", "manager", "board"})


class AccessDenied(PermissionError):
    """Raised when a viewer asks for something outside their scope."""


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    locality_id: int | None = None  # set for managers only
    # A story "for the board" is shown at board level whoever presents it;
    # the role (and so the locality scope) stays the presenter's own.
    board_view: bool = False

    @property
    def suppressed(self) -> bool:
        """Everyone not cleared for case-level data gets disclosure control."""
        return self.board_view or self.role not in ROWS_ALLOWED

    @property
    def can_see_rows(self) -> bool:
        return not self.board_view and self.role in ROWS_ALLOWED


def scope_localities(viewer: Viewer | None, requested: list[int] | None, all_ids: list[int]) -> list[int]:
    """The locality ids a viewer's query may touch.

    A manager always gets exactly their own locality, whatever the URL asks for;
    lead, admin and board get what they asked for (all when nothing is asked);
    anyone else gets an AccessDenied.
    """
    if viewer is None or viewer.role not in ALL_ROLES:
        raise AccessDenied("not signed in or no recognised role")
    if viewer.role == "manager":
        if viewer.locality_id is None:
            raise AccessDenied("manager account has no locality")
        return [viewer.locality_id]
    if not requested:
        return sorted(all_ids)
    unknown = set(requested) - set(all_ids)
    if unknown:
        raise AccessDenied(f"unknown locality id(s): {sorted(unknown)}")
    return sorted(set(requested))
