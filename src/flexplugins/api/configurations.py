"""Configurations and their plugins: /v1/PluginService/Configurations and everything below it."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.model import Configuration, ConfiguredPlugin, Principal
from ..service import configurations as service
from .auth import caller
from .cache import cached_read
from .wire import base_url, build_list, date, flex_metadata, json_response, list_body, page_request, read_form

PATH = "/v1/PluginService/Configurations"


def configuration_json(configuration: Configuration, base: str) -> dict[str, Any]:
    url = f"{base}{PATH}/{configuration.sid}"
    return {
        "sid": configuration.sid,
        "account_sid": configuration.account_sid,
        "name": configuration.name,
        "description": configuration.description,
        "archived": configuration.archived,
        "date_created": date(configuration.date_created),
        "url": url,
        "links": {"plugins": f"{url}/Plugins"},
    }


def configuration_archive_json(configuration: Configuration, base: str) -> dict[str, Any]:
    body = configuration_json(configuration, base)
    del body["links"]
    body["url"] = f"{body['url']}/Archive"
    return body


def configured_plugin_json(item: ConfiguredPlugin, base: str) -> dict[str, Any]:
    return {
        "account_sid": item.account_sid,
        "configuration_sid": item.configuration_sid,
        "plugin_sid": item.plugin_sid,
        "plugin_version_sid": item.plugin_version_sid,
        "phase": item.phase,
        "plugin_url": item.plugin_url,
        "unique_name": item.unique_name,
        "friendly_name": item.friendly_name,
        "description": item.description,
        "plugin_archived": item.plugin_archived,
        "version": item.version,
        "changelog": item.changelog,
        "plugin_version_archived": item.plugin_version_archived,
        "private": item.private,
        "date_created": date(item.date_created),
        "url": f"{base}{PATH}/{item.configuration_sid}/Plugins/{item.plugin_sid}",
    }


async def create_configuration(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    configuration = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        form.get("Name"),
        form.get_all("Plugins"),
        form.get("Description"),
        flex_metadata(request),
    )
    return json_response(configuration_json(configuration, base_url(request)), 201)


@cached_read
async def fetch_configuration(request: Request, who: Principal) -> Response:
    configuration = service.fetch(request.app.state.db, who, request.path_params["sid"])
    return json_response(configuration_json(configuration, base_url(request)))


@cached_read
async def list_configurations(request: Request, who: Principal) -> Response:
    scope = f"{who.account_sid}:configurations"
    paging = page_request(request, scope)

    def build() -> Response:
        page = service.list_page(request.app.state.db, who, paging.size, paging.cursor)
        base = base_url(request)
        items = [configuration_json(configuration, base) for configuration in page.items]
        return json_response(list_body(request, PATH, "configurations", scope, paging, page, items))

    return await build_list(paging, build)


async def archive_configuration(request: Request) -> Response:
    who = caller(request)
    await read_form(request)
    configuration = await run_in_threadpool(
        service.archive, request.app.state.db, who, request.path_params["sid"], flex_metadata(request)
    )
    return json_response(configuration_archive_json(configuration, base_url(request)))


@cached_read
async def list_configured_plugins(request: Request, who: Principal) -> Response:
    key = request.path_params["sid"]
    scope = f"{who.account_sid}:configured_plugins:{key}"
    paging = page_request(request, scope)

    def build() -> Response:
        db = request.app.state.db
        configuration, page = service.list_configured(db, who, key, paging.size, paging.cursor)
        base = base_url(request)
        items = [configured_plugin_json(item, base) for item in page.items]
        path = f"{PATH}/{configuration.sid}/Plugins"
        return json_response(list_body(request, path, "plugins", scope, paging, page, items))

    return await build_list(paging, build)


@cached_read
async def fetch_configured_plugin(request: Request, who: Principal) -> Response:
    item = service.fetch_configured(
        request.app.state.db, who, request.path_params["sid"], request.path_params["plugin"]
    )
    return json_response(configured_plugin_json(item, base_url(request)))


routes = [
    Route(PATH, list_configurations, methods=["GET"]),
    Route(PATH, create_configuration, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_configuration, methods=["GET"]),
    Route(PATH + "/{sid}/Archive", archive_configuration, methods=["POST"]),
    Route(PATH + "/{sid}/Plugins", list_configured_plugins, methods=["GET"]),
    Route(PATH + "/{sid}/Plugins/{plugin}", fetch_configured_plugin, methods=["GET"]),
]
