"""Presentations: saved stories (ordered views with their filters) to show
full screen at a meeting; the project lead and admin write them."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import accounts, boardpack, publication, queries, stories
from partnership.access import ALL_ROLES
from partnership.metrics import default_period, period_options
from partnership.stories import PAGE_PATHS, VIEWS, SavedStory, StoryError
from partnership.themes import plain
from ui import chrome, data
from ui.auth import guard

viewer = guard(ALL_ROLES)
settings = chrome.page_header(viewer, "stories", "Presentations")
as_of = queries.as_of_date(settings)
locality_rows = data.localities().to_dicts()
localities = {r["code"]: r["name"] for r in locality_rows}
# A manager sees their own locality in every step, whatever the story says:
# label the steps with what they will see.
own = next((r["name"] for r in locality_rows if r["id"] == viewer.locality_id), None)
periods = period_options(as_of)
default = default_period(as_of)
published = data.board()
board_periods = published.meta.periods if published else period_options(as_of, rolling=False)
locality_labels = {"all": "All localities", **localities}
can_edit = viewer.role in ("project_lead", "admin")
threshold = data.settings().suppression_threshold
with Session(data.engine()) as session:
    saved = stories.list_stories(session)

st.markdown(
    "A story is a sequence of views shown full screen, one at a time, with **Previous** and **Next** "
    "(or Page Up and Page Down, as a presenter's clicker sends). The sidebar, filters and editing controls are "
    f"hidden. A story marked *for the board* is always shown at board level (counts from 1 to {threshold} as c, "
    "whole cohort, calendar years), whoever presents it."
)


def _filters_words(filters: dict[str, str]) -> str:
    words = [f"{own}, your locality" if own else localities.get(filters.get("locality", ""), "All localities")]
    words.append(periods.get(filters.get("period", default), filters.get("period", "")))
    words += [f"{k} {v}" for k, v in filters.items() if k not in ("locality", "period")]
    return ", ".join(words)


def _show(story: SavedStory) -> None:
    with st.container(border=True):
        head, link = st.columns([4, 1], vertical_alignment="center")
        board = " · for the board" if story.for_board else ""
        head.markdown(  # the title is typed by the lead: shown as typed, never as Markdown
            f"**{plain(story.name)}**{board}  \n{len(story.steps)} steps · saved by {plain(story.created_by)}"
        )
        first = story.steps[0]
        link.page_link(
            PAGE_PATHS[first.page],
            label="Present",
            icon=":material/slideshow:",
            query_params=stories.step_params(story, 0, first),
        )
        st.markdown(
            "\n".join(f"{i}. {s.label} ({_filters_words(s.filters)})" for i, s in enumerate(story.steps, start=1))
        )
        st.caption(f"Link: `/{first.page if first.page != 'overview' else ''}?present=1&story={story.id}&step=1`")


if not saved:
    st.info("No stories yet." + (" Write one below." if can_edit else " The project lead writes them."))
for story in saved:
    _show(story)

if can_edit:
    st.subheader("Write or change a story")
    choice = st.selectbox(
        "Story",
        [None, *[s.id for s in saved]],
        format_func=lambda i: "New story" if i is None else next(s.name for s in saved if s.id == i),
    )
    current = next((s for s in saved if s.id == choice), None)
    view_labels = list(VIEWS.values())
    rows = pl.DataFrame(
        [
            {
                "View": VIEWS[s.view],
                "Locality": locality_labels.get(s.filters.get("locality", "all"), "All localities"),
                "Period": periods.get(s.filters.get("period", default), periods[default]),
            }
            for s in (current.steps if current else [stories.Step(v) for v in stories.BOARD_MEETING])
        ],
        schema={"View": pl.String, "Locality": pl.String, "Period": pl.String},
    )
    with st.form(f"story_{choice}"):
        name = st.text_input("Name", value=current.name if current else "", max_chars=80)
        for_board = st.checkbox(
            "For the board: always show with board-level suppression",
            value=current.for_board if current else True,
        )
        st.caption("One row per step, in order. Add a row at the bottom; select a row and press Delete to remove it.")
        edited = st.data_editor(
            rows,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config={
                "View": st.column_config.SelectboxColumn(options=view_labels, required=True),
                "Locality": st.column_config.SelectboxColumn(options=list(locality_labels.values()), required=True),
                "Period": st.column_config.SelectboxColumn(options=list(periods.values()), required=True),
            },
        )
        save = st.form_submit_button("Save story", type="primary")
    if save:
        by_view = {label: view for view, label in VIEWS.items()}
        by_loc = {label: code for code, label in locality_labels.items()}
        by_period = {label: key for key, label in periods.items()}
        raw = [
            {
                "view": by_view.get(str(r["View"]), str(r["View"])),
                "filters": {
                    "locality": by_loc.get(str(r["Locality"]), "all"),
                    "period": by_period.get(str(r["Period"])),
                },
            }
            for r in pl.DataFrame(edited).to_dicts()
            if r["View"]
        ]
        try:
            steps = stories.check_steps(raw)
            with Session(data.engine()) as session:
                written = stories.save_story(session, name, for_board, steps, viewer.username, choice)
                session.commit()
        except StoryError as exc:
            st.error(f"Not saved: {exc}.")
        else:
            chrome.flash(f"Saved '{plain(written.name)}' with {len(written.steps)} steps.")
    if current is not None and st.button("Delete this story", icon=":material/delete:"):
        with Session(data.engine()) as session:
            stories.delete_story(session, current.id, viewer.username)
            session.commit()
        chrome.flash(f"Deleted '{plain(current.name)}'.")


@st.cache_resource
def _last_build_seconds() -> dict[str, float]:
    return {"seconds": 0.0}


@st.fragment(run_every=5)
def _publication_status() -> None:
    """What the board sees now, and whether a new publication is being made
    (this part of the page looks again every five seconds)."""
    board = data.board()
    attempt = publication.last_attempt(data.engine())
    if board is None:
        st.warning("Nothing has been published to the board yet: board members see no figures.")
    else:
        st.markdown(
            f"**The board sees:** {board.header.words()}, published {publication.REASONS.get(board.header.reason, '')}."
        )
        st.caption(board.header.summary)
        if data.db_settings().get("data_version") != board.header.data_version:
            st.caption("The data have changed since: the board sees the figures as they were published.")
    running = (
        attempt is not None
        and attempt.status == "building"
        and (dt.datetime.now(dt.UTC) - attempt.started_at.replace(tzinfo=dt.UTC) < publication.STALE_BUILD)
    )
    if running:
        st.info(
            f"A publication is being made (started {attempt.started_at:%H:%M} UTC). This part of the page "
            "updates when it is ready.",
            icon=":material/hourglass_top:",
        )
    elif attempt is not None and attempt.status == "failed":
        st.error(f"The last publication could not be made: {attempt.summary}")


if can_edit:
    st.subheader("Publish to the board")
    st.caption(
        "Board members, board-level stories, the board pack and board exports show the figures as last published: "
        "every figure the board can see, checked together so that no hidden count can be worked out from them all, "
        f"and from the publication before. Figures are published every {data.settings().publication_days} days "
        "when the data have changed; publish now after an import the board should see."
    )
    _publication_status()
    if st.button("Publish to the board", icon=":material/publish:"):
        if data.publish_now(viewer.username):
            with Session(data.engine()) as session:
                accounts.audit(session, viewer.username, "publication_requested", "Publish to the board")
                session.commit()
            chrome.flash("Publishing to the board: the board's pages change when it is ready, in a minute or two.")
        else:
            st.info("A publication is already being made.")

    st.subheader("Board pack (PDF)")
    st.caption(
        "A PDF for the board papers: cover, programme summary, each theme with its indicators and charts, the cohort "
        "flow and the gap, team capacity and data notes, from the board's publication: the figures board members "
        "see, figure for figure."
    )
    loc_col, period_col, go_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    pack_loc = loc_col.selectbox("Locality", ["all", *localities], format_func=lambda c: locality_labels[c])
    pack_period = period_col.selectbox(
        "Period", list(board_periods), format_func=board_periods.__getitem__, help="Board packs are by calendar year."
    )
    # How long the last pack took in this process: the best estimate there is.
    took = _last_build_seconds()
    if go_col.button("Prepare board pack", icon=":material/picture_as_pdf:"):
        estimate = (
            f"the last one took {took['seconds']:.0f} seconds"
            if took["seconds"]
            else "this usually takes 10 to 30 seconds"
        )
        with st.spinner(f"Building the board pack: {estimate}.", show_time=True):
            started = time.perf_counter()
            try:
                pdf = boardpack.build_board_pack(
                    data.engine(), pack_loc, pack_period, generated_by=f"{viewer.username} (dashboard)"
                )
            except boardpack.BoardPackError as exc:
                st.error(f"No board pack: {exc}.")
                st.stop()
            took["seconds"] = time.perf_counter() - started
        with Session(data.engine()) as session:
            accounts.audit(session, viewer.username, "board_pack", f"locality={pack_loc} period={pack_period}")
            session.commit()
        name = f"board_pack_{pack_loc}_{pack_period}_{dt.date.today().isoformat()}.pdf"
        st.session_state["_board_pack"] = (name, pdf)
    prepared = st.session_state.get("_board_pack")
    if prepared:
        st.download_button(
            f"Download {prepared[0]}", prepared[1], file_name=prepared[0], mime="application/pdf", type="primary"
        )
