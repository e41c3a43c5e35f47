"""Plugins: /v1/PluginService/Plugins and /v1/PluginService/Plugins/{Sid}[/Archive]."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.model import Plugin, Principal
from ..service import plugins as service
from .auth import caller
from .cache import cached_read
from .wire import base_url, build_list, date, flex_metadata, json_response, list_body, page_request, read_form

PATH = "/v1/PluginService/Plugins"


def plugin_json(plugin: Plugin, base: str) -> dict[str, Any]:
    url = f"{base}{PATH}/{plugin.sid}"
    return {
        "sid": plugin.sid,
        "account_sid": plugin.account_sid,
        "unique_name": plugin.unique_name,
        "friendly_name": plugin.friendly_name,
        "description": plugin.description,
        "archived": plugin.archived,
        "date_created": date(plugin.date_created),
        "date_updated": date(plugin.date_updated),
        "url": url,
        "links": {"plugin_versions": f"{url}/Versions"},
    }


def plugin_archive_json(plugin: Plugin, base: str) -> dict[str, Any]:
    body = plugin_json(plugin, base)
    del body["links"]
    body["url"] = f"{body['url']}/Archive"
    return body


async def create_plugin(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    plugin = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        form.get("UniqueName"),
        form.get("FriendlyName"),
        form.get("Description"),
        flex_metadata(request),
    )
    return json_response(plugin_json(plugin, base_url(request)), 201)


@cached_read
async def fetch_plugin(request: Request, who: Principal) -> Response:
    plugin = service.fetch(request.app.state.db, who, request.path_params["sid"])
    return json_response(plugin_json(plugin, base_url(request)))


@cached_read
async def list_plugins(request: Request, who: Principal) -> Response:
    paging = page_request(request, f"{who.account_sid}:plugins")

    def build() -> Response:
        page = service.list_page(request.app.state.db, who, paging.size, paging.cursor)
        base = base_url(request)
        items = [plugin_json(plugin, base) for plugin in page.items]
        return json_response(
            list_body(request, PATH, "plugins", f"{who.account_sid}:plugins", paging, page, items)
        )

    return await build_list(paging, build)


async def update_plugin(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    plugin = await run_in_threadpool(
        service.update,
        request.app.state.db,
        who,
        request.path_params["sid"],
        form.get("FriendlyName"),
        form.get("Description"),
        flex_metadata(request),
    )
    return json_response(plugin_json(plugin, base_url(request)))


async def archive_plugin(request: Request) -> Response:
    who = caller(request)
    await read_form(request)
    plugin = await run_in_threadpool(
        service.archive, request.app.state.db, who, request.path_params["sid"], flex_metadata(request)
    )
    return json_response(plugin_archive_json(plugin, base_url(request)))


routes = [
    Route(PATH, list_plugins, methods=["GET"]),
    Route(PATH, create_plugin, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_plugin, methods=["GET"]),
    Route(PATH + "/{sid}", update_plugin, methods=["POST"]),
    Route(PATH + "/{sid}/Archive", archive_plugin, methods=["POST"]),
]
