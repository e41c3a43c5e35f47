"""The vendor's plugin validator, `flex-plugin-upload.us1.twilio.com/v1/Plugin/Validate`.

`flex:plugins:deploy` sends the zipped plugin sources here before it deploys and records only
whether the call succeeded (a version's `ValidateStatus`). This server does not analyse plugins:
it checks the request is what the deploy script sends and answers the report of a plugin with no
findings. The body is bounded like a bundle upload, so a client never waits on a large upload.
"""

from __future__ import annotations

import io
import uuid
import zipfile

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import invalid, missing
from .auth import caller
from .vendor_hosts import VALIDATION_PREFIX
from .wire import json_response, read_multipart

PATH = VALIDATION_PREFIX + "/v1/Plugin/Validate"
OVERHEAD = 64 * 1024


async def validate_plugin(request: Request) -> Response:
    caller(request)
    limit: int = request.app.state.settings.max_bundle_bytes
    form, files = await read_multipart(request, limit + OVERHEAD)
    for name in ("flex_ui_version", "plugin_name"):
        if not form.get(name):
            raise missing(name)
    archive = files.get("plugin_zip")
    if archive is None:
        raise missing("plugin_zip")
    if not zipfile.is_zipfile(io.BytesIO(archive.data)):
        raise invalid("plugin_zip must be a zip archive of the plugin's sources")
    return json_response(
        {
            "request_id": "RQ" + uuid.uuid4().hex,
            "api_compatibility": [],
            "version_compatibility": [],
            "dom_manipulation": [],
            "errors": [],
        }
    )


routes = [Route(PATH, validate_plugin, methods=["POST"])]
