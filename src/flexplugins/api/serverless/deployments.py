"""Serverless deployments: /v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments[/{Sid}]."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.serverless import Deployment
from ...service.serverless import deployments as service
from ..auth import caller
from ..wire import date, flex_metadata, json_response, list_body, page_request, read_form
from .common import PATH, base, page_scope


def deployment_json(found: Deployment, root: str) -> dict[str, Any]:
    url = (
        f"{root}/v1/Services/{found.service_sid}/Environments/{found.environment_sid}/Deployments/{found.sid}"
    )
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "service_sid": found.service_sid,
        "environment_sid": found.environment_sid,
        "build_sid": found.build_sid,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "url": url,
    }


async def create_deployment(request: Request) -> Response:
    who = caller(request)
    form = await read_form(request)
    params = request.path_params
    created = await run_in_threadpool(
        service.create,
        request.app.state.db,
        who,
        params["service"],
        params["environment"],
        form.get("BuildSid"),
        flex_metadata(request),
    )
    return json_response(deployment_json(created, base(request)), 201)


async def fetch_deployment(request: Request) -> Response:
    who = caller(request)
    params = request.path_params
    found = service.fetch(request.app.state.db, who, params["service"], params["environment"], params["sid"])
    return json_response(deployment_json(found, base(request)))


async def list_deployments(request: Request) -> Response:
    who = caller(request)
    scope = page_scope(who.account_sid, "deployments")
    paging = page_request(request, scope)
    params = request.path_params
    service_sid, environment_sid, page = service.list_page(
        request.app.state.db, who, params["service"], params["environment"], paging.size, paging.cursor
    )
    root = base(request)
    items = [deployment_json(found, root) for found in page.items]
    path = f"/v1/Services/{service_sid}/Environments/{environment_sid}/Deployments"
    return json_response(list_body(request, path, "deployments", scope, paging, page, items, root))


_PATH = PATH + "/{service}/Environments/{environment}/Deployments"
routes = [
    Route(_PATH, list_deployments, methods=["GET"]),
    Route(_PATH, create_deployment, methods=["POST"]),
    Route(_PATH + "/{sid}", fetch_deployment, methods=["GET"]),
]
