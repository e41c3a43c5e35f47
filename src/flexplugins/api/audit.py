"""Our extension: the audit trail of an account at /flexplugins/v1/AuditEvents."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import sids
from ..domain.errors import invalid
from ..domain.model import AuditEvent
from ..service import audit as service
from .auth import caller
from .wire import build_list, date, json_response, list_body, page_request

PATH = "/flexplugins/v1/AuditEvents"


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "account_sid": event.account_sid,
        "credential_sid": event.credential_sid,
        "action": event.action,
        "resource_sid": event.resource_sid,
        "flex_metadata": event.flex_metadata,
        "date_created": date(event.date_created),
    }


async def list_events(request: Request) -> Response:
    who = caller(request)
    resource = request.query_params.get("ResourceSid")
    if resource is not None and not sids.looks_like_any_sid(resource):
        raise invalid(f"ResourceSid must be a SID (got {resource!r})")
    scope = f"{who.account_sid}:audit:{resource or ''}"
    paging = page_request(request, scope)

    def build() -> Response:
        page = service.list_page(request.app.state.db, who, paging.size, paging.cursor, resource)
        items = [event_json(event) for event in page.items]
        return json_response(list_body(request, PATH, "audit_events", scope, paging, page, items))

    return await build_list(paging, build)


routes = [Route(PATH, list_events, methods=["GET"])]
