"""The cookie route, called as the ASGI server calls it: what the browser is
told to store when it trades a sign-in ticket, and what it is refused."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from models.db import get_engine
from partnership import sessions
from partnership.settings import get_settings
from tests.conftest import seed_small
from ui import session_routes


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed_small(sqlite_url, 50, 3)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DASHBOARD_COOKIE_KEY", "route-test-key-" + "y" * 30)
    return sqlite_url


def _ticket(url: str) -> str:
    with Session(get_engine(url)) as session:
        _, ticket = sessions.open_session(session, "lead", "10.0.0.1", sessions.now())
        session.commit()
    return ticket


def _call(method: str, body: dict[str, str] | None = None, **headers: str) -> Response:
    raw = urlencode(body or {}).encode()
    scope = {
        "type": "http",
        "method": method,
        "path": session_routes.PATH,
        "scheme": "http",
        "query_string": b"",
        "server": ("127.0.0.1", 8501),
        "headers": [
            (b"host", b"127.0.0.1:8501"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            *[(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
        ],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": raw, "more_body": False}

    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, session_routes.session_cookie(Request(scope, receive))).result()


def _set_cookie(reply: Response) -> str:
    return reply.headers.get("set-cookie", "")


def test_a_ticket_buys_an_httponly_strict_cookie_once(db: str) -> None:
    ticket = _ticket(db)
    reply = _call("POST", {"ticket": ticket}, origin="http://127.0.0.1:8501")
    assert reply.status_code == 204
    cookie = _set_cookie(reply)
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path", "samesite"} <= attributes
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    assert "Max-Age=43200" in cookie and "SameSite=strict" in cookie
    again = _call("POST", {"ticket": ticket}, origin="http://127.0.0.1:8501")
    assert again.status_code == 400 and not _set_cookie(again)


def test_behind_https_the_cookie_is_secure(db: str) -> None:
    reply = _call("POST", {"ticket": _ticket(db)}, x_forwarded_proto="https")
    assert reply.status_code == 204
    assert "secure" in {part.strip().lower() for part in _set_cookie(reply).split(";")}


def test_a_post_from_another_site_is_refused(db: str) -> None:
    ticket = _ticket(db)
    reply = _call("POST", {"ticket": ticket}, origin="https://evil.example")
    assert reply.status_code == 403 and not _set_cookie(reply)
    # The ticket was not spent by the refused request.
    assert _call("POST", {"ticket": ticket}).status_code == 204


def test_sign_out_clears_the_cookie_and_ends_its_session(db: str) -> None:
    ticket = _ticket(db)
    cookie = _set_cookie(_call("POST", {"ticket": ticket})).split(";")[0]
    reply = _call("DELETE", cookie=cookie)
    assert reply.status_code == 204
    assert 'tsd_session=""' in _set_cookie(reply) and "Max-Age=0" in _set_cookie(reply)
    token = sessions.token_from_cookie(cookie.split("=", 1)[1], "route-test-key-" + "y" * 30)
    with Session(get_engine(db)) as session:
        found = sessions.current(session, get_settings(), sessions.now(), token=token)
    assert found.viewer is None and found.ended == "signed_out"
