"""Accounts, passwords and the audit trail. No Streamlit here: the app and
cli.py both call these."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from models import AuditEvent, Locality, SignInFailure, User, UserSession
from models.codes import USER_ROLES

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,39}$")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A request about an account that cannot be done, in words for the user."""


# streamlit-authenticator's hasher (bcrypt, 12 rounds), imported when first
# needed: importing the package draws on Streamlit's runtime, which the
# server's start and most commands do not need.
def hash_password(password: str) -> str:
    from streamlit_authenticator import Hasher

    return str(Hasher.hash(password))


def check_password(password: str, hashed: str) -> bool:
    from streamlit_authenticator import Hasher

    try:
        return bool(Hasher.check_pw(password, hashed))
    except ValueError:
        return False


def audit(session: Session, username: str, action: str, details: str = "") -> None:
    session.add(AuditEvent(username=username[:40], action=action[:40], details=details[:1000]))


def _locality_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    loc = session.exec(select(Locality).where(Locality.code == code.lower())).first()
    if loc is None:
        known = ", ".join(row.code for row in session.exec(select(Locality)))
        raise AccountError(f"unknown locality '{code}' (known: {known})")
    return loc.id


def add_user(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    password: str,
    locality: str | None = None,
    email: str = "",
    actor: str = "cli",
) -> User:
    if not USERNAME_RE.match(username):
        raise AccountError("username must be 2-40 lower-case letters, digits, '.', '_' or '-', starting with a letter")
    if role not in USER_ROLES:
        raise AccountError(f"unknown role '{role}' (known: {', '.join(USER_ROLES)})")
    if role == "manager" and not locality:
        raise AccountError("a manager needs a locality (--locality east|central|north)")
    if role != "manager" and locality:
        raise AccountError("only managers are tied to a locality")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        role=role,
        locality_id=_locality_id(session, locality),
        password_hash=hash_password(password),
    )
    session.add(user)
    audit(session, actor, "user_added", f"{username} role={role} locality={locality or '-'}")
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(f"no user '{username}'")
    return user


def end_sessions(session: Session, reason: str, *which: ColumnElement[bool]) -> int:
    """End every open session matching `which`, on every app process at its
    next run (each run checks its session's row); returns how many."""
    ended = session.exec(  # type: ignore[call-overload]
        update(UserSession)
        .where(col(UserSession.ended_at).is_(None), *which)
        .values(ended_at=dt.datetime.now(dt.UTC), ended_reason=reason, ticket_hash=None)
    )
    return int(ended.rowcount or 0)


def end_sessions_of(session: Session, username: str, reason: str) -> int:
    """End every open session of one account."""
    return end_sessions(session, reason, col(UserSession.username) == username)


def forget_failures(session: Session, username: str) -> None:
    """An account's failed sign-ins stop counting towards its lock (they
    still count towards their address's back-off)."""
    session.exec(  # type: ignore[call-overload]
        update(SignInFailure)
        .where(col(SignInFailure.username) == username, col(SignInFailure.counted))
        .values(counted=False)
    )


def set_disabled(session: Session, username: str, disabled: bool, actor: str = "cli") -> None:
    user = get_user(session, username)
    user.disabled = disabled
    session.add(user)
    if disabled:
        # Ended, not suspended: enabling the account again does not bring old sessions back.
        end_sessions_of(session, username, "disabled")
    audit(session, actor, "user_disabled" if disabled else "user_enabled", username)


def reset_password(session: Session, username: str, password: str, actor: str = "cli") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.failed_attempts = 0
    session.add(user)
    forget_failures(session, username)
    end_sessions_of(session, username, "password_reset")
    audit(session, actor, "password_reset", username)


def list_users(session: Session) -> list[dict[str, object]]:
    localities = {loc.id: loc.code for loc in session.exec(select(Locality))}
    return [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "locality": localities.get(u.locality_id, ""),
            "disabled": u.disabled,
            "failed_attempts": u.failed_attempts,
        }
        for u in session.exec(select(User).order_by(User.username))
    ]


DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    ("admin", "Demo administrator", "admin", None),
    ("lead", "Demo project lead", "project_lead", None),
    ("board", "Demo board member", "board", None),
    ("manager_east", "Demo manager, East", "manager", "east"),
    ("manager_central", "Demo manager, Central", "manager", "central"),
    ("manager_north", "Demo manager, North", "manager", "north"),
]


def add_demo_users(session: Session, password: str) -> None:
    """Demo accounts: created only by seed-demo, so only in a demo database."""
    hashed = hash_password(password)  # one hash for all: bcrypt is slow on purpose
    for username, name, role, locality in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first():
            continue
        session.add(
            User(
                username=username,
                display_name=name,
                role=role,
                email=f"{username}@demo.invalid",
                locality_id=_locality_id(session, locality),
                password_hash=hashed,
            )
        )


# What the audit page's filter offers, in words, and the actions each covers.
AUDIT_KINDS: dict[str, tuple[str, ...]] = {
    "Sign-ins and sign-outs": ("sign_in", "sign_out"),
    "Refusals": ("sign_in_failed", "sign_in_refused", "account_locked", "import_rejected"),
    "Sessions ended": ("session_ended", "sessions_ended"),
    "Exports": ("export", "board_pack"),
    "Imports": ("import", "import_rejected", "seed_demo"),
    "Backups and restores": ("backup", "restore"),
    "Edits": (
        "staffing_recorded",
        "commentary_saved",
        "scenario_saved",
        "story_saved",
        "story_deleted",
        "user_added",
        "user_disabled",
        "user_enabled",
        "password_reset",
    ),
    "Page views": ("page_view",),
}


def audit_trail(
    session: Session,
    since: dt.datetime,
    until: dt.datetime,
    username: str | None = None,
    kinds: list[str] | None = None,
    limit: int = 10_000,
) -> list[AuditEvent]:
    """Audit events from `since` up to (not including) `until`, newest first."""
    query = select(AuditEvent).where(col(AuditEvent.at) >= since, col(AuditEvent.at) < until)
    if username:
        query = query.where(AuditEvent.username == username)
    if kinds:
        actions = sorted({action for kind in kinds for action in AUDIT_KINDS[kind]})
        query = query.where(col(AuditEvent.action).in_(actions))
    return list(session.exec(query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)))
