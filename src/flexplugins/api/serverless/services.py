"""Serverless services: /v1/Services and /v1/Services/{Sid}."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.serverless import Service
from ...service.serverless import services as service
from ..auth import caller
from ..wire import date, flex_metadata, json_response, list_body, page_request, read_form
from .common import PATH, base, page_scope


def service_json(found: Service, root: str) -> dict[str, Any]:
    url = f"{root}/v1/Services/{found.sid}"
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "friendly_name": found.friendly_name,
        "unique_name": found.unique_name,
        "include_credentials": found.include_credentials,
        "ui_editable": found.ui_editable,
        "domain_base": found.domain_base,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "url": url,
        "links": {
            "environments": f"{url}/Environments",
            "functions": f"{url}/Functions",
            "assets": f"{url}/Assets",
            "builds": f"{url}/Builds",
        },
    }


async def create_service(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    created = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        form.get("UniqueName"),
        form.get("FriendlyName"),
        form.get("IncludeCredentials"),
        form.get("UiEditable"),
        flex_metadata(request),
    )
    return json_response(service_json(created, base(request)), 201)


async def fetch_service(request: Request) -> Response:
    who = caller(request)
    found = service.fetch(request.app.state.db, who, request.path_params["sid"])
    return json_response(service_json(found, base(request)))


async def list_services(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "services")
    paging = page_request(request, scope)
    page = service.list_page(request.app.state.db, who, paging.size, paging.cursor)
    root = base(request)
    items = [service_json(found, root) for found in page.items]
    return json_response(list_body(request, "/v1/Services", "services", scope, paging, page, items, root))


async def update_service(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    updated = await run_in_threadpool(
        service.update,
        request.app.state.db,
        who,
        request.path_params["sid"],
        form.get("FriendlyName"),
        form.get("IncludeCredentials"),
        form.get("UiEditable"),
        flex_metadata(request),
    )
    return json_response(service_json(updated, base(request)))


routes = [
    Route(PATH, list_services, methods=["GET"]),
    Route(PATH, create_service, methods=["POST"]),
    Route(PATH + "/{sid}", fetch_service, methods=["GET"]),
    Route(PATH + "/{sid}", update_service, methods=["POST"]),
]
