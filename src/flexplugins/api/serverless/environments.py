"""Serverless environments: /v1/Services/{ServiceSid}/Environments[/{Sid}]."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.serverless import Environment
from ...service.serverless import environments as service
from ..auth import caller
from ..wire import date, flex_metadata, json_response, list_body, page_request, read_form
from .common import PATH, base, page_scope


def environment_json(found: Environment, root: str) -> dict[str, Any]:
    url = f"{root}/v1/Services/{found.service_sid}/Environments/{found.sid}"
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "service_sid": found.service_sid,
        "build_sid": found.build_sid,
        "unique_name": found.unique_name,
        "domain_suffix": found.domain_suffix,
        "domain_name": found.domain_name,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "url": url,
        "links": {
            "variables": f"{url}/Variables",
            "deployments": f"{url}/Deployments",
            "logs": f"{url}/Logs",
        },
    }


async def create_environment(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    created = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        request.path_params["service"],
        form.get("UniqueName"),
        form.get("DomainSuffix"),
        flex_metadata(request),
    )
    return json_response(environment_json(created, base(request)), 201)


async def fetch_environment(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch(request.app.state.db, who, params["service"], params["sid"])
    return json_response(environment_json(found, base(request)))


async def list_environments(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "environments")
    paging = page_request(request, scope)
    key = request.path_params["service"]
    service_sid, page = service.list_page(request.app.state.db, who, key, paging.size, paging.cursor)
    root = base(request)
    items = [environment_json(found, root) for found in page.items]
    path = f"/v1/Services/{service_sid}/Environments"
    return json_response(list_body(request, path, "environments", scope, paging, page, items, root))


async def delete_environment(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    await run_in_threadpool(
        service.delete, request.app.state.db, who, params["service"], params["sid"], flex_metadata(request)
    )
    return Response(status_code=204)


routes = [
    Route(PATH + "/{service}/Environments", list_environments, methods=["GET"]),
    Route(PATH + "/{service}/Environments", create_environment, methods=["POST"]),
    Route(PATH + "/{service}/Environments/{sid}", fetch_environment, methods=["GET"]),
    Route(PATH + "/{service}/Environments/{sid}", delete_environment, methods=["DELETE"]),
]
