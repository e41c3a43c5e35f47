"""Releases: /v1/PluginService/Releases[/{Sid}], where Sid may be `Active`."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.model import Principal, Release
from ..service import releases as service
from .auth import caller
from .cache import cached_read
from .wire import base_url, date, flex_metadata, json_response, list_body, page_request, read_form

PATH = "/v1/PluginService/Releases"


def release_json(release: Release, base: str) -> dict[str, Any]:
    return {
        "sid": release.sid,
        "account_sid": release.account_sid,
        "configuration_sid": release.configuration_sid,
        "date_created": date(release.date_created),
        "url": f"{base}{PATH}/{release.sid}",
    }


async def create_release(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    release = await run_in_threadpool(
        service.create, request.app.state.db, who, form.get("ConfigurationId"), flex_metadata(request)
    )
    return json_response(release_json(release, base_url(request)), 201)


@cached_read
async def fetch_release(request: Request, who: Principal) -> Response:
    release = service.fetch(request.app.state.db, who, request.path_params["sid"])
    return json_response(release_json(release, base_url(request)))


@cached_read
async def list_releases(request: Request, who: Principal) -> Response:
    scope = f"{who.account_sid}:releases"
    paging = page_request(request, scope)
    page = service.list_page(request.app.state.db, who, paging.size, paging.cursor)
    base = base_url(request)
    items = [release_json(release, base) for release in page.items]
    return json_response(list_body(request, PATH, "releases", scope, paging, page, items))


routes = [
    Route(PATH, list_releases, methods=["GET"]),
    Route(PATH, create_release, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_release, methods=["GET"]),
]
