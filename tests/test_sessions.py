"""Server-side sessions and the sign-in rules, on SQLite and PostgreSQL.

Times are given, not read from the clock, so every limit is checked at its
edge: the idle timeout (30 minutes), the absolute lifetime (12 hours), the
address back-off (5 free failures in 15 minutes, then 30 s doubling)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from models import SignInFailure, User, UserSession
from partnership import accounts, sessions
from partnership.settings import Settings

KEY = "k" * 40
PASSWORD = "correct-horse-battery"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
SETTINGS = replace(
    Settings(), max_failed_attempts=5, address_free_failures=5, session_idle_minutes=30.0, session_max_hours=12.0
)


@pytest.fixture
def people(session: Session) -> Session:
    accounts.add_user(session, "lead", "Lead", "project_lead", PASSWORD)
    accounts.add_user(session, "admin", "Admin", "admin", PASSWORD)
    session.commit()
    return session


def _signed_in(session: Session, username: str = "lead", at: dt.datetime = T0) -> tuple[int, str]:
    """A session whose ticket has been traded: (row id, the cookie's token)."""
    session_id, ticket = sessions.open_session(session, username, "10.0.0.1", at)
    token = sessions.trade_ticket(session, ticket, at + dt.timedelta(seconds=1))
    assert token is not None
    session.commit()
    return session_id, token


def _viewer(session: Session, token: str, at: dt.datetime) -> str | None:
    found = sessions.current(session, SETTINGS, at, token=token)
    return found.viewer.username if found.viewer else None


def test_the_cookie_carries_a_signed_token_and_nothing_else_passes() -> None:
    value = sessions.cookie_value("abc", KEY)
    assert sessions.token_from_cookie(value, KEY) == "abc"
    assert sessions.token_from_cookie(value, "another-key-" * 4) is None
    assert sessions.token_from_cookie("abd" + value[3:], KEY) is None
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps({"username": "admin"}).encode()).decode().rstrip("=")
    assert sessions.token_from_cookie(f"{header}.{body}.", KEY) is None
    assert sessions.token_from_cookie("", KEY) is None
    assert sessions.token_from_cookie(None, KEY) is None


def test_a_ticket_is_traded_once_and_only_while_fresh(people: Session) -> None:
    session_id, ticket = sessions.open_session(people, "lead", "10.0.0.1", T0)
    people.commit()
    late = sessions.open_session(people, "lead", "10.0.0.1", T0)[1]
    people.commit()
    token = sessions.trade_ticket(people, ticket, T0 + dt.timedelta(seconds=5))
    assert token is not None
    assert sessions.trade_ticket(people, ticket, T0 + dt.timedelta(seconds=6)) is None  # spent
    assert sessions.trade_ticket(people, late, T0 + dt.timedelta(seconds=sessions.TICKET_SECONDS + 1)) is None
    assert sessions.trade_ticket(people, "made-up", T0) is None
    people.commit()
    assert _viewer(people, token, T0 + dt.timedelta(minutes=1)) == "lead"
    # The database keeps only the token's hash.
    row = people.get(UserSession, session_id)
    assert row is not None and token not in (row.token_hash, row.ticket_hash)


def test_idle_for_thirty_minutes_ends_a_session_and_clicks_keep_it_alive(people: Session) -> None:
    _, token = _signed_in(people)
    assert _viewer(people, token, T0 + dt.timedelta(minutes=29)) == "lead"  # last seen moves to 09:29
    assert _viewer(people, token, T0 + dt.timedelta(minutes=58)) == "lead"  # 29 minutes after it
    found = sessions.current(people, SETTINGS, T0 + dt.timedelta(minutes=88, seconds=1), token=token)
    assert found.viewer is None and found.ended == "idle"
    # Ended for good: coming back sooner afterwards does not revive it.
    assert _viewer(people, token, T0 + dt.timedelta(minutes=60)) is None


def test_no_session_lives_past_twelve_hours_however_busy(people: Session) -> None:
    _, token = _signed_in(people)
    at = T0
    while at < T0 + dt.timedelta(hours=11, minutes=50):
        at += dt.timedelta(minutes=20)
        assert _viewer(people, token, at) == "lead"
    found = sessions.current(people, SETTINGS, T0 + dt.timedelta(hours=12, minutes=1), token=token)
    assert found.viewer is None and found.ended == "expired"


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (lambda s: accounts.reset_password(s, "lead", "a-new-password-1"), "password_reset"),
        (lambda s: accounts.set_disabled(s, "lead", True), "disabled"),
    ],
)
def test_a_reset_or_disabling_ends_every_session_of_the_account(people: Session, action, reason: str) -> None:  # type: ignore[no-untyped-def]
    _, first = _signed_in(people)
    _, second = _signed_in(people)
    _, other = _signed_in(people, "admin")
    action(people)
    people.commit()
    at = T0 + dt.timedelta(minutes=1)
    for token in (first, second):
        found = sessions.current(people, SETTINGS, at, token=token)
        assert found.viewer is None and found.ended == reason
    assert _viewer(people, other, at) == "admin"
    if reason == "disabled":  # enabling the account again brings no old session back
        accounts.set_disabled(people, "lead", False)
        people.commit()
        assert _viewer(people, first, at) is None


def test_an_administrator_ends_everyone_elses_sessions(people: Session) -> None:
    own, own_token = _signed_in(people, "admin")
    _, lead = _signed_in(people)
    assert sessions.end_all_sessions(people, "admin", keep=own) == 1
    people.commit()
    assert _viewer(people, lead, T0 + dt.timedelta(minutes=1)) is None
    assert _viewer(people, own_token, T0 + dt.timedelta(minutes=1)) == "admin"
    listed = sessions.open_sessions(people, SETTINGS, T0 + dt.timedelta(minutes=1))
    assert [(row["username"], row["role"]) for row in listed] == [("admin", "Administrator")]


def _try(session: Session, username: str, password: str, address: str, at: dt.datetime) -> str:
    user, message = sessions.sign_in(session, username, password, address, SETTINGS, at)
    session.commit()
    return "ok" if user else message


def test_a_wrong_password_and_an_unknown_account_read_the_same(people: Session) -> None:
    assert _try(people, "lead", "wrong-password", "10.0.0.1", T0) == "Username or password is not right."
    assert _try(people, "nobody", "wrong-password", "10.0.0.2", T0) == "Username or password is not right."
    assert _try(people, "LEAD ", PASSWORD, "10.0.0.3", T0) == "ok"


def test_one_address_waits_after_five_failures_across_accounts(people: Session) -> None:
    at = T0
    for name in ("lead", "admin", "nobody", "lead", "someone"):
        assert _try(people, name, "guess", "10.0.0.9", at) == sessions.NOT_RIGHT
        at += dt.timedelta(seconds=1)
    # Fifth failure at 09:00:04: the next attempt waits 30 s, whatever the account or password.
    waiting = _try(people, "admin", PASSWORD, "10.0.0.9", T0 + dt.timedelta(seconds=20))
    assert waiting == "Too many failed sign-ins from this address. Try again in 1 minute."
    assert _try(people, "admin", PASSWORD, "10.0.0.8", T0 + dt.timedelta(seconds=20)) == "ok"  # another address
    # After the wait one more guess, then twice as long (60 s), then 120 s.
    assert _try(people, "lead", "guess", "10.0.0.9", T0 + dt.timedelta(seconds=35)) == sessions.NOT_RIGHT
    assert sessions.address_wait(people, "10.0.0.9", SETTINGS, T0 + dt.timedelta(seconds=35)) == 60
    assert _try(people, "lead", "guess", "10.0.0.9", T0 + dt.timedelta(seconds=96)) == sessions.NOT_RIGHT
    assert sessions.address_wait(people, "10.0.0.9", SETTINGS, T0 + dt.timedelta(seconds=96)) == 120
    # Fifteen quiet minutes after the last failure the address starts afresh.
    assert sessions.address_wait(people, "10.0.0.9", SETTINGS, T0 + dt.timedelta(minutes=16, seconds=37)) == 0


def test_one_address_cannot_lock_an_account_and_two_can(people: Session) -> None:
    at = T0
    for _ in range(4):
        assert _try(people, "admin", "guess", "10.0.0.9", at) == sessions.NOT_RIGHT
        at += dt.timedelta(minutes=20)  # slow enough never to meet the address back-off
    # The fifth, sixth... from the same address do not count.
    for _ in range(3):
        assert _try(people, "admin", "guess", "10.0.0.9", at) == sessions.NOT_RIGHT
        at += dt.timedelta(minutes=20)
    assert people.exec(select(User).where(User.username == "admin")).one().failed_attempts == 4
    _own, token = _signed_in(people, "admin", at)
    # A wrong password from a second address is the fifth counted: locked, and its sessions end.
    assert _try(people, "admin", "guess", "10.0.0.7", at) == sessions.NOT_RIGHT
    assert people.exec(select(User).where(User.username == "admin")).one().failed_attempts == 5
    found = sessions.current(people, SETTINGS, at + dt.timedelta(seconds=1), token=token)
    assert found.viewer is None and found.ended == "locked"
    # Only someone with the password learns the account is locked.
    assert _try(people, "admin", PASSWORD, "10.0.0.6", at) == (
        "This account is locked or disabled. Ask an administrator to reset it."
    )
    assert _try(people, "admin", "guess", "10.0.0.5", at) == sessions.NOT_RIGHT


def test_a_sign_in_clears_the_accounts_count_but_not_the_addresss(people: Session) -> None:
    for second in range(3):
        _try(people, "lead", "guess", "10.0.0.9", T0 + dt.timedelta(seconds=second))
    assert _try(people, "lead", PASSWORD, "10.0.0.9", T0 + dt.timedelta(seconds=5)) == "ok"
    assert people.exec(select(User).where(User.username == "lead")).one().failed_attempts == 0
    assert not people.exec(select(SignInFailure).where(SignInFailure.counted)).all()
    # Two more failures make five from this address in fifteen minutes.
    for second in (6, 7):
        _try(people, "admin", "guess", "10.0.0.9", T0 + dt.timedelta(seconds=second))
    assert sessions.address_wait(people, "10.0.0.9", SETTINGS, T0 + dt.timedelta(seconds=8)) == 29
