"""Releases: /v1/PluginService/Releases[/{Sid}], where Sid may be `Active`."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import sids
from ..domain.errors import invalid
from ..domain.model import Principal, Release
from ..domain.release_changes import ActivePrecondition
from ..service import releases as service
from .auth import caller
from .cache import cached_read
from .wire import base_url, build_list, date, flex_metadata, json_response, list_body, page_request, read_form

PATH = "/v1/PluginService/Releases"


def release_json(release: Release, base: str) -> dict[str, Any]:
    return {
        "sid": release.sid,
        "account_sid": release.account_sid,
        "configuration_sid": release.configuration_sid,
        "date_created": date(release.date_created),
        "url": f"{base}{PATH}/{release.sid}",
    }


def precondition(request: Request) -> ActivePrecondition | None:
    """`If-Match: "FK..."` (that release must still be the active one) or `If-Match: "none"` (nothing
    released yet); None without the header. The vendor's clients never send it."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if value == "none":
        return ActivePrecondition(None)
    if sids.is_sid(value, sids.RELEASE):
        return ActivePrecondition(sids.normalise(value))
    raise invalid(f'If-Match must be the active release\'s ETag, "FK...", or "none" (got {raw[:80]!r})')


def etag(release: Release) -> str:
    return f'"{release.sid}"'


async def create_release(request: Request) -> Response:
    who = caller(request)
    expected = precondition(request)
    form = await read_form(request)
    release = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        form.get("ConfigurationId"),
        flex_metadata(request),
        expected,
    )
    response = json_response(release_json(release, base_url(request)), 201)
    response.headers["ETag"] = etag(release)
    return response


@cached_read
async def fetch_release(request: Request, who: Principal) -> Response:
    key = request.path_params["sid"]
    release = service.fetch(request.app.state.db, who, key)
    response = json_response(release_json(release, base_url(request)))
    if key == service.ACTIVE:
        # The value to send back in If-Match to release only if this is still the active release.
        response.headers["ETag"] = etag(release)
    return response


@cached_read
async def list_releases(request: Request, who: Principal) -> Response:
    scope = f"{who.account_sid}:releases"
    paging = page_request(request, scope)

    def build() -> Response:
        page = service.list_page(request.app.state.db, who, paging.size, paging.cursor)
        base = base_url(request)
        items = [release_json(release, base) for release in page.items]
        return json_response(list_body(request, PATH, "releases", scope, paging, page, items))

    return await build_list(paging, build)


routes = [
    Route(PATH, list_releases, methods=["GET"]),
    Route(PATH, create_release, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_release, methods=["GET"]),
]
