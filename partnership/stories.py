"""Stories for presentation mode: an ordered list of views, each with the
filters it is shown with. Saved by the project lead, opened by URL.

A view is one section of one page ("cohort.gap"). Only sections that show
figures can be presented; editing sections (recording a month, entering
values, what-if) never appear in a story.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from models import Story
from partnership import accounts

PAGE_PATHS = {
    "overview": "pages/overview.py",
    "cohort": "pages/cohort.py",
    "capacity": "pages/capacity.py",
    "themes": "pages/themes.py",
}

# view -> label, in the order a story editor offers them.
VIEWS: dict[str, str] = {
    "overview.overview": "Overview: headline figures",
    "themes.summary": "Programme progress: summary",
    "themes.theme1": "Programme progress: theme 1",
    "themes.theme2": "Programme progress: theme 2",
    "themes.theme3": "Programme progress: theme 3",
    "themes.theme4": "Programme progress: theme 4",
    "cohort.flow": "Cohort: flow across 18",
    "cohort.age": "Cohort: by age and turning 18 soon",
    "cohort.gap": "Cohort: the gap",
    "cohort.outcomes": "Cohort: outcomes at 19-21",
    "cohort.risk": "Cohort: shared view of risk",
    "cohort.representation": "Cohort: who is over-represented",
    "capacity.establishment": "Capacity: establishment",
    "capacity.caseloads": "Capacity: caseloads",
    "capacity.trend": "Capacity: trend",
}
# Filters a step may carry; values are checked by the filter bar when shown.
FILTER_KEYS = ("locality", "period", "send", "care", "exploitation", "month")
MAX_STEPS = 30

# The example the issue gives: summary, flow, gap, capacity, each theme.
BOARD_MEETING = [
    "themes.summary",
    "cohort.flow",
    "cohort.gap",
    "capacity.establishment",
    "themes.theme1",
    "themes.theme2",
    "themes.theme3",
    "themes.theme4",
]


class StoryError(ValueError):
    """A story that cannot be saved or opened, with a message for the user."""


@dataclass(frozen=True)
class Step:
    view: str
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def page(self) -> str:
        return self.view.split(".", 1)[0]

    @property
    def section(self) -> str:
        return self.view.split(".", 1)[1]

    @property
    def label(self) -> str:
        return VIEWS[self.view]


@dataclass(frozen=True)
class SavedStory:
    id: int
    name: str
    for_board: bool
    steps: list[Step]
    created_by: str
    updated_at: dt.datetime


def check_steps(raw: list[dict[str, object]]) -> list[Step]:
    """Steps from editor rows or stored JSON; every problem named by step."""
    steps: list[Step] = []
    problems: list[str] = []
    for number, row in enumerate(raw, start=1):
        view = str(row.get("view") or "")
        if view not in VIEWS:
            problems.append(f"step {number}: '{view}' is not a view that can be presented")
            continue
        filters: dict[str, str] = {}
        for key, value in dict(row.get("filters") or {}).items():  # type: ignore[call-overload]
            if key not in FILTER_KEYS:
                problems.append(f"step {number}: '{key}' is not a filter")
            elif value not in (None, "", "all"):  # defaults stay out of links
                filters[key] = str(value)
        steps.append(Step(view, filters))
    if not raw:
        problems.append("a story needs at least one step")
    if len(raw) > MAX_STEPS:
        problems.append(f"a story has at most {MAX_STEPS} steps")
    if problems:
        raise StoryError("; ".join(problems))
    return steps


def _dump(steps: list[Step]) -> str:
    return json.dumps([{"view": s.view, "filters": s.filters} for s in steps])


def _load(row: Story) -> SavedStory:
    assert row.id is not None
    return SavedStory(
        row.id, row.name, row.for_board, check_steps(json.loads(row.steps)), row.created_by, row.updated_at
    )


def save_story(
    session: Session, name: str, for_board: bool, steps: list[Step], actor: str, story_id: int | None = None
) -> SavedStory:
    name = name.strip()
    if not name:
        raise StoryError("a story needs a name")
    if len(name) > 80:
        raise StoryError("a story name has at most 80 characters")
    clash = session.exec(select(Story).where(Story.name == name)).first()
    if clash is not None and clash.id != story_id:
        raise StoryError(f"there is already a story called '{name}'")
    if for_board:
        # Board-level views are calendar years and the whole cohort (see ui.filters).
        wrong = [
            f"step {n}"
            for n, step in enumerate(steps, start=1)
            if step.filters.get("period") == "12m" or {"send", "care", "exploitation"} & set(step.filters)
        ]
        if wrong:
            raise StoryError(
                "a story for the board shows calendar years and the whole cohort: "
                + ", ".join(wrong)
                + " asks for the last 12 months or a SEND, care or exploitation filter"
            )
    row = session.get(Story, story_id) if story_id is not None else None
    if story_id is not None and row is None:
        raise StoryError(f"story {story_id} no longer exists")
    row = row or Story(name=name, steps="[]", created_by=actor)
    row.name, row.for_board, row.steps = name, for_board, _dump(steps)
    row.updated_at = dt.datetime.now(dt.UTC)
    session.add(row)
    session.flush()
    accounts.audit(session, actor, "story_saved", f"{row.id} {name} ({len(steps)} steps, board={for_board})")
    return _load(row)


def delete_story(session: Session, story_id: int, actor: str) -> None:
    row = session.get(Story, story_id)
    if row is None:
        raise StoryError(f"story {story_id} no longer exists")
    session.delete(row)
    accounts.audit(session, actor, "story_deleted", f"{story_id} {row.name}")


def get_story(session: Session, story_id: int) -> SavedStory | None:
    row = session.get(Story, story_id)
    return _load(row) if row is not None else None


def list_stories(session: Session) -> list[SavedStory]:
    return [_load(row) for row in session.exec(select(Story).order_by(col(Story.name)))]


def step_params(story: SavedStory | None, index: int, step: Step) -> dict[str, str]:
    """The URL of one step: presentation on, which story and step (or which
    view, for a page presented on its own), and that step's filters."""
    params = {"present": "1", **step.filters}
    if story is not None:
        params.update(story=str(story.id), step=str(index + 1))
    else:
        params["view"] = step.section
    return params
