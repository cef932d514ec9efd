"""Presentation mode: one view at a time, large type, no sidebar, no filters
and no editing controls, with previous / next buttons (Page Up / Page Down,
as a presenter's clicker sends).

Everything is in the URL, so a story or a single view can be opened by link:
    ?present=1&story=3&step=2   step 2 of saved story 3, with that step's filters
    ?present=1&view=gap         one page presented section by section
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
from ui import data

Section = tuple[str, str, Callable[[], None]]  # slug, tab label, renderer

_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarCollapseButton"],
header[data-testid="stHeader"], [data-testid="stDownloadButton"] { display: none !important; }
html { font-size: 20px; }
.block-container, [data-testid="stMainBlockContainer"] { max-width: 100%; padding-top: 1.2rem; }
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
            note = f"Story '{story.name}' has no step '{raw_step}'; showing step 1."
        else:
            index = int(raw_step) - 1
        step = story.steps[index]
        if step.page != page:  # a link edited by hand: go where the story says
            st.session_state["_presentation_note"] = note
            st.switch_page(PAGE_PATHS[step.page], query_params=stories.step_params(story, index, step))
        if note:
            st.warning(note)
        # The story's filters win over whatever the link says.
        wanted = stories.step_params(story, index, step)
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)
        if story.for_board:
            viewer = dataclasses.replace(viewer, board_view=True)
    st.session_state["_presentation"] = Presentation(page, story, index, st.container())
    return viewer


def _controls(pres: Presentation, steps: list[Step], index: int) -> None:
    slot = pres.slot
    assert hasattr(slot, "columns")
    # One row that wraps, not columns: in columns of fixed shares the enlarged
    # labels with their shortcut hints were cut to "N..." on a 1280-pixel screen.
    with slot, st.container(horizontal=True, vertical_alignment="center", gap="medium"):  # type: ignore[attr-defined]
        where = f"**{pres.story.name}** · " if pres.story else ""
        threshold = data.settings().suppression_threshold
        board = (
            f" · shown at board level (counts 1 to {threshold} suppressed)"
            if pres.story and pres.story.for_board
            else ""
        )
        st.markdown(f"{where}step {index + 1} of {len(steps)}: {steps[index].label}{board}", width="stretch")
        with st.container(horizontal=True, width="content", wrap=False, gap="small"):
            go_prev = st.button(
                "Previous", icon=":material/arrow_back:", disabled=index == 0, shortcut="PageUp", key="present_prev"
            )
            go_next = st.button(
                "Next",
                icon=":material/arrow_forward:",
                disabled=index == len(steps) - 1,
                shortcut="PageDown",
                type="primary",
                key="present_next",
            )
            leave = st.button("Leave", icon=":material/close:", key="present_leave")
    if leave:
        _leave(pres.page)
    target = index - 1 if go_prev else index + 1 if go_next else None
    if target is not None:
        step = steps[target]
        params = stories.step_params(pres.story, target, step)
        if pres.story is None:  # one page presented: keep its filters from step to step
            params.update(_filters())
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
    _controls(pres, steps, index)
    render = next((r for s, _, r in shown if s == slug), None)
    if render is None:
        st.error("This view cannot be presented.")
        return
    render()
