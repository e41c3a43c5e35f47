"""Serverless assets and asset versions: /v1/Services/{ServiceSid}/Assets[/{Sid}[/Versions[/{Sid}]]].

An asset version is uploaded as multipart/form-data (`Path`, `Visibility`, `Content`) on
serverless-upload.twilio.com, which the host routing maps here like serverless.twilio.com.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.serverless import Asset, AssetVersion
from ...service.serverless import assets as service
from ..auth import caller
from ..wire import date, flex_metadata, json_response, list_body, page_request, read_form, read_multipart
from .common import PATH, base, page_scope

# Room for the multipart framing and the small fields around the largest accepted content.
MULTIPART_OVERHEAD = 64 * 1024


def asset_json(found: Asset, root: str) -> dict[str, Any]:
    url = f"{root}/v1/Services/{found.service_sid}/Assets/{found.sid}"
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "service_sid": found.service_sid,
        "friendly_name": found.friendly_name,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "url": url,
        "links": {"asset_versions": f"{url}/Versions"},
    }


def asset_version_json(found: AssetVersion, root: str) -> dict[str, Any]:
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "service_sid": found.service_sid,
        "asset_sid": found.asset_sid,
        "path": found.path,
        "visibility": found.visibility,
        "date_created": date(found.date_created),
        "url": f"{root}/v1/Services/{found.service_sid}/Assets/{found.asset_sid}/Versions/{found.sid}",
    }


async def create_asset(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    created = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        request.path_params["service"],
        form.get("FriendlyName"),
        flex_metadata(request),
    )
    return json_response(asset_json(created, base(request)), 201)


async def fetch_asset(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch(request.app.state.db, who, params["service"], params["sid"])
    return json_response(asset_json(found, base(request)))


async def list_assets(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "assets")
    paging = page_request(request, scope)
    key = request.path_params["service"]
    service_sid, page = service.list_page(request.app.state.db, who, key, paging.size, paging.cursor)
    root = base(request)
    items = [asset_json(found, root) for found in page.items]
    path = f"/v1/Services/{service_sid}/Assets"
    return json_response(list_body(request, path, "assets", scope, paging, page, items, root))


async def create_asset_version(request: Request) -> Response:
    who = caller(request)
    limit: int = request.app.state.settings.max_bundle_bytes
    form, files = await read_multipart(request, limit + MULTIPART_OVERHEAD)
    content = files.get("Content")
    params = request.path_params
    created = await run_in_threadpool(
        service.create_version,
        request.app.state.db,
        who,
        params["service"],
        params["asset"],
        form.get("Path"),
        form.get("Visibility"),
        None if content is None else content.data,
        None if content is None else content.content_type,
        limit,
        flex_metadata(request),
    )
    return json_response(asset_version_json(created, base(request)), 201)


async def fetch_asset_version(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch_version(
        request.app.state.db, who, params["service"], params["asset"], params["sid"]
    )
    return json_response(asset_version_json(found, base(request)))


async def list_asset_versions(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "asset-versions")
    paging = page_request(request, scope)
    params = request.path_params
    service_sid, asset_sid, page = service.list_versions(
        request.app.state.db, who, params["service"], params["asset"], paging.size, paging.cursor
    )
    root = base(request)
    items = [asset_version_json(found, root) for found in page.items]
    path = f"/v1/Services/{service_sid}/Assets/{asset_sid}/Versions"
    return json_response(list_body(request, path, "asset_versions", scope, paging, page, items, root))


routes = [
    Route(PATH + "/{service}/Assets", list_assets, methods=["GET"]),
    Route(PATH + "/{service}/Assets", create_asset, methods=["POST"]),
    Route(PATH + "/{service}/Assets/{sid}", fetch_asset, methods=["GET"]),
    Route(PATH + "/{service}/Assets/{asset}/Versions", list_asset_versions, methods=["GET"]),
    Route(PATH + "/{service}/Assets/{asset}/Versions", create_asset_version, methods=["POST"]),
    Route(PATH + "/{service}/Assets/{asset}/Versions/{sid}", fetch_asset_version, methods=["GET"]),
]
