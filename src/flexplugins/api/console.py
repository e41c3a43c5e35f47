"""The web console under /console: server-rendered pages over the same service layer as the API.

Sessions, their cookies and the CSRF tokens are api/sessions.py's. Every form carries a CSRF
token: the session's for signed-in forms, a double-submit cookie's for the sign-in form. Every
action goes through service/*.py, so the rules and the audit trail apply exactly as they do to
the API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..domain.errors import ApiError, invalid
from ..domain.model import Page, Principal
from ..service import configurations, console, plugin_versions, plugins, releases, runtime
from ..storage.db import Database
from ..storage.paging import Cursor
from .sessions import LOGIN_COOKIE, Session, check_csrf, current, end, login_token, set_login_token, start
from .throttle import account_key, client_address
from .wire import MORE_INFO, read_form

METADATA = "flexplugins-console"
# Items on one page of a list (plugins, versions, configurations, releases); read at each request.
PAGE_SIZE = 50
# Audit events under the release timeline (its first page only).
RECENT_EVENTS = 50
# Keys are BIGINT: a cursor beyond this is no position in any list.
_MAX_KEY = 2**63 - 1

templates = Environment(
    loader=PackageLoader("flexplugins", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = lambda value: "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


# --- Rendering ------------------------------------------------------------------------------


def _render(
    request: Request,
    name: str,
    session: Session | None,
    status: int = 200,
    retry_after: int | None = None,
    **context: Any,
) -> HTMLResponse:
    html = templates.get_template(name).render(
        request=request,
        session=session,
        csrf=session.csrf if session else context.pop("csrf", ""),
        notice=request.query_params.get("notice"),
        **context,
    )
    response = HTMLResponse(html, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _error_json(error: ApiError) -> dict[str, Any]:
    return {
        "code": error.code,
        "message": error.message,
        "more_info": f"{MORE_INFO}{error.code}",
        "status": error.status,
    }


def _to(path: str, notice: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"/console{path}" + (f"?{urlencode({'notice': notice})}" if notice else ""), 303)


async def _signed_in(request: Request) -> Session | Response:
    session = await current(request)
    if session is None:
        return _to("/login?" + urlencode({"next": request.url.path}))
    return session


# --- Paging -------------------------------------------------------------------------------
# A list page is found by a key cursor in the query string, `?after=KEY` (older than KEY) or
# `?before=KEY` (newer than KEY), over the service layer's keyset pagination. The cursor is only a
# position: every list query is filtered by the session's account, so a cursor cannot show
# another account's rows.


def _cursor(request: Request) -> Cursor | None:
    """The page position in the query string, or None for the newest page; ApiError (400) when bad."""
    after, before = request.query_params.getlist("after"), request.query_params.getlist("before")
    if not after and not before:
        return None
    if len(after) + len(before) != 1:
        raise invalid("A list page takes one position: either after or before, once")
    direction: Literal["after", "before"] = "after" if after else "before"
    raw = (after or before)[0]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > _MAX_KEY:
        raise invalid(f"The page position {direction} must be a whole number; follow the Newer/Older links")
    return Cursor(direction, int(raw))


@dataclass(frozen=True, slots=True)
class Pager:
    """The links around one page of a list; None where there is nothing to go to."""

    newest: str | None
    newer: str | None
    older: str | None


def _pager(base: str, page: Page[Any], cursor: Cursor | None) -> Pager:
    newer = older = None
    if page.has_previous and page.first_key is not None:
        newer = f"{base}?{urlencode({'before': page.first_key})}"
    if page.has_next and page.last_key is not None and page.items:
        older = f"{base}?{urlencode({'after': page.last_key})}"
    # Back to the first page from a page that is not the newest, or from an empty one (a stale
    # or made-up position).
    newest = base if cursor is not None and (page.has_previous or not page.items) else None
    return Pager(newest, newer, older)


def _bad_cursor(request: Request, session: Session, error: ApiError) -> HTMLResponse:
    return _render(request, "console/error.html", session, error.status, error=_error_json(error))


# --- Sign-in --------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    session = await current(request)
    return _to("/releases" if session else "/login")


async def login_page(request: Request) -> Response:
    token = login_token(request)
    response = _render(request, "console/login.html", None, csrf=token, next=request.query_params.get("next"))
    set_login_token(response, request, token)
    return response


async def login(request: Request) -> Response:
    """Sign in; failures count against the address and the SID (api/throttle.py), as on the API."""
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    throttle = request.app.state.auth.throttle
    address = client_address(request)
    sid = ""
    try:
        form = await read_form(request)
        sid, secret = form.get("sid") or "", form.get("secret") or ""
        check_csrf(expected, form.get("csrf"))
        throttle.check(address)
        try:
            who = await run_in_threadpool(console.sign_in, request.app.state.db, sid, secret)
        except ApiError as refused:
            if refused.status == 401:
                throttle.failed(address, account_key(sid.strip()))
            raise
    except ApiError as error:
        fresh = secrets.token_urlsafe(24)
        response = _render(
            request,
            "console/login.html",
            None,
            error.status,
            error.retry_after,
            csrf=fresh,
            error=_error_json(error),
            sid=sid,
        )
        set_login_token(response, request, fresh)
        return response
    target = form.get("next") or ""
    if not target.startswith("/console/") or target.startswith("//"):
        target = "/console/releases"
    signed_in = RedirectResponse(target, 303)
    await start(request, signed_in, who)
    return signed_in


async def logout(request: Request) -> Response:
    session = await current(request)
    if session is not None:
        form = await read_form(request)
        try:
            check_csrf(session.csrf, form.get("csrf"))
        except ApiError as error:
            return _render(request, "console/error.html", session, error.status, error=_error_json(error))
    response = _to("/login", "Signed out")
    await end(request, response, session)
    return response


# --- Pages ----------------------------------------------------------------------------------


async def plugins_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    try:
        cursor = _cursor(request)
    except ApiError as error:
        return _bad_cursor(request, session, error)
    page = await run_in_threadpool(console.plugins_page, request.app.state.db, session.who, PAGE_SIZE, cursor)
    return _render(
        request,
        "console/plugins.html",
        session,
        rows=page.items,
        pager=_pager("/console/plugins", page, cursor),
    )


async def plugin_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    db = request.app.state.db
    try:
        cursor = _cursor(request)
        view = await run_in_threadpool(
            console.plugin_page, db, session.who, request.path_params["sid"], PAGE_SIZE, cursor
        )
    except ApiError as error:
        return _render(request, "console/error.html", session, error.status, error=_error_json(error))
    return _render(
        request,
        "console/plugin.html",
        session,
        plugin=view.plugin,
        live_version=view.live_version,
        rows=view.versions.items,
        pager=_pager(f"/console/plugins/{view.plugin.sid}", view.versions, cursor),
    )


async def configurations_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    try:
        cursor = _cursor(request)
    except ApiError as error:
        return _bad_cursor(request, session, error)
    db = request.app.state.db
    page, active = await run_in_threadpool(console.configurations_page, db, session.who, PAGE_SIZE, cursor)
    return _render(
        request,
        "console/configurations.html",
        session,
        rows=page.items,
        active_configuration=active.configuration_sid if active else None,
        pager=_pager("/console/configurations", page, cursor),
    )


async def configuration_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    db = request.app.state.db
    try:
        row, items, active = await run_in_threadpool(
            console.configuration_page, db, session.who, request.path_params["sid"]
        )
    except ApiError as error:
        return _render(request, "console/error.html", session, error.status, error=_error_json(error))
    return _render(
        request,
        "console/configuration.html",
        session,
        row=row,
        configuration=row.configuration,
        plugins=items,
        active=active,
    )


async def releases_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    try:
        cursor = _cursor(request)
    except ApiError as error:
        return _bad_cursor(request, session, error)
    found = await run_in_threadpool(
        console.timeline, request.app.state.db, session.who, PAGE_SIZE, cursor, RECENT_EVENTS
    )
    return _render(
        request,
        "console/releases.html",
        session,
        entries=found.entries,
        active=found.active,
        active_elsewhere=found.active is not None
        and all(entry.release.sid != found.active.sid for entry in found.entries),
        events=found.events,
        first_page=cursor is None,
        pager=_pager("/console/releases", found.page, cursor),
    )


async def diff_page(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    db = request.app.state.db
    before, after = request.query_params.get("from", ""), request.query_params.get("to", "")
    result, error = None, None
    if before and after:
        try:
            result = await run_in_threadpool(runtime.diff, db, session.who, before, after)
        except ApiError as refused:
            error = _error_json(refused)
    return _render(
        request,
        "console/diff.html",
        session,
        400 if error else 200,
        diff=result,
        before=before,
        after=after,
        error=error,
    )


# --- Actions --------------------------------------------------------------------------------

# action: (title, what the button says, where to go afterwards)
ACTIONS = {
    "release": ("Release configuration", "Release", "/releases"),
    "rollback": ("Roll back to release", "Roll back", "/releases"),
    "archive-configuration": ("Archive configuration", "Archive", "/configurations"),
    "archive-plugin": ("Archive plugin", "Archive", "/plugins"),
    "archive-version": ("Archive plugin version", "Archive", "/plugins"),
}


def _perform(db: Database, who: Principal, action: str, sid: str, plugin: str) -> str:
    """Run the action through the service layer; returns the notice to show."""
    if action == "release":
        made = releases.create(db, who, sid, METADATA)
        return f"Released configuration {made.configuration_sid} as {made.sid}"
    if action == "rollback":
        target = releases.fetch(db, who, sid)
        made = releases.create(db, who, target.configuration_sid, METADATA)
        return f"Rolled back to {target.sid}: configuration {made.configuration_sid} is live as {made.sid}"
    if action == "archive-configuration":
        return f"Archived configuration {configurations.archive(db, who, sid, METADATA).sid}"
    if action == "archive-plugin":
        return f"Archived plugin {plugins.archive(db, who, sid, METADATA).unique_name}"
    archived = plugin_versions.archive(db, who, plugin, sid, METADATA)
    return f"Archived plugin version {archived.version} ({archived.sid})"


async def action_page(request: Request) -> Response:
    """Every action asks first: this page explains it and holds the form that performs it."""
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    action = request.path_params["action"]
    if action not in ACTIONS:
        return _render(
            request, "console/error.html", session, 404, error=_error_json(invalid(f"No action {action!r}"))
        )
    return _render(
        request,
        "console/confirm.html",
        session,
        action=action,
        spec=ACTIONS[action],
        sid=request.path_params["sid"],
        plugin=request.query_params.get("plugin", ""),
    )


async def perform_action(request: Request) -> Response:
    session = await _signed_in(request)
    if isinstance(session, Response):
        return session
    action, sid = request.path_params["action"], request.path_params["sid"]
    plugin = ""
    try:
        form = await read_form(request)
        plugin = form.get("plugin") or ""
        check_csrf(session.csrf, form.get("csrf"))
        if action not in ACTIONS:
            raise invalid(f"No action {action!r}")
        notice = await run_in_threadpool(_perform, request.app.state.db, session.who, action, sid, plugin)
    except ApiError as error:
        return _render(
            request,
            "console/confirm.html",
            session,
            error.status,
            action=action,
            spec=ACTIONS.get(action, (action, action, "/releases")),
            sid=sid,
            plugin=plugin,
            error=_error_json(error),
        )
    target = ACTIONS[action][2]
    if action == "archive-version" and plugin:
        target = f"/plugins/{plugin}"
    return _to(target, notice)


routes = [
    Route("/", index, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/plugins", plugins_page, methods=["GET"]),
    Route("/plugins/{sid}", plugin_page, methods=["GET"]),
    Route("/configurations", configurations_page, methods=["GET"]),
    Route("/configurations/{sid}", configuration_page, methods=["GET"]),
    Route("/releases", releases_page, methods=["GET"]),
    Route("/diff", diff_page, methods=["GET"]),
    Route("/actions/{action}/{sid}", action_page, methods=["GET"]),
    Route("/actions/{action}/{sid}", perform_action, methods=["POST"]),
    Mount("/static", StaticFiles(packages=[("flexplugins", "static")]), name="console-static"),
]

mount = Mount("/console", routes=routes)
