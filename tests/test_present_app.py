"""Presentation mode (ui/present.py) and the Presentations page
(pages/stories.py) driven in-process with AppTest, each test on its own copy
of one seeded SQLite database.

The demo seed saves story 1, "Board meeting", for the board: themes summary,
cohort flow, cohort gap, capacity establishment, theme 1 to 4, the cohort
steps for last calendar year (2025, as the demo is as of November 2026).
Figures a step must show are counted here from the ORM rows."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Locality, ServiceEpisode, Story, YoungPerson
from models.db import get_engine
from partnership import stories
from partnership.stories import PAGE_PATHS, Step
from tests.apptest_support import private_copy, seeded_once, signed_in
from tests.conftest import DEMO_AS_OF

AS_OF = DEMO_AS_OF  # 2026-11-01
BOARD_MEETING = [  # the demo story, step by step: (page title, label)
    ("Programme progress by theme", "Programme progress: summary"),
    ("Cohort flow across 18", "Cohort: flow across 18"),
    ("Cohort flow across 18", "Cohort: the gap"),
    ("Team capacity", "Capacity: establishment"),
    ("Programme progress by theme", "Programme progress: theme 1"),
    ("Programme progress by theme", "Programme progress: theme 2"),
    ("Programme progress by theme", "Programme progress: theme 3"),
    ("Programme progress by theme", "Programme progress: theme 4"),
]
BOARD_LEVEL = " · shown at board level (counts 1 to 5 suppressed)"
CONTROLS = ["Previous", "Next", "Leave"]
CASE_KEY = "Young person (key)"
CASE_LIST = "Young people turning 18 in the next 12 months"
AGES = [str(a) for a in range(14, 26)]


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_once(tmp_path_factory, "seeded")


@pytest.fixture
def db(_seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return private_copy(_seeded, tmp_path, monkeypatch)


# --- driving the app ------------------------------------------------------------------


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _open(username: str, page: str, **params: str) -> AppTest:
    """Sign in, then open `page` with `params` in the URL, as a link would."""
    at = signed_in(username)
    at.query_params.update(params)
    at.switch_page(page)
    return _run(at)


def _press(at: AppTest, label: str) -> AppTest:
    """Click a presentation control. AppTest reruns the page last named in
    at.switch_page(), not the one a script's st.switch_page() landed on;
    name the page on screen first, as the browser's URL would."""
    shown = at.session_state["_presentation"]
    at.switch_page(PAGE_PATHS[shown.page])
    (button,) = [b for b in at.main.button if b.label == label]
    button.click()
    return _run(at)


def _full_line(at: AppTest) -> str:
    (line,) = [m.value for m in at.main.markdown if " of " in m.value and "step " in m.value]
    return line


def _step_line(at: AppTest) -> str:
    """The presenter's line without the part, which _part reads."""
    return re.sub(r" · part \d+ of \d+", "", _full_line(at))


def _part(at: AppTest) -> tuple[int, int]:
    found = re.search(r" · part (\d+) of (\d+)", _full_line(at))
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def _every_part(username: str, page: str, **params: str) -> list[AppTest]:
    """A view presented a screen at a time: each of its parts, opened by link."""
    first = _open(username, page, **params)
    return [first] + [_open(username, page, **params, part=str(k)) for k in range(2, _part(first)[1] + 1)]


def _top_tabs(at: AppTest) -> list[str]:
    # Every chart sits in its own "Chart" / "Table" pair of tabs; a page's sections are the rest.
    return [t.label for t in at.tabs if t.label not in ("Chart", "Table")]


def _assert_presenting(at: AppTest) -> None:
    """Only the three controls: no section tabs, no widget in the page, no
    'present this page' button, and the style that hides the sidebar."""
    assert _top_tabs(at) == []
    assert [b.label for b in at.main.button] == CONTROLS
    assert not at.main.selectbox and not at.main.text_input and not at.main.checkbox
    assert not at.data_editor
    assert not [b for b in at.sidebar.button if b.label == "Present this page"]
    (style,) = [h.proto.body for h in at.get("html") if "stSidebar" in h.proto.body]
    assert 'section[data-testid="stSidebar"]' in style and "display: none" in style


def _frame_rows(at: AppTest, column: str) -> dict[str, dict[str, object]]:
    # Presenting, a short table is drawn as a plain table rather than the grid.
    (frame,) = [d.value for d in [*at.dataframe, *at.table] if column in d.value.columns]
    return {str(r["Locality"]): r for r in frame.to_dict("records")}


def _add_story(url: str, name: str, for_board: bool, steps: list[Step]) -> int:
    with Session(get_engine(url)) as session:
        saved = stories.save_story(session, name, for_board, steps, "lead")
        session.commit()
    return saved.id


# --- the database, counted by hand ------------------------------------------------------


def _turned_18_in(url: str, year: int) -> int:
    """Young people whose 18th birthday fell in `year` (all long enough ago for the 3-month window)."""
    with Session(get_engine(url)) as session:
        return sum(1 for yp in session.exec(select(YoungPerson)) if yp.birth_month.year + 18 == year)


def _open_by_age(url: str) -> Counter[tuple[str, str]]:
    """Open to any service on AS_OF, by (locality, single year of age 14-25)."""
    out: Counter[tuple[str, str]] = Counter()
    with Session(get_engine(url)) as session:
        names = {loc.id: loc.name for loc in session.exec(select(Locality))}
        open_ids = {
            ep.young_person_id
            for ep in session.exec(select(ServiceEpisode))
            if ep.started_on <= AS_OF and (ep.ended_on is None or ep.ended_on > AS_OF)
        }
        for yp in session.exec(select(YoungPerson)):
            age = ((AS_OF.year - yp.birth_month.year) * 12 + AS_OF.month - yp.birth_month.month) // 12
            if yp.id in open_ids and 14 <= age <= 25:
                out[(names[yp.locality_id], str(age))] += 1
    return out


# --- one step of a saved story ----------------------------------------------------------


def test_a_story_step_shows_only_its_section_with_the_storys_filters(db: str) -> None:
    # The link asks for East in 2024; the story's step 2 says all localities in 2025, and wins.
    at = _open("lead", "pages/cohort.py", present="1", story="1", step="2", period="2024", locality="east")
    assert dict(at.query_params) == {"present": "1", "period": "2025", "story": "1", "step": "2"}
    assert [t.value for t in at.title] == ["Cohort flow across 18"]
    assert _step_line(at) == f"**Board meeting** · step 2 of 8: Cohort: flow across 18{BOARD_LEVEL}"
    assert [s.value for s in at.main.subheader] == ["From the service at 17 to how young people fare at 19-21"]
    _assert_presenting(at)
    caption = next(c.value for c in at.main.caption if c.value.startswith("All localities"))
    assert caption.startswith("All localities · 18th birthdays in 2025 · ")
    assert "shown as c" in caption
    crossed = _turned_18_in(db, 2025)
    assert crossed > 5  # so board level shows it as a number
    assert [
        m for m in at.markdown if f"Of {crossed} young people who turned 18 across all localities in 2025" in m.value
    ]


def test_a_board_story_hides_the_case_list_and_small_counts_from_the_lead(db: str) -> None:
    by_age = _open_by_age(db)
    small = {cell for cell, n in by_age.items() if 1 <= n <= 5}
    assert small, "the seed should leave some ages with 1 to 5 young people"

    normal = _open("lead", "pages/cohort.py")
    ages = _frame_rows(normal, "25")
    for loc, age in by_age:
        assert str(ages[loc][age]) == str(by_age[(loc, age)]), (loc, age)
    assert CASE_LIST in [s.value for s in normal.subheader]

    story = _add_story(db, "Ages for the board", True, [Step("cohort.age")])
    parts = _every_part("lead", "pages/cohort.py", present="1", story=str(story), step="1")
    assert len(parts) > 1  # the ages, then what follows them, a screen each
    for number, at in enumerate(parts, start=1):
        assert _full_line(at) == (
            f"**Ages for the board** · step 1 of 1: Cohort: by age and turning 18 soon · part {number} of "
            f"{len(parts)}{BOARD_LEVEL}"
        )
        _assert_presenting(at)
        assert CASE_LIST not in [s.value for s in at.subheader]
        assert not [d for d in [*at.dataframe, *at.table] if CASE_KEY in d.value.columns]
    ages = _frame_rows(parts[0], "25")
    for loc, age in small:
        assert ages[loc][age] == "c", (loc, age, by_age[(loc, age)])
    shown = [str(ages[loc][age]) for loc in ages for age in AGES]
    assert not {"1", "2", "3", "4", "5"} & set(shown)
    notes = [c.value for at in parts for c in at.caption]
    assert "Board members see counts only; managers see their own young people here." in notes


def test_a_story_not_for_the_board_shows_the_presenters_own_level(db: str) -> None:
    by_age = _open_by_age(db)
    story = _add_story(db, "Ages for the team", False, [Step("cohort.age")])
    parts = _every_part("lead", "pages/cohort.py", present="1", story=str(story), step="1")
    for at in parts:
        assert _step_line(at) == "**Ages for the team** · step 1 of 1: Cohort: by age and turning 18 soon"
        _assert_presenting(at)
        assert not [c for c in at.main.caption if "shown as c" in c.value]
    ages = _frame_rows(parts[0], "25")
    for loc, age in by_age:
        assert str(ages[loc][age]) == str(by_age[(loc, age)]), (loc, age)
    assert CASE_LIST in [s.value for at in parts for s in at.subheader]
    assert [d for at in parts for d in [*at.dataframe, *at.table] if CASE_KEY in d.value.columns]


def test_a_manager_given_an_unknown_locality_is_told_what_they_see(db: str) -> None:
    at = _open("manager_east", "pages/cohort.py", locality="3")
    warnings = [w.value for w in at.warning]
    assert "'3' is not a valid locality; showing East instead." in warnings
    assert not [w for w in warnings if "all localities" in w]
    (caption,) = [c.value for c in at.main.caption if "18th birthdays" in c.value]
    assert caption.startswith("East · ")


def test_a_manager_presenting_keeps_their_own_locality(db: str) -> None:
    story = _add_story(db, "Central gap", True, [Step("cohort.gap", {"locality": "central", "period": "2025"})])
    at = _open("manager_east", "pages/cohort.py", present="1", story=str(story), step="1")
    assert _step_line(at) == f"**Central gap** · step 1 of 1: Cohort: the gap{BOARD_LEVEL}"
    _assert_presenting(at)
    assert "You can see East only; the link asked for Central." in [w.value for w in at.warning]
    (caption,) = [c.value for c in at.main.caption if "18th birthdays" in c.value]
    assert caption.startswith("East · 18th birthdays in 2025 · ")
    assert "shown as c" in caption
    text = " ".join(m.value for m in at.markdown)
    assert "in East" in text
    assert "Central" not in text.replace("**Central gap**", "")


# --- links that do not work -------------------------------------------------------------


@pytest.mark.parametrize("story", ["999", "board"])
def test_an_unknown_story_says_so_and_shows_nothing(db: str, story: str) -> None:
    at = _open("lead", "pages/cohort.py", present="1", story=story, step="1")
    assert [e.value for e in at.error] == [f"There is no story '{story}'; it may have been deleted."]
    (link,) = at.get("page_link")
    assert (link.proto.label, link.proto.page) == ("Choose a story", "stories")
    assert not at.title and not at.dataframe and not at.metric and not at.button


@pytest.mark.parametrize("page", ["pages/themes.py", "pages/cohort.py"])
def test_a_step_the_story_has_not_got_warns_and_shows_step_1(db: str, page: str) -> None:
    # Step 1 is on the themes page: from the cohort page the app moves there, and the warning must come along.
    at = _open("lead", page, present="1", story="1", step="99")
    assert "Story 'Board meeting' has no step '99'; showing step 1." in [w.value for w in at.warning]
    assert [t.value for t in at.title] == ["Programme progress by theme"]
    assert _step_line(at) == f"**Board meeting** · step 1 of 8: Programme progress: summary{BOARD_LEVEL}"
    assert dict(at.query_params) == {"present": "1", "story": "1", "step": "1"}


# --- editing never shows -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "views", "editing", "editing_tabs"),
    [
        (
            "pages/capacity.py",
            ["establishment", "caseloads", "trend"],
            ["what_if", "record"],
            ["What if", "Record a month"],
        ),
        ("pages/themes.py", ["summary", "theme1", "theme2", "theme3", "theme4"], ["record"], ["Record values"]),
    ],
)
def test_editing_sections_are_never_presented(
    db: str, page: str, views: list[str], editing: list[str], editing_tabs: list[str]
) -> None:
    editing_headings = {
        "What if vacancies were filled or posts added?",
        "Record or correct a month",
        "Enter or correct a value",
        "Commentary",
    }
    normal = _open("lead", page)  # the lead edits on both pages...
    assert set(editing_tabs) <= set(_top_tabs(normal))
    for number, view in enumerate(views, start=1):
        at = _open("lead", page, present="1", view=view)  # ... a presented page only shows figures
        assert f"step {number} of {len(views)}: " in _step_line(at)
        _assert_presenting(at)
        assert not editing_headings & {s.value for s in at.subheader}
    for view in editing:
        at = _open("lead", page, present="1", view=view)
        assert f"This page has no view '{view}' to present; showing the first." in [w.value for w in at.warning]
        assert f"step 1 of {len(views)}: " in _step_line(at)
        _assert_presenting(at)
        assert not editing_headings & {s.value for s in at.subheader}


# --- stepping through -----------------------------------------------------------------------


def test_next_previous_and_leave_walk_the_board_meeting(db: str) -> None:
    at = _open("lead", "pages/themes.py", present="1", story="1", step="1")  # where "Present" leads
    parts_of: dict[int, int] = {}
    for number, (title, label) in enumerate(BOARD_MEETING, start=1):
        # Next walks a long view's parts, a screen each, then goes on to the next view.
        parts_of[number] = _part(at)[1]
        for part in range(1, parts_of[number] + 1):
            assert [t.value for t in at.title] == [title], number
            assert _step_line(at) == f"**Board meeting** · step {number} of 8: {label}{BOARD_LEVEL}"
            assert _part(at) == (part, parts_of[number])
            assert at.query_params["step"] == str(number)
            assert at.query_params.get("part") == (str(part) if part > 1 else None)
            assert at.query_params.get("period") == ("2025" if title.startswith("Cohort") else None)
            _assert_presenting(at)
            buttons = {b.label: b for b in at.main.button}
            assert buttons["Previous"].disabled == (number == 1 and part == 1)
            assert buttons["Next"].disabled == (number == 8 and part == parts_of[number])
            if not (number == 8 and part == parts_of[number]):
                at = _press(at, "Next")
    assert parts_of[5] > 1  # a theme runs to several screens
    for _ in range(parts_of[8]):
        at = _press(at, "Previous")
    # Back from a view's first part: the last part of the view before.
    assert _step_line(at).startswith("**Board meeting** · step 7 of 8: Programme progress: theme 3")
    assert _part(at) == (parts_of[7], parts_of[7])
    while _step_line(at).startswith("**Board meeting** · step 7"):
        at = _press(at, "Previous")
    while _step_line(at).startswith("**Board meeting** · step 6") or _step_line(at).startswith(
        "**Board meeting** · step 5"
    ):
        at = _press(at, "Previous")
    assert [t.value for t in at.title] == ["Team capacity"]
    assert _step_line(at).startswith("**Board meeting** · step 4 of 8: Capacity: establishment")
    while _part(at)[0] > 1:
        at = _press(at, "Previous")
    at = _press(at, "Previous")
    assert [t.value for t in at.title] == ["Cohort flow across 18"]
    assert _step_line(at).startswith("**Board meeting** · step 3 of 8: Cohort: the gap")
    assert _part(at) == (parts_of[3], parts_of[3])

    # Leave: the ordinary page, with the step's filters, its tabs and the sidebar's button back.
    at = _press(at, "Leave")
    assert [t.value for t in at.title] == ["Cohort flow across 18"]
    assert dict(at.query_params) == {"period": "2025"}
    assert "The gap" in _top_tabs(at) and "Flow across 18" in _top_tabs(at)
    assert [b.label for b in at.sidebar.button if b.label == "Present this page"] == ["Present this page"]
    assert not [m for m in at.main.markdown if "step 3 of 8" in m.value]
    assert not [h for h in at.get("html") if "stSidebar" in h.proto.body]


def test_a_page_presented_on_its_own_steps_through_its_sections_keeping_filters(db: str) -> None:
    at = _open("lead", "pages/capacity.py", present="1", locality="north")
    assert _step_line(at) == "step 1 of 3: Capacity: establishment"
    for part in range(2, _part(at)[1] + 1):
        at = _press(at, "Next")
        assert _part(at)[0] == part
        assert dict(at.query_params) == {"present": "1", "locality": "north", "part": str(part)}
    at = _press(at, "Next")
    assert _step_line(at) == "step 2 of 3: Capacity: caseloads"
    assert dict(at.query_params) == {"present": "1", "view": "caseloads", "locality": "north"}
    (caption,) = [c.value for c in at.main.caption if "staffing for" in c.value]
    assert caption.startswith("North · staffing for ")


# --- the Presentations page ---------------------------------------------------------------


def _story_rows(url: str) -> dict[str, tuple[bool, list[dict[str, object]], str]]:
    with Session(get_engine(url)) as session:
        return {s.name: (s.for_board, json.loads(s.steps), s.created_by) for s in session.exec(select(Story))}


def _edit_and_save(at: AppTest, name: str, edits: dict[str, object]) -> AppTest:
    """Type a name, change the step rows as the browser's grid would, and press Save."""
    (editor,) = at.data_editor
    # The editor has no key: its state lives under its element id, which AppTest accepts too.
    at.session_state[editor.proto.id] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits}
    (box,) = [t for t in at.text_input if t.label == "Name"]
    box.input(name)
    (save,) = [b for b in at.button if b.label == "Save story"]
    save.click()
    return _run(at)


def test_the_lead_writes_a_story_on_the_presentations_page(db: str) -> None:
    at = signed_in("lead", "pages/stories.py")
    assert "Write or change a story" in [s.value for s in at.subheader]
    (editor,) = at.data_editor
    # A new story starts from the board meeting's eight views.
    assert list(editor.value["View"]) == [label for _, label in BOARD_MEETING]

    # Keep the flow and the gap, East for the gap, last year for both; drop the rest.
    at = _edit_and_save(
        at,
        "East in 2025",
        {
            "edited_rows": {1: {"Period": "2025"}, 2: {"Locality": "East", "Period": "2025"}},
            "deleted_rows": [0, 3, 4, 5, 6, 7],
        },
    )
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Saved 'East in 2025' with 2 steps."]
    saved = _story_rows(db)["East in 2025"]
    assert saved[0] is True and saved[2] == "lead"
    views = [(s["view"], s["filters"]) for s in saved[1]]  # type: ignore[index]
    assert views == [("cohort.flow", {"period": "2025"}), ("cohort.gap", {"locality": "east", "period": "2025"})]
    (link,) = [p.proto for p in at.get("page_link") if p.proto.label == "Present" and "story=2" in p.proto.query_string]
    assert (link.page, link.query_string) == ("cohort", "present=1&period=2025&story=2&step=1")

    # A second story under the same name is refused, and so is one with no steps.
    at = _edit_and_save(at, "East in 2025", {})
    assert [e.value for e in at.error] == ["Not saved: there is already a story called 'East in 2025'."]
    at = _edit_and_save(at, "Nothing", {"deleted_rows": list(range(8))})
    assert [e.value for e in at.error] == ["Not saved: a story needs at least one step."]
    assert set(_story_rows(db)) == {"Board meeting", "East in 2025"}

    # The new story opens at the lead's step 2 in East.
    shown = _open("lead", "pages/cohort.py", present="1", story="2", step="2")
    assert _step_line(shown) == f"**East in 2025** · step 2 of 2: Cohort: the gap{BOARD_LEVEL}"
    (caption,) = [c.value for c in shown.main.caption if "18th birthdays" in c.value]
    assert caption.startswith("East · 18th birthdays in 2025 · ")


@pytest.mark.parametrize("username", ["board", "manager_north"])
def test_others_see_the_stories_but_not_the_editor(db: str, username: str) -> None:
    at = signed_in(username, "pages/stories.py")
    assert "**Board meeting** · for the board  \n8 steps · saved by lead" in [m.value for m in at.markdown]
    (link,) = at.get("page_link")
    assert (link.proto.label, link.proto.page, link.proto.query_string) == (
        "Present",
        "themes",
        "present=1&story=1&step=1",
    )
    assert "Write or change a story" not in [s.value for s in at.subheader]
    assert not at.data_editor and not at.text_input
    assert not [b for b in at.button if b.label in ("Save story", "Delete this story")]


def test_the_lead_deletes_a_story(db: str) -> None:
    _add_story(db, "Old one", False, [Step("themes.summary")])
    at = signed_in("lead", "pages/stories.py")
    (choice,) = [s for s in at.selectbox if s.label == "Story"]
    choice.select(2)
    _run(at)
    (delete,) = [b for b in at.button if b.label == "Delete this story"]
    delete.click()
    _run(at)
    assert [s.value for s in at.success] == ["Deleted 'Old one'."]
    assert set(_story_rows(db)) == {"Board meeting"}
    assert _last_audit_action(db) == "story_deleted"


def _last_audit_action(url: str) -> str:
    with Session(get_engine(url)) as session:
        events = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())))
    return next(e.action for e in events if e.action != "page_view")


def test_a_manager_sees_stories_labelled_with_their_own_locality(db: str) -> None:
    """The Board meeting story is saved for all localities; a manager
    presenting it sees North only, so its steps say North."""
    at = signed_in("manager_north", "pages/stories.py")
    steps = " ".join(m.value for m in at.markdown if m.value.startswith("1. "))
    assert steps, [m.value for m in at.markdown]
    assert "(North, your locality, " in steps
    assert "All localities" not in steps
    lead = signed_in("lead", "pages/stories.py")
    assert "(All localities, " in " ".join(m.value for m in lead.markdown if m.value.startswith("1. "))


def _text_sizes(spec: object) -> list[float]:
    """Font sizes of the text marks in a Vega-Lite spec (11, Vega's default, where none is set)."""
    sizes: list[float] = []
    if isinstance(spec, list):
        for item in spec:
            sizes += _text_sizes(item)
    elif isinstance(spec, dict):
        mark = spec.get("mark")
        if mark == "text" or (isinstance(mark, dict) and mark.get("type") == "text"):
            sizes.append(float(mark.get("fontSize", 11)) if isinstance(mark, dict) else 11.0)
        for key, value in spec.items():
            if key not in ("data", "datasets"):
                sizes += _text_sizes(value)
    return sizes


def test_chart_text_scales_with_the_presenting_type(db: str) -> None:
    """The flow diagram's node labels and the heat map's cell numbers are
    drawn text, not axis text: presenting, they grow with the type."""
    # The heat map is the third screen of the establishment view.
    for page, view, part in (("pages/cohort.py", "flow", "1"), ("pages/capacity.py", "establishment", "3")):
        normal = _open("lead", page)
        shown = _open("lead", page, present="1", view=view, part=part)
        _assert_presenting(shown)
        before = [s for c in normal.get("vega_lite_chart") for s in _text_sizes(json.loads(c.proto.spec))]
        after = [s for c in shown.get("vega_lite_chart") for s in _text_sizes(json.loads(c.proto.spec))]
        assert before and after, page
        assert max(before) <= 13 and min(after) >= 16, (page, before, after)
