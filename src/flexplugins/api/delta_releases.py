"""Delta releases, our extension: POST /flexplugins/v1/Releases enables and disables plugins on top of
the active release in one transaction (see service.releases.create_delta)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..service import releases as service
from .auth import caller
from .configurations import configuration_json
from .releases import etag, precondition, release_json
from .wire import base_url, flex_metadata, json_response, read_form

PATH = "/flexplugins/v1/Releases"


async def create_delta_release(request: Request) -> Response:
    who = caller(request)
    expected = precondition(request)
    form = await read_form(request)
    done = await run_in_threadpool(
        service.create_delta,
        request.app.state.db,
        who,
        form.get_all("Enable"),
        form.get_all("Disable"),
        form.get("Name"),
        form.get("Description"),
        flex_metadata(request),
        expected,
    )
    base = base_url(request)
    body = {
        "release": None if done.release is None else release_json(done.release, base),
        "configuration": None if done.configuration is None else configuration_json(done.configuration, base),
        "changes": [change.as_dict() for change in done.changes],
        "changed": done.changed,
    }
    response = json_response(body, 201 if done.changed else 200)
    if done.release is not None:
        response.headers["ETag"] = etag(done.release)
    return response


routes = [Route(PATH, create_delta_release, methods=["POST"])]
