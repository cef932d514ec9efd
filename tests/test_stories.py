"""Saved stories for presentation mode (partnership/stories.py), on SQLite and
PostgreSQL through the `session` fixture. Expected messages, orders and
URLs are written out by hand."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, col, select

from models import AuditEvent, Story
from partnership import stories
from partnership.stories import Step, StoryError


def _audit(session: Session, action: str) -> list[tuple[str, str]]:
    rows = session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))
    return [(r.username, r.details) for r in rows]


# --- check_steps ------------------------------------------------------------------------


def test_check_steps_keeps_order_and_drops_blank_filters() -> None:
    steps = stories.check_steps(
        [
            {"view": "cohort.gap", "filters": {"locality": "east", "period": "2025", "send": "all"}},
            {"view": "themes.summary"},
            {"view": "capacity.establishment", "filters": {"month": "2026-10", "care": "", "period": None}},
        ]
    )
    assert steps == [
        Step("cohort.gap", {"locality": "east", "period": "2025"}),
        Step("themes.summary", {}),
        Step("capacity.establishment", {"month": "2026-10"}),
    ]
    assert [(s.page, s.section) for s in steps] == [
        ("cohort", "gap"),
        ("themes", "summary"),
        ("capacity", "establishment"),
    ]
    assert steps[0].label == "Cohort: the gap"


def test_check_steps_names_every_bad_step() -> None:
    with pytest.raises(StoryError) as err:
        stories.check_steps(
            [
                {"view": "themes.summary"},
                {"view": "cohort.nowhere"},
                {"view": "themes.theme1", "filters": {"colour": "red"}},
                {"view": ""},
            ]
        )
    assert str(err.value) == (
        "step 2: 'cohort.nowhere' is not a view that can be presented; "
        "step 3: 'colour' is not a filter; "
        "step 4: '' is not a view that can be presented"
    )


@pytest.mark.parametrize("view", ["capacity.record", "capacity.what_if", "themes.record"])
def test_editing_sections_cannot_be_a_step(view: str) -> None:
    with pytest.raises(StoryError, match=rf"^step 1: '{view}' is not a view that can be presented$"):
        stories.check_steps([{"view": view}])


def test_check_steps_refuses_an_empty_story_and_one_too_long() -> None:
    with pytest.raises(StoryError, match=r"^a story needs at least one step$"):
        stories.check_steps([])
    thirty = [{"view": "themes.summary"}] * 30
    assert len(stories.check_steps(thirty)) == 30
    with pytest.raises(StoryError, match=r"^a story has at most 30 steps$"):
        stories.check_steps([*thirty, {"view": "themes.summary"}])


# --- step_params ------------------------------------------------------------------------


def test_step_params_of_a_story_and_of_a_page() -> None:
    steps = [Step("themes.summary"), Step("cohort.flow", {"period": "2025"})]
    story = stories.SavedStory(7, "Board", True, steps, "lead", dt.datetime(2026, 11, 1))
    assert stories.step_params(story, 1, story.steps[1]) == {
        "present": "1",
        "period": "2025",
        "story": "7",
        "step": "2",
    }
    assert stories.step_params(story, 0, story.steps[0]) == {"present": "1", "story": "7", "step": "1"}
    # A page presented on its own names the section instead of a story and step.
    assert stories.step_params(None, 3, Step("cohort.gap", {"locality": "north"})) == {
        "present": "1",
        "locality": "north",
        "view": "gap",
    }


# --- save, read, list, delete -------------------------------------------------------------

BOARD = [
    Step("themes.summary"),
    Step("cohort.flow", {"period": "2025"}),
    Step("cohort.gap", {"period": "2025", "locality": "east"}),
    Step("capacity.establishment"),
]


def test_save_story_keeps_order_filters_and_audits(session: Session) -> None:
    saved = stories.save_story(session, "  Board meeting  ", True, BOARD, "lead")
    session.commit()
    assert saved.name == "Board meeting"  # trimmed
    row = session.exec(select(Story)).one()
    assert json.loads(row.steps) == [
        {"view": "themes.summary", "filters": {}},
        {"view": "cohort.flow", "filters": {"period": "2025"}},
        {"view": "cohort.gap", "filters": {"period": "2025", "locality": "east"}},
        {"view": "capacity.establishment", "filters": {}},
    ]
    session.expunge_all()
    back = stories.get_story(session, saved.id)
    assert back is not None
    assert (back.name, back.for_board, back.created_by) == ("Board meeting", True, "lead")
    assert back.steps == BOARD
    assert _audit(session, "story_saved") == [("lead", f"{saved.id} Board meeting (4 steps, board=True)")]
    assert stories.get_story(session, saved.id + 100) is None


def test_save_story_refuses_a_duplicate_name(session: Session) -> None:
    first = stories.save_story(session, "Board meeting", True, BOARD, "lead")
    session.commit()
    with pytest.raises(StoryError, match=r"^there is already a story called 'Board meeting'$"):
        stories.save_story(session, "Board meeting ", False, BOARD[:1], "admin")
    other = stories.save_story(session, "Team brief", False, BOARD[:1], "lead")
    session.commit()
    # Renaming one story to the name of another is a duplicate too...
    with pytest.raises(StoryError, match=r"^there is already a story called 'Team brief'$"):
        stories.save_story(session, "Team brief", True, BOARD, "lead", story_id=first.id)
    # ... but saving a story under its own name is not.
    again = stories.save_story(session, "Team brief", True, BOARD[1:], "admin", story_id=other.id)
    session.commit()
    assert again.id == other.id
    assert (again.for_board, again.steps, again.created_by) == (True, BOARD[1:], "lead")
    assert [s.name for s in stories.list_stories(session)] == ["Board meeting", "Team brief"]
    assert [d for _, d in _audit(session, "story_saved")] == [
        f"{first.id} Board meeting (4 steps, board=True)",
        f"{other.id} Team brief (1 steps, board=False)",
        f"{other.id} Team brief (3 steps, board=True)",
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "a story needs a name"), ("x" * 81, "a story name has at most 80 characters")],
)
def test_save_story_refuses_a_bad_name(session: Session, name: str, message: str) -> None:
    with pytest.raises(StoryError, match=rf"^{message}$"):
        stories.save_story(session, name, True, BOARD, "lead")
    assert session.exec(select(Story)).first() is None
    assert _audit(session, "story_saved") == []


def test_save_story_over_a_deleted_one_is_refused(session: Session) -> None:
    with pytest.raises(StoryError, match=r"^story 42 no longer exists$"):
        stories.save_story(session, "Gone", True, BOARD, "lead", story_id=42)


def test_list_stories_by_name(session: Session) -> None:
    for name in ("Zebra", "Annual review", "Board meeting"):
        stories.save_story(session, name, False, BOARD[:2], "lead")
    session.commit()
    assert [s.name for s in stories.list_stories(session)] == ["Annual review", "Board meeting", "Zebra"]


def test_delete_story(session: Session) -> None:
    keep = stories.save_story(session, "Keep", True, BOARD, "lead")
    gone = stories.save_story(session, "Gone", False, BOARD[:1], "lead")
    session.commit()
    stories.delete_story(session, gone.id, "admin")
    session.commit()
    assert [s.id for s in stories.list_stories(session)] == [keep.id]
    assert stories.get_story(session, gone.id) is None
    assert _audit(session, "story_deleted") == [("admin", f"{gone.id} Gone")]
    with pytest.raises(StoryError, match=rf"^story {gone.id} no longer exists$"):
        stories.delete_story(session, gone.id, "admin")
