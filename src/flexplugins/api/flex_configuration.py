"""The Flex Configuration subset: GET and POST /v1/Configuration (on flex-api.twilio.com)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import invalid
from ..domain.flex_configuration import FlexConfiguration
from ..service import flex_configuration as service
from .auth import caller
from .wire import base_url, date, flex_metadata, json_response, read_body, read_form

PATH = "/v1/Configuration"
# Form spellings of the fields the vendor's clients send as JSON.
_FORM_NAMES = {
    "account_sid": "account_sid",
    "AccountSid": "account_sid",
    "ui_version": "ui_version",
    "UiVersion": "ui_version",
    "serverless_service_sids": "serverless_service_sids",
    "ServerlessServiceSids": "serverless_service_sids",
}


def configuration_json(found: FlexConfiguration, base: str) -> dict[str, Any]:
    """Every field of the vendor's schema: what this server keeps, and the defaults of a Flex
    instance that has only plugins (no TaskRouter, CRM or channels of its own)."""
    return {
        "account_sid": found.account_sid,
        "date_created": date(found.date_created),
        "date_updated": date(found.date_updated),
        "attributes": {},
        "status": "ok",
        "taskrouter_workspace_sid": None,
        "taskrouter_target_workflow_sid": None,
        "taskrouter_target_taskqueue_sid": None,
        "taskrouter_taskqueues": [],
        "taskrouter_skills": [],
        "taskrouter_worker_channels": {},
        "taskrouter_worker_attributes": {},
        "taskrouter_offline_activity_sid": None,
        "runtime_domain": None,
        "messaging_service_instance_sid": None,
        "chat_service_instance_sid": None,
        "flex_service_instance_sid": None,
        "flex_instance_sid": None,
        "ui_language": "en",
        "ui_attributes": {},
        "ui_dependencies": {},
        "ui_version": found.ui_version,
        "service_version": None,
        "call_recording_enabled": False,
        "call_recording_webhook_url": None,
        "crm_enabled": False,
        "crm_type": None,
        "crm_callback_url": None,
        "crm_fallback_url": None,
        "crm_attributes": {},
        "public_attributes": {},
        "plugin_service_enabled": True,
        "plugin_service_attributes": {},
        "integrations": [],
        "outbound_call_flows": {},
        "serverless_service_sids": found.serverless_service_sids,
        "queue_stats_configuration": {},
        "notifications": {},
        "markdown": {},
        "url": f"{base}{PATH}",
        "flex_insights_hr": {},
        "flex_insights_drilldown": False,
        "flex_url": None,
        "channel_configs": [],
        "debugger_integration": {},
        "flex_ui_status_report": {},
        "agent_conv_end_methods": {},
        "citrix_voice_vdi": {},
        "offline_config": {},
    }


async def _values(request: Request) -> dict[str, Any]:
    """The fields of the body: JSON (what the vendor's CLI and SDKs send) or a form."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        form = await read_form(request)
        values: dict[str, Any] = {}
        for name, field in _FORM_NAMES.items():
            given = form.get_all(name)
            if given:
                values[field] = given if field == "serverless_service_sids" else given[0]
        return values
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise invalid("The request body must be a JSON object")
    return parsed


async def fetch_configuration(request: Request) -> Response:
    who = caller(request)
    found = service.fetch(request.app.state.db, who)
    return json_response(configuration_json(found, base_url(request)))


async def update_configuration(request: Request) -> Response:
    who = caller(request)
    values = await _values(request)
    updated = await run_in_threadpool(
        service.update, request.app.state.db, who, values, flex_metadata(request)
    )
    return json_response(configuration_json(updated, base_url(request)))


routes = [
    Route(PATH, fetch_configuration, methods=["GET"]),
    Route(PATH, update_configuration, methods=["POST"]),
]
