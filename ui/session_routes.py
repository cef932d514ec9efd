"""The one HTTP route the app adds to Streamlit's server: /auth/session,
where the browser trades a sign-in ticket for the session cookie, and clears
it at sign-out.

Streamlit gives a script no way to set a cookie from the server, and a
cookie written by JavaScript cannot be HttpOnly. So the sign-in run hands
the page a single-use ticket, the page posts it here, and this response sets
the cookie: HttpOnly (no script can read it), SameSite=Strict (never sent
from another site), Secure when the request came over HTTPS, and no older
than the session's absolute lifetime.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnership import accounts, sessions
from partnership.settings import get_settings
from ui import data
from ui.keys import session_cookie_key

PATH = "/auth/session"


def _same_origin(request: Request) -> bool:
    """Refuse posts from pages of another site (the ticket is secret anyway;
    this keeps the route from being a target at all)."""
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host", "")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


async def session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response("cross-site request refused", status_code=403)
    if request.method == "DELETE":
        # Database work off the event loop, which serves every session's WebSocket.
        return await run_in_threadpool(_clear, request)
    form = await request.form()
    token = await run_in_threadpool(_trade, str(form.get("ticket") or ""))
    if token is None:
        return Response("unknown or spent ticket", status_code=400)
    reply = Response(status_code=204)
    reply.set_cookie(
        sessions.COOKIE_NAME,
        sessions.cookie_value(token, session_cookie_key()),
        max_age=int(get_settings().session_max_hours * 3600),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return reply


def _trade(ticket: str) -> str | None:
    with Session(data.engine()) as session:
        token = sessions.trade_ticket(session, ticket, sessions.now())
        session.commit()
        return token


def _clear(request: Request) -> Response:
    """Sign-out: the session named by the cookie ends (the script has ended
    the one it knows already), and the browser forgets the cookie."""
    token = sessions.token_from_cookie(request.cookies.get(sessions.COOKIE_NAME), session_cookie_key())
    if token:
        with Session(data.engine()) as session:
            found = sessions.current(session, get_settings(), sessions.now(), token=token)
            if found.viewer is not None and found.session_id is not None:
                sessions.end_session(session, found.session_id, "signed_out", found.viewer.username)
                accounts.audit(session, found.viewer.username, "sign_out", "")
                session.commit()
    reply = Response(status_code=204)
    reply.delete_cookie(sessions.COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite="strict")
    return reply


ROUTES = [Route(PATH, session_cookie, methods=["POST", "DELETE"])]
