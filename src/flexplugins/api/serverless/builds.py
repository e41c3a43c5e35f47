"""Serverless builds: /v1/Services/{ServiceSid}/Builds[/{Sid}[/Status]]."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.serverless import Build
from ...service.serverless import builds as service
from ..auth import caller
from ..wire import date, flex_metadata, json_response, list_body, page_request, read_form
from .common import PATH, base, page_scope


def build_json(found: Build, root: str) -> dict[str, Any]:
    url = f"{root}/v1/Services/{found.service_sid}/Builds/{found.sid}"
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "service_sid": found.service_sid,
        "status": found.status,
        "asset_versions": [
            {
                "sid": version.sid,
                "account_sid": version.account_sid,
                "service_sid": version.service_sid,
                "asset_sid": version.asset_sid,
                "date_created": date(version.date_created),
                "path": version.path,
                "visibility": version.visibility,
            }
            for version in found.asset_versions
        ],
        "function_versions": [],
        "dependencies": found.dependencies,
        "runtime": found.runtime,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "url": url,
        "links": {"build_status": f"{url}/Status"},
    }


async def create_build(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    dependencies = (
        form.get_all("Dependencies"),
        form.get_all("Dependencies[name]"),
        form.get_all("Dependencies[version]"),
    )
    created = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        request.path_params["service"],
        form.get_all("AssetVersions"),
        form.get_all("FunctionVersions"),
        dependencies,
        form.get("Runtime"),
        flex_metadata(request),
    )
    return json_response(build_json(created, base(request)), 201)


async def fetch_build(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch(request.app.state.db, who, params["service"], params["sid"])
    return json_response(build_json(found, base(request)))


async def fetch_build_status(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch(request.app.state.db, who, params["service"], params["sid"])
    url = f"{base(request)}/v1/Services/{found.service_sid}/Builds/{found.sid}/Status"
    return json_response(
        {
            "sid": found.sid,
            "account_sid": found.account_sid,
            "service_sid": found.service_sid,
            "status": found.status,
            "url": url,
        }
    )


async def list_builds(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "builds")
    paging = page_request(request, scope)
    key = request.path_params["service"]
    service_sid, page = service.list_page(request.app.state.db, who, key, paging.size, paging.cursor)
    root = base(request)
    items = [build_json(found, root) for found in page.items]
    path = f"/v1/Services/{service_sid}/Builds"
    return json_response(list_body(request, path, "builds", scope, paging, page, items, root))


routes = [
    Route(PATH + "/{service}/Builds", list_builds, methods=["GET"]),
    Route(PATH + "/{service}/Builds", create_build, methods=["POST"]),
    Route(PATH + "/{service}/Builds/{sid}", fetch_build, methods=["GET"]),
    Route(PATH + "/{service}/Builds/{sid}/Status", fetch_build_status, methods=["GET"]),
]
