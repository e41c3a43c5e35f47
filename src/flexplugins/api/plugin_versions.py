"""Plugin versions: /v1/PluginService/Plugins/{PluginSid}/Versions[/{Sid}[/Archive]]."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.model import PluginVersion, Principal
from ..service import plugin_versions as service
from .auth import caller
from .cache import cached_read
from .wire import base_url, build_list, date, flex_metadata, json_response, list_body, page_request, read_form

PATH = "/v1/PluginService/Plugins/{plugin}/Versions"


def version_json(version: PluginVersion, base: str) -> dict[str, Any]:
    return {
        "sid": version.sid,
        "plugin_sid": version.plugin_sid,
        "account_sid": version.account_sid,
        "version": version.version,
        "plugin_url": version.plugin_url,
        "changelog": version.changelog,
        "private": version.private,
        "archived": version.archived,
        "validated": version.validated,
        "date_created": date(version.date_created),
        "url": f"{base}/v1/PluginService/Plugins/{version.plugin_sid}/Versions/{version.sid}",
    }


def version_archive_json(version: PluginVersion, base: str) -> dict[str, Any]:
    body = version_json(version, base)
    del body["validated"]
    body["url"] = f"{body['url']}/Archive"
    return body


async def create_version(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    version = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        request.path_params["plugin"],
        form.get("Version"),
        form.get("PluginUrl"),
        form.get("Changelog"),
        form.get("Private"),
        form.get("CliVersion"),
        form.get("ValidateStatus"),
        flex_metadata(request),
    )
    return json_response(version_json(version, base_url(request)), 201)


@cached_read
async def fetch_version(request: Request, who: Principal) -> Response:
    version = service.fetch(
        request.app.state.db, who, request.path_params["plugin"], request.path_params["sid"]
    )
    return json_response(version_json(version, base_url(request)))


@cached_read
async def list_versions(request: Request, who: Principal) -> Response:
    plugin_key = request.path_params["plugin"]
    scope = f"{who.account_sid}:plugin_versions:{plugin_key}"
    paging = page_request(request, scope)

    def build() -> Response:
        _, page = service.list_page(request.app.state.db, who, plugin_key, paging.size, paging.cursor)
        base = base_url(request)
        items = [version_json(version, base) for version in page.items]
        path = f"/v1/PluginService/Plugins/{quote(plugin_key)}/Versions"
        return json_response(list_body(request, path, "plugin_versions", scope, paging, page, items))

    return await build_list(paging, build)


async def archive_version(request: Request) -> Response:
    who = caller(request)
    await read_form(request)
    version = await run_in_threadpool(
        service.archive,
        request.app.state.db,
        who,
        request.path_params["plugin"],
        request.path_params["sid"],
        flex_metadata(request),
    )
    return json_response(version_archive_json(version, base_url(request)))


routes = [
    Route(PATH, list_versions, methods=["GET"]),
    Route(PATH, create_version, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_version, methods=["GET"]),
    Route(PATH + "/{sid}/Archive", archive_version, methods=["POST"]),
]
