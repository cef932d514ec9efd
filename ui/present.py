"""Presentation mode: one view at a time, large type, no sidebar, no filters
and no editing controls, with previous / next buttons (Page Up / Page Down,
as a presenter's clicker sends).

Everything is in the URL, so a story or a single view can be opened by link:
    ?present=1&story=3&step=2   step 2 of saved story 3, with that step's filters
    ?present=1&view=gap         one page presented section by section
    ...&part=2                  the second screenful of a long view
A view taller than a screen is shown in parts (see `part`), so no step of a
presentation scrolls on a 1440x900 or 1920x1080 screen; Next and Previous
walk the parts before moving to the next view.
A story marked for the board is shown with board-level suppression, whoever
presents it; the presenter's own locality scope still applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from sqlmodel import Session

from partnership import stories
from partnership.access import Viewer
from partnership.stories import PAGE_PATHS, SavedStory, Step
from partnership.themes import plain
from ui import data

Section = tuple[str, str, Callable[[], None]]  # slug, tab label, renderer

_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarCollapseButton"],
header[data-testid="stHeader"], [data-testid="stDownloadButton"] { display: none !important; }
html { font-size: 20px; }
.block-container, [data-testid="stMainBlockContainer"] { max-width: 100%; padding-top: 1rem; padding-bottom: 1rem; }
/* The page title and the synthetic-data banner stay, but a projector's height is for the figures. */
[data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; padding: 0 0 0.2rem 0; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.5rem; padding: 0.4rem 0 0.2rem 0; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.25rem; padding: 0.3rem 0 0.1rem 0; }
[data-testid="stMainBlockContainer"] [data-testid="stAlert"] > div { padding-top: 0.4rem; padding-bottom: 0.4rem; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
/* The presenter's line is for the presenter: smaller, so it stays on one line beside the buttons. */
.st-key-present_controls [data-testid="stMarkdownContainer"] p { font-size: 0.8rem; }
/* The sign-in cookie's invisible frame and empty slots keep working but take no room. */
.st-key-init { position: absolute !important; height: 0; overflow: hidden; }
[data-testid="stElementContainer"]:has(> [data-testid="stEmpty"]) { display: none; }
</style>
"""


@dataclass(frozen=True)
class Presentation:
    page: str
    story: SavedStory | None
    index: int  # 0-based step of the story; unused when presenting one page
    slot: object  # the container at the top of the page that holds the controls


def active() -> bool:
    return st.query_params.get("present") == "1"


_PARTS = "_present_parts"  # [the part on screen (0: none yet), parts met so far] while a view renders


def part() -> bool:
    """Whether the next part of the view being rendered is drawn. Presenting,
    a long view is shown one part at a time so that no step scrolls; each
    call starts the next part, and what a view draws outside its parts (its
    heading, its status line) is on every one. Not presenting: always True."""
    counter = st.session_state.get(_PARTS)
    if not isinstance(counter, list):
        return True
    counter[1] += 1
    return bool(counter[1] == counter[0])


def _wanted_part() -> int:
    raw = st.query_params.get("part", "1")
    if raw == "last":  # Previous from the next view: its count is known only once it has rendered
        return 0
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 1


def _current() -> Presentation | None:
    value = st.session_state.get("_presentation")
    return value if isinstance(value, Presentation) else None


def _filters() -> dict[str, str]:
    return {k: v for k, v in st.query_params.to_dict().items() if k in stories.FILTER_KEYS}


def _leave(page: str) -> None:
    st.switch_page(PAGE_PATHS[page], query_params=_filters())


def begin(viewer: Viewer, page: str) -> Viewer:
    """Second call of every page, after the guard. Returns the viewer the
    page must use: board-level for a story marked for the board."""
    st.session_state["_presentation"] = None
    if not active():
        return viewer
    st.html(_CSS)
    story: SavedStory | None = None
    index = 0
    # A warning from the page that sent us here: it would be lost in the switch.
    note: str | None = st.session_state.pop("_presentation_note", None)
    raw_story = st.query_params.get("story")
    if raw_story is not None:
        with Session(data.engine()) as session:
            story = stories.get_story(session, int(raw_story)) if raw_story.isdigit() else None
        if story is None:
            st.error(f"There is no story '{raw_story}'; it may have been deleted.")
            st.page_link("pages/stories.py", label="Choose a story", icon=":material/slideshow:")
            st.stop()
        assert story is not None
        raw_step = st.query_params.get("step", "1")
        if not raw_step.isdigit() or not 1 <= int(raw_step) <= len(story.steps):
            note = f"Story '{plain(story.name)}' has no step '{plain(raw_step)}'; showing step 1."
        else:
            index = int(raw_step) - 1
        step = story.steps[index]
        # The story's filters win over whatever the link says; the part is the link's.
        wanted = stories.step_params(story, index, step)
        if "part" in st.query_params:
            wanted["part"] = st.query_params["part"]
        if step.page != page:  # a link edited by hand: go where the story says
            st.session_state["_presentation_note"] = note
            st.switch_page(PAGE_PATHS[step.page], query_params=wanted)
        if note:
            st.warning(note)
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)
        if story.for_board:
            viewer = dataclasses.replace(viewer, board_view=True)
    st.session_state["_presentation"] = Presentation(page, story, index, st.container())
    return viewer


def _controls(pres: Presentation, steps: list[Step], index: int, part_no: int, parts: int) -> None:
    slot = pres.slot
    assert hasattr(slot, "columns")
    first, last = index == 0 and part_no == 1, index == len(steps) - 1 and part_no == parts
    # One row that wraps, not columns: in columns of fixed shares the enlarged
    # labels with their shortcut hints were cut to "N..." on a 1280-pixel screen.
    # The line wraps beside the buttons rather than pushing them onto a row of their own.
    with (
        slot,
        st.container(  # type: ignore[attr-defined]
            horizontal=True, vertical_alignment="center", gap="medium", wrap=False, key="present_controls"
        ),
    ):
        where = f"**{plain(pres.story.name)}** · " if pres.story else ""
        threshold = data.settings().suppression_threshold
        board = (
            f" · shown at board level (counts 1 to {threshold} suppressed)"
            if pres.story and pres.story.for_board
            else ""
        )
        of_parts = f" · part {part_no} of {parts}" if parts > 1 else ""
        st.markdown(f"{where}step {index + 1} of {len(steps)}: {steps[index].label}{of_parts}{board}", width="stretch")
        with st.container(horizontal=True, width="content", wrap=False, gap="small"):
            go_prev = st.button(
                "Previous", icon=":material/arrow_back:", disabled=first, shortcut="PageUp", key="present_prev"
            )
            go_next = st.button(
                "Next",
                icon=":material/arrow_forward:",
                disabled=last,
                shortcut="PageDown",
                type="primary",
                key="present_next",
            )
            leave = st.button("Leave", icon=":material/close:", key="present_leave")
    if leave:
        _leave(pres.page)
    if (go_prev and part_no > 1) or (go_next and part_no < parts):
        st.query_params["part"] = str(part_no + (1 if go_next else -1))
        if st.query_params["part"] == "1":
            del st.query_params["part"]
        st.rerun()
    target = index - 1 if go_prev else index + 1 if go_next else None
    if target is not None:
        step = steps[target]
        params = stories.step_params(pres.story, target, step)
        if pres.story is None:  # one page presented: keep its filters from step to step
            params.update(_filters())
        if go_prev:  # back to the previous view's last part
            params["part"] = "last"
        st.switch_page(PAGE_PATHS[step.page], query_params=params)


def sections(page: str, items: list[Section], editing: frozenset[str] = frozenset()) -> None:
    """Tabs normally; in presentation mode only the section the story or
    the `view` parameter asks for. Sections in `editing` are never presented."""
    pres = _current()
    if pres is None:
        if len(items) > 1:
            tabs = st.tabs([label for _, label, _ in items])
            for tab, (_, _, render) in zip(tabs, items, strict=True):
                with tab:
                    render()
        else:
            items[0][2]()
        with st.sidebar:
            st.divider()
            if st.button("Present this page", icon=":material/slideshow:", help="Full screen, one section at a time"):
                st.switch_page(PAGE_PATHS[page], query_params={"present": "1", **_filters()})
        return
    shown = [(slug, label, render) for slug, label, render in items if slug not in editing]
    if pres.story is not None:
        steps, index = pres.story.steps, pres.index
        slug = steps[index].section
    else:
        steps = [Step(f"{page}.{slug}") for slug, _, _ in shown if f"{page}.{slug}" in stories.VIEWS]
        wanted = st.query_params.get("view", steps[0].section)
        known = [s.section for s in steps]
        if wanted not in known:
            st.warning(f"This page has no view '{wanted}' to present; showing the first.")
            wanted = known[0]
        index, slug = known.index(wanted), wanted
    render = next((r for s, _, r in shown if s == slug), None)
    if render is None:
        _controls(pres, steps, index, 1, 1)
        st.error("This view cannot be presented.")
        return
    wanted = _wanted_part()
    st.session_state[_PARTS] = [wanted, 0]
    try:
        render()
    finally:
        parts = max(1, st.session_state[_PARTS][1])
        st.session_state[_PARTS] = None
    if not 1 <= wanted <= parts:  # "last", or a part this view does not have (a link edited by hand)
        st.query_params["part"] = str(parts)
        st.rerun()
    # Drawn after the view, into the slot above it: only now is the number of parts known.
    _controls(pres, steps, index, wanted, parts)
