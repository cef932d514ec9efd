"""Server-side sign-in sessions and the sign-in rules. No Streamlit here: the
app, its cookie route and cli.py all call these.

A session is a row (UserSession). The browser's cookie carries only a random
token, signed with the cookie key; the row keeps the token's SHA-256. Every
script run checks the row, so ending a session (sign-out, password reset,
lock, disabling, an administrator) takes effect at the next click on every
app process that shares the database. The script never hands the token to
the page: it hands a single-use ticket, which the browser trades at
/auth/session for the HttpOnly cookie (see ui/session_routes.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import SignInFailure, User, UserSession
from models.codes import USER_ROLES
from partnership import accounts
from partnership.access import Viewer
from partnership.settings import Settings
from partnership.wording import plural

COOKIE_NAME = "tsd_session"
TICKET_SECONDS = 120
# last_seen_at is written at most this often per session: one write a minute
# per person, not one per click, keeps SQLite's single writer free.
SEEN_EVERY = dt.timedelta(seconds=60)
ADDRESS_WINDOW = dt.timedelta(minutes=15)
FIRST_WAIT_SECONDS = 30
MAX_WAIT_SECONDS = 900
NOT_RIGHT = "Username or password is not right."
# Said of the reason a session ended, to the person whose session it was.
ENDED = {
    "signed_out": "You signed out.",
    "idle": "Your session ended after a period without activity.",
    "expired": "Your session reached its maximum length.",
    "password_reset": "Your password was reset.",
    "locked": "Your account was locked.",
    "disabled": "Your account was disabled.",
    "ended_by_admin": "An administrator ended your session.",
    "restored": "The database was restored from a backup.",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back without a zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cookie_value(token: str, key: str) -> str:
    return f"{token}.{hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()}"


def token_from_cookie(value: str | None, key: str) -> str | None:
    """The token a cookie carries if its signature holds; anything else
    (an old JWT, alg:none, a truncated value) is no session."""
    if not value or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    expected = hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()
    return token if token and hmac.compare_digest(signature, expected) else None


def open_session(session: Session, username: str, address: str, at: dt.datetime) -> tuple[int, str]:
    """Record a sign-in; returns the row id (kept in the server's session
    state) and the single-use ticket the browser trades for its cookie."""
    ticket = secrets.token_urlsafe(32)
    row = UserSession(
        # Unusable until the ticket is traded: nobody holds a token whose hash this is.
        token_hash=_digest(secrets.token_urlsafe(32)),
        username=username,
        created_at=at,
        last_seen_at=at,
        address=address[:64],
        ticket_hash=_digest(ticket),
        ticket_expires_at=at + dt.timedelta(seconds=TICKET_SECONDS),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id, ticket


def trade_ticket(session: Session, ticket: str, at: dt.datetime) -> str | None:
    """The ticket's session gets a fresh token (returned, for the cookie);
    the ticket is spent. None for an unknown, spent or late ticket."""
    if not ticket or len(ticket) > 100:
        return None
    row = session.exec(select(UserSession).where(UserSession.ticket_hash == _digest(ticket))).first()
    if row is None or row.ended_at is not None or row.ticket_expires_at is None:
        return None
    row.ticket_hash = None
    if _aware(row.ticket_expires_at) < at:
        session.add(row)
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash = _digest(token)
    row.ticket_expires_at = None
    session.add(row)
    return token


@dataclass(frozen=True)
class Current:
    """What a run knows about its session: the viewer, or why there is none."""

    session_id: int | None
    viewer: Viewer | None
    ended: str = ""  # a reason in ENDED, when a session was found but is over


def current(
    session: Session,
    settings: Settings,
    at: dt.datetime,
    *,
    session_id: int | None = None,
    token: str | None = None,
) -> Current:
    """Check a session (by row id from this process's memory, or by the
    cookie's token on a new page load). Ends it if it has run past its idle
    or absolute limit; refuses it if its account is locked or disabled."""
    if session_id is not None:
        row = session.get(UserSession, session_id)
    elif token:
        row = session.exec(select(UserSession).where(UserSession.token_hash == _digest(token))).first()
    else:
        return Current(None, None)
    if row is None or row.id is None:
        return Current(None, None)
    if row.ended_at is not None:
        return Current(row.id, None, row.ended_reason)
    user = session.exec(select(User).where(User.username == row.username)).first()
    reason = ""
    if user is None or user.disabled or user.role not in USER_ROLES:
        reason = "disabled"
    elif user.failed_attempts >= settings.max_failed_attempts:
        reason = "locked"
    elif at - _aware(row.created_at) > dt.timedelta(hours=settings.session_max_hours):
        reason = "expired"
    elif at - _aware(row.last_seen_at) > dt.timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    if reason:
        _end(session, row, reason, at)
        accounts.audit(session, row.username, "session_ended", reason)
        session.commit()
        return Current(row.id, None, reason)
    if at - _aware(row.last_seen_at) > SEEN_EVERY:
        row.last_seen_at = at
        session.add(row)
        session.commit()
    assert user is not None
    return Current(row.id, Viewer(user.username, user.role, user.locality_id))


def _end(session: Session, row: UserSession, reason: str, at: dt.datetime) -> None:
    row.ended_at = at
    row.ended_reason = reason
    row.ticket_hash = None
    session.add(row)


def end_session(session: Session, session_id: int, reason: str, actor: str) -> bool:
    """End one session; False if it was already over."""
    row = session.get(UserSession, session_id)
    if row is None or row.ended_at is not None:
        return False
    _end(session, row, reason, now())
    accounts.audit(session, actor, "session_ended", f"{row.username}: {reason}")
    return True


def end_all_sessions(session: Session, actor: str, keep: int | None = None, reason: str = "ended_by_admin") -> int:
    """An administrator's 'end all sessions': everyone's but their own."""
    count = accounts.end_sessions(session, reason, *([col(UserSession.id) != keep] if keep is not None else []))
    accounts.audit(session, actor, "sessions_ended", f"{count} {plural(count, 'session')}")
    return count


def open_sessions(session: Session, settings: Settings, at: dt.datetime) -> list[dict[str, object]]:
    """Sessions not ended and within their limits, newest first."""
    idle_from = at - dt.timedelta(minutes=settings.session_idle_minutes)
    born_from = at - dt.timedelta(hours=settings.session_max_hours)
    rows = session.exec(
        select(UserSession, User.role)
        .join(User, col(User.username) == col(UserSession.username))
        .where(
            col(UserSession.ended_at).is_(None),
            col(UserSession.last_seen_at) >= idle_from,
            col(UserSession.created_at) >= born_from,
        )
        .order_by(col(UserSession.last_seen_at).desc())
    )
    return [
        {
            "id": row.id,
            "username": row.username,
            "role": USER_ROLES.get(role, role),
            "signed_in": _aware(row.created_at),
            "last_seen": _aware(row.last_seen_at),
            "address": row.address,
        }
        for row, role in rows
    ]


# --- signing in ---------------------------------------------------------------


def address_wait(session: Session, address: str, settings: Settings, at: dt.datetime) -> int:
    """Seconds this address must wait before its next sign-in attempt: none
    for its first failures in 15 minutes, then 30 s doubling per further
    failure, to 15 minutes. Counted across accounts, real or not, so one
    address can neither guess nor lock its way across them."""
    count, last = session.exec(
        select(func.count(), func.max(SignInFailure.at)).where(
            SignInFailure.address == address, col(SignInFailure.at) >= at - ADDRESS_WINDOW
        )
    ).one()
    if count < settings.address_free_failures or last is None:
        return 0
    wait = min(FIRST_WAIT_SECONDS * 2 ** (count - settings.address_free_failures), MAX_WAIT_SECONDS)
    return max(0, math.ceil((_aware(last) + dt.timedelta(seconds=wait) - at).total_seconds()))


# A hash to check against when the account does not exist, so a wrong
# username takes as long as a wrong password.
_DUMMY_HASH = accounts.hash_password(secrets.token_hex(8))


def sign_in(
    session: Session, username: str, password: str, address: str, settings: Settings, at: dt.datetime
) -> tuple[User | None, str]:
    """Check a password. Returns the user, or None and what to say. The same
    words for an unknown account as for a wrong password; a locked or
    disabled account is named as such only to someone with its password.
    Audited; the caller commits."""
    name = username.strip().lower()[:40]
    address = (address or "unknown")[:64]
    wait = address_wait(session, address, settings, at)
    if wait:
        accounts.audit(session, name, "sign_in_refused", f"address {address} waiting {wait} s")
        minutes = math.ceil(wait / 60)
        return None, (
            f"Too many failed sign-ins from this address. Try again in {minutes} {plural(minutes, 'minute')}."
        )
    user = session.exec(select(User).where(User.username == name)).first()
    right = accounts.check_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is not None and right:
        if user.disabled or user.failed_attempts >= settings.max_failed_attempts:
            accounts.audit(session, name, "sign_in_refused", "account disabled or locked")
            return None, "This account is locked or disabled. Ask an administrator to reset it."
        user.failed_attempts = 0
        session.add(user)
        accounts.forget_failures(session, name)
        accounts.audit(session, name, "sign_in", f"from {address}")
        return user, ""
    counted = False
    if user is not None and not user.disabled and user.failed_attempts < settings.max_failed_attempts:
        from_here = session.exec(
            select(func.count()).where(
                SignInFailure.username == name, SignInFailure.address == address, col(SignInFailure.counted)
            )
        ).one()
        # One address alone brings an account to one short of its lock, never to it.
        counted = from_here < settings.max_failed_attempts - 1
        if counted:
            user.failed_attempts += 1
            session.add(user)
    session.add(SignInFailure(at=at, address=address, username=name, counted=counted))
    detail = "unknown user" if user is None else f"attempt {user.failed_attempts} of {settings.max_failed_attempts}"
    note = "" if counted or user is None else ", not counted"
    accounts.audit(session, name, "sign_in_failed", f"{detail} from {address}{note}")
    if user is not None and counted and user.failed_attempts >= settings.max_failed_attempts:
        accounts.end_sessions_of(session, name, "locked")
        accounts.audit(session, name, "account_locked", f"{user.failed_attempts} failed sign-ins")
    return None, NOT_RIGHT
