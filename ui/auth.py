"""Sign-in, sign-out and the page guard.

streamlit-authenticator keeps the signed, expiring session cookie; the
password check, lock-out and audit are ours, against the User table, so a
disabled or deleted account loses access on its next click even if its
cookie is still valid.
"""

from __future__ import annotations

import copy

import streamlit as st
import streamlit_authenticator as stauth
from sqlmodel import Session, select
from streamlit.delta_generator import DeltaGenerator

from models import Locality, User
from models.codes import USER_ROLES
from partnership import accounts
from partnership.access import Viewer
from partnership.settings import DEFAULT_DEMO_PASSWORD, cookie_key
from partnership.wording import plural
from ui import data

COOKIE_NAME = "tsd_session"


def _secret_cookie_key() -> str | None:
    try:
        return st.secrets.get("cookie_key")  # type: ignore[no-any-return]
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None


def _active_users() -> list[User]:
    with Session(data.engine()) as session:
        return list(session.exec(select(User).where(User.disabled == False)))  # noqa: E712


def _authenticator() -> stauth.Authenticate:
    users = _active_users()
    credentials = {
        "usernames": {
            u.username: {"name": u.display_name, "email": u.email, "password": u.password_hash} for u in users
        }
    }
    # The library mutates the dict it is given: hand it a copy.
    return stauth.Authenticate(
        copy.deepcopy(credentials),
        COOKIE_NAME,
        cookie_key(_secret_cookie_key()),
        data.settings().cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )


def _viewer_for(username: str) -> Viewer | None:
    with Session(data.engine()) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or user.disabled or user.role not in USER_ROLES:
            return None
        return Viewer(user.username, user.role, user.locality_id)


def _verify(username: str, password: str) -> tuple[Viewer | None, str]:
    """Check a password, count failures and lock after too many; audited."""
    limit = data.settings().max_failed_attempts
    with Session(data.engine()) as session:
        user = session.exec(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            accounts.audit(session, username.strip().lower()[:40], "sign_in_failed", "unknown user")
            session.commit()
            return None, "Username or password is not right."
        if user.disabled or user.failed_attempts >= limit:
            accounts.audit(session, user.username, "sign_in_refused", "account disabled or locked")
            session.commit()
            return None, "This account is locked or disabled. Ask an administrator to reset it."
        if not accounts.check_password(password, user.password_hash):
            user.failed_attempts += 1
            session.add(user)
            accounts.audit(session, user.username, "sign_in_failed", f"attempt {user.failed_attempts} of {limit}")
            session.commit()
            left = limit - user.failed_attempts
            return None, (
                "Username or password is not right."
                + (f" {left} {plural(left, 'attempt')} left before the account is locked." if left <= 2 else "")
            )
        user.failed_attempts = 0
        session.add(user)
        accounts.audit(session, user.username, "sign_in", "")
        session.commit()
        return Viewer(user.username, user.role, user.locality_id), ""


def _sign_in_form(
    auth: stauth.Authenticate, is_demo: bool, placeholder: DeltaGenerator, cookie_slot: DeltaGenerator
) -> Viewer | None:
    """Draw the sign-in form; on success clear it and return the viewer.

    No st.rerun() after setting the cookie: the cookie is written by a
    component that must render in this run, or the browser never gets it."""
    with placeholder.container():
        st.title("Transitional safeguarding dashboard")
        st.caption("Young people at risk of exploitation crossing from children's to adult services at 18.")
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
    viewer, message = _verify(username, password)
    if viewer is None:
        error.error(message)
        return None
    placeholder.empty()
    st.session_state["username"] = viewer.username
    st.session_state["authentication_status"] = True
    st.session_state["logout"] = None
    with cookie_slot.container():
        auth.cookie_controller.set_cookie()
    return viewer


def _on_logout(details: dict[str, object]) -> None:
    with Session(data.engine()) as session:
        accounts.audit(session, str(details.get("username") or ""), "sign_out", "")
        session.commit()
    st.session_state.pop("viewer", None)


def signed_in_viewer(is_demo: bool) -> Viewer | None:
    """Run the sign-in flow; returns the viewer, or None after drawing the form."""
    # Both slots exist on every run, signed in or not, so the page below them
    # keeps the same element positions on the run after sign-in; otherwise
    # Streamlit briefly shows the old and new elements side by side.
    form_slot, cookie_slot = st.empty(), st.sidebar.empty()
    auth = _authenticator()
    try:
        auth.login(location="unrendered")  # restores a session from a valid cookie
    except stauth.LoginError:
        st.session_state["authentication_status"] = None
    username = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    viewer = _viewer_for(username) if username else None
    if viewer is None:
        st.session_state.pop("viewer", None)
        viewer = _sign_in_form(auth, is_demo, form_slot, cookie_slot)
        if viewer is None:
            return None
    st.session_state["viewer"] = viewer
    with st.sidebar:
        st.markdown(
            f"Signed in as **{viewer.username}**  \n{USER_ROLES[viewer.role]}"
            + (f", {_locality_name(viewer.locality_id)}" if viewer.locality_id else "")
        )
        auth.logout("Sign out", location="sidebar", callback=_on_logout)
    return viewer


def _locality_name(locality_id: int | None) -> str:
    with Session(data.engine()) as session:
        loc = session.get(Locality, locality_id)
        return loc.name if loc else ""


def guard(allowed: frozenset[str] | set[str]) -> Viewer:
    """First call of every page. Pages under pages/ are also served directly
    by Streamlit, without the entry script, so none may trust that sign-in ran."""
    viewer: Viewer | None = st.session_state.get("viewer")
    if viewer is None:
        st.warning("Please sign in to see this page.")
        st.markdown("[Go to sign-in](/)")
        st.stop()
    if viewer.role not in allowed:
        st.error(
            f"This page is not available to your role ({USER_ROLES[viewer.role]}). "
            "Ask the project lead if you need what it shows."
        )
        st.stop()
    return viewer
