"""Sign-in, sign-out and the page guard.

Sessions live on the server (partnership/sessions.py): every run checks its
session's row, so a sign-out, password reset, lock, disabling or an
administrator's "end session" takes effect at the next click, on every app
process. The browser's cookie is HttpOnly and set by the server
(ui/session_routes.py); passwords are hashed with streamlit-authenticator's
bcrypt hasher (partnership/accounts.py). The sign-in rules (one message for
every wrong username or password, a per-address back-off) are in
partnership/sessions.sign_in.
"""

from __future__ import annotations

import json

import streamlit as st
from sqlmodel import Session
from streamlit import config
from streamlit.delta_generator import DeltaGenerator

from models import Locality
from models.codes import USER_ROLES
from partnership import accounts, sessions
from partnership.access import Viewer
from partnership.settings import DEFAULT_DEMO_PASSWORD
from ui import data
from ui.keys import session_cookie_key
from ui.session_routes import PATH

COOKIE_NAME = sessions.COOKIE_NAME


def _address() -> str:
    """The browser's address, for the sign-in back-off and the sessions list.
    Behind a proxy on this machine (nginx), uvicorn takes it from the
    proxy's X-Forwarded-For (it trusts forwarded headers from 127.0.0.1
    only, FORWARDED_ALLOW_IPS); Streamlit gives None for a browser on this
    machine itself."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):
        return "unknown"
    if address is None:
        return "localhost"
    # AppTest's client is a mock: anything but text is no address.
    return address if isinstance(address, str) and address else "unknown"


def _cookie_route() -> str:
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return (f"/{base}" if base else "") + PATH


def _cookie_script(body: str, slot: DeltaGenerator) -> None:
    """Ask the browser to call the cookie route (its answer sets or clears
    the HttpOnly cookie). Our own script, with no user text in it."""
    with slot.container():
        st.html(f"<script>{body}</script>", unsafe_allow_javascript=True, width=1)


def _set_cookie(ticket: str, slot: DeltaGenerator) -> None:
    body = json.dumps("ticket=" + ticket)
    _cookie_script(
        f"fetch({json.dumps(_cookie_route())}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: {body}}});",
        slot,
    )


def _forget_cookie(slot: DeltaGenerator) -> None:
    _cookie_script(f"fetch({json.dumps(_cookie_route())}, {{method: 'DELETE', credentials: 'same-origin'}});", slot)


def _session() -> sessions.Current:
    """This run's session: by the row id this process keeps for the browser
    tab, else (a new page load) by the cookie sent with the page's socket."""
    with Session(data.engine()) as session:
        session_id = st.session_state.get("session_id")
        if session_id is not None:
            return sessions.current(session, data.settings(), sessions.now(), session_id=session_id)
        token = sessions.token_from_cookie(st.context.cookies.get(COOKIE_NAME), session_cookie_key())
        return sessions.current(session, data.settings(), sessions.now(), token=token)


def _sign_in_form(is_demo: bool, placeholder: DeltaGenerator, cookie_slot: DeltaGenerator, ended: str) -> Viewer | None:
    """Draw the sign-in form; on success clear it and return the viewer."""
    with placeholder.container():
        st.title("Transitional safeguarding dashboard")
        st.caption("Young people at risk of exploitation crossing from children's to adult services at 18.")
        if ended and ended != "signed_out":
            st.info(f"{sessions.ENDED.get(ended, 'Your session ended.')} Please sign in again.")
        with st.form("sign_in"):
            st.subheader("Sign in")
            username = st.text_input("Username", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary")
        error = st.empty()
        if is_demo:
            password_hint = (
                "the value of DASHBOARD_DEMO_PASSWORD"
                if data.settings().demo_password != DEFAULT_DEMO_PASSWORD
                else f"`{DEFAULT_DEMO_PASSWORD}`"
            )
            st.info(
                "**Demo accounts** (synthetic data only): `admin`, `lead`, `board`, `manager_east`, "
                f"`manager_central`, `manager_north`. Password: {password_hint}."
            )
    if not submitted:
        return None
    address = _address()
    now = sessions.now()
    with Session(data.engine()) as session:
        user, message = sessions.sign_in(session, username, password, address, data.settings(), now)
        if user is None:
            session.commit()
            error.error(message)
            return None
        session_id, ticket = sessions.open_session(session, user.username, address, now)
        viewer = Viewer(user.username, user.role, user.locality_id)
        session.commit()
    placeholder.empty()
    st.session_state["session_id"] = session_id
    _set_cookie(ticket, cookie_slot)
    return viewer


def _sign_out() -> None:
    session_id = st.session_state.pop("session_id", None)
    viewer: Viewer | None = st.session_state.pop("viewer", None)
    if session_id is not None and viewer is not None:
        with Session(data.engine()) as session:
            sessions.end_session(session, session_id, "signed_out", viewer.username)
            accounts.audit(session, viewer.username, "sign_out", "")
            session.commit()
    st.session_state["forget_cookie"] = True


def signed_in_viewer(is_demo: bool) -> Viewer | None:
    """Run the sign-in flow; returns the viewer, or None after drawing the form."""
    # Both slots exist on every run, signed in or not, so the page below them
    # keeps the same element positions on the run after sign-in; otherwise
    # Streamlit briefly shows the old and new elements side by side.
    form_slot, cookie_slot = st.empty(), st.sidebar.empty()
    if st.session_state.pop("forget_cookie", False):
        _forget_cookie(cookie_slot)
    found = _session()
    viewer = found.viewer
    if viewer is None:
        st.session_state.pop("viewer", None)
        st.session_state.pop("session_id", None)
        viewer = _sign_in_form(is_demo, form_slot, cookie_slot, found.ended)
        if viewer is None:
            return None
    else:
        st.session_state["session_id"] = found.session_id
    st.session_state["viewer"] = viewer
    with st.sidebar:
        st.markdown(
            f"Signed in as **{viewer.username}**  \n{USER_ROLES[viewer.role]}"
            + (f", {_locality_name(viewer.locality_id)}" if viewer.locality_id else "")
        )
        st.button("Sign out", on_click=_sign_out)
    return viewer


def _locality_name(locality_id: int | None) -> str:
    with Session(data.engine()) as session:
        loc = session.get(Locality, locality_id)
        return loc.name if loc else ""


def guard(allowed: frozenset[str] | set[str]) -> Viewer:
    """First call of every page. Pages under pages/ are also served directly
    by Streamlit, without the entry script, so none may trust that sign-in
    ran: the session is checked here again (one indexed read)."""
    viewer: Viewer | None = st.session_state.get("viewer")
    ended = ""
    if viewer is not None:
        found = _session()
        viewer, ended = found.viewer, found.ended
        if viewer is None:
            st.session_state.pop("viewer", None)
            st.session_state.pop("session_id", None)
    if viewer is None:
        st.warning(
            f"{sessions.ENDED[ended]} Please sign in again."
            if ended in sessions.ENDED and ended != "signed_out"
            else "Please sign in to see this page."
        )
        st.markdown("[Go to sign-in](/)")
        st.stop()
    if viewer.role not in allowed:
        st.error(
            f"This page is not available to your role ({USER_ROLES[viewer.role]}). "
            "Ask the project lead if you need what it shows."
        )
        st.stop()
    return viewer
