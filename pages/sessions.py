"""Sessions and audit (administrators): who is signed in now, ending their
sessions, and the audit trail of sign-ins, refusals, exports, imports and
edits, filtered and exported."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st
from sqlmodel import Session

from partnership import accounts, sessions
from partnership.wording import plural
from ui import chrome, data
from ui.auth import guard

viewer = guard({"admin"})
chrome.page_header(viewer, "sessions", "Sessions and audit")
chrome.show_flash()
engine = data.engine()
settings = data.settings()
own = st.session_state.get("session_id")


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%d %b %Y %H:%M UTC")


open_tab, audit_tab = st.tabs(["Open sessions", "Audit trail"])

with open_tab:
    with Session(engine) as session:
        rows = sessions.open_sessions(session, settings, sessions.now())
    st.caption(
        f"A session ends at sign-out, after {settings.session_idle_minutes:g} minutes without a click, "
        f"{settings.session_max_hours:g} hours after sign-in, and when its account's password is reset, "
        "the account is locked or disabled, or an administrator ends it here. It ends at the person's next "
        "click, on every app server."
    )
    table = pl.DataFrame(
        {
            "User": [str(r["username"]) for r in rows],
            "Role": [str(r["role"]) for r in rows],
            "Signed in": [_when(r["signed_in"]) for r in rows],  # type: ignore[arg-type]
            "Last seen": [_when(r["last_seen"]) for r in rows],  # type: ignore[arg-type]
            "Address": [str(r["address"]) for r in rows],
            "This session": ["yes" if r["id"] == own else "" for r in rows],
        },
        schema=dict.fromkeys(["User", "Role", "Signed in", "Last seen", "Address", "This session"], pl.String),
    )
    chrome.table_block(table, f"**{len(rows)}** open {plural(len(rows), 'session')}.", "open_sessions", "sessions")
    others = [r for r in rows if r["id"] != own]
    if others:
        labels = {
            int(r["id"]): f"{r['username']} ({r['role']}), signed in {_when(r['signed_in'])}, from {r['address']}"  # type: ignore[arg-type]
            for r in others
        }
        with st.form("end_one"):
            chosen = st.selectbox("Session", list(labels), format_func=labels.__getitem__)
            if st.form_submit_button("End this session"):
                with Session(engine) as session:
                    ended = sessions.end_session(session, int(chosen), "ended_by_admin", viewer.username)
                    session.commit()
                chrome.flash(f"Ended {labels[chosen]}." if ended else "That session had already ended.")
                st.rerun()
        with st.form("end_all"):
            sure = st.checkbox(f"End all {len(others)} other {plural(len(others), 'session')} (yours stays open)")
            if st.form_submit_button("End all other sessions"):
                if not sure:
                    st.warning("Tick the box first: everyone else will have to sign in again.")
                else:
                    with Session(engine) as session:
                        count = sessions.end_all_sessions(session, viewer.username, keep=own)
                        session.commit()
                    chrome.flash(f"Ended {count} {plural(count, 'session')}.")
                    st.rerun()

with audit_tab:
    today = dt.date.today()
    with Session(engine) as session:
        users = [str(u["username"]) for u in accounts.list_users(session)]
    left, middle, right = st.columns([1, 1, 2])
    with left:
        period = st.date_input(
            "From and to", (today - dt.timedelta(days=30), today), max_value=today, format="DD/MM/YYYY"
        )
    with middle:
        who = st.selectbox("User", ["Everyone", *users])
    with right:
        kinds = st.multiselect("What", list(accounts.AUDIT_KINDS), placeholder="Everything")
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (today, today)
    with Session(engine) as session:
        events = accounts.audit_trail(
            session,
            dt.datetime.combine(start, dt.time(), dt.UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC),
            None if who == "Everyone" else who,
            kinds,
        )
    trail = pl.DataFrame(
        {
            "When": [_when(e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)) for e in events],
            "User": [e.username for e in events],
            "Action": [e.action.replace("_", " ") for e in events],
            # Shown in the grid, which draws text as text: a username someone typed stays literal.
            "Details": [e.details for e in events],
        },
        schema=dict.fromkeys(["When", "User", "Action", "Details"], pl.String),
    )
    span = f"{start:%d %b %Y} to {end:%d %b %Y}"
    chrome.table_block(
        trail,
        f"**{trail.height:,}** {plural(trail.height, 'event')}, {span}, newest first"
        + ("" if trail.height < 10_000 else " (the newest 10,000; narrow the dates to see older ones)")
        + ".",
        "audit_trail",
        "audit",
    )
