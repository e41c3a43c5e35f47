"""The console's sessions on the wire: signed cookies, the session of each request, CSRF tokens."""

# The session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, path /console) holds the
# session's random id and its CSRF token, signed with HMAC-SHA256 under a key derived from the
# server key and the database (service/server_key.py), so a copy of the database cannot forge one.
# Every request looks the id up in the database (service/console.py: one primary-key read), so a
# session ended on one process (sign-out, token rotation, key revocation) ends on all of them.

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import invalid
from ..domain.model import Principal
from ..service import console

COOKIE = "flexplugins_console"
LOGIN_COOKIE = "flexplugins_console_login"
SESSION_SECONDS = int(console.SESSION_LIFETIME.total_seconds())
LOGIN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Session:
    who: Principal
    csrf: str
    session_id: str


def _key(request: Request) -> bytes:
    key: bytes = request.app.state.console_key  # derived at start-up (api/app.py)
    return key


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(key: bytes, payload: bytes) -> str:
    return f"{_encode(payload)}.{_encode(hmac.new(key, payload, hashlib.sha256).digest())}"


def unsign(key: bytes, value: str) -> bytes | None:
    body, _, mac = value.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        return None
    expected = _encode(hmac.new(key, payload, hashlib.sha256).digest())
    return payload if hmac.compare_digest(expected, mac) else None


def _read_cookie(request: Request) -> tuple[str, str] | None:
    """(session id, CSRF token) from a cookie this server signed, else None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    payload = unsign(_key(request), raw)
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        return str(data["s"]), str(data["x"])
    except (ValueError, KeyError, TypeError):
        return None


async def current(request: Request) -> Session | None:
    """The session this request belongs to, or None (no cookie, a forged one, or an ended session)."""
    found = _read_cookie(request)
    if found is None:
        return None
    session_id, csrf = found
    who = await run_in_threadpool(console.session, request.app.state.db, session_id)
    return None if who is None else Session(who, csrf, session_id)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def start(request: Request, response: Response, who: Principal) -> None:
    """Open a session for this principal and give the browser its cookie."""
    opened = await run_in_threadpool(console.open_session, request.app.state.db, who)
    payload = orjson.dumps({"s": opened.session_id, "x": secrets.token_urlsafe(24)})
    set_cookie(response, request, COOKIE, sign(_key(request), payload), SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/console")


async def end(request: Request, response: Response, session: Session | None) -> None:
    """End the session everywhere (its row is deleted) and drop the browser's cookie."""
    if session is not None:
        await run_in_threadpool(console.close_session, request.app.state.db, session.session_id)
    response.delete_cookie(COOKIE, path="/console")


def login_token(request: Request) -> str:
    """The sign-in form's CSRF token: the double-submit cookie's, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def set_login_token(response: Response, request: Request, token: str) -> None:
    set_cookie(response, request, LOGIN_COOKIE, token, LOGIN_SECONDS)


def check_csrf(expected: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(expected, sent):
        raise invalid("The form has expired or did not come from this console; reload the page and try again")
