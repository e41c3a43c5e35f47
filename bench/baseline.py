"""The floor of Python ASGI serving: a bare Starlette endpoint returning a fixed ~500-byte JSON body.

Run by bench/run.py with uvicorn (uvloop, httptools) and the same worker count as the server.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The shape and size of a fetched plugin (about 500 bytes).
BODY = json.dumps(
    {
        "sid": "FP" + "0" * 32,
        "account_sid": "AC" + "0" * 32,
        "unique_name": "plugin-00000",
        "friendly_name": "Plugin 0",
        "description": "A plugin seeded by the benchmark",
        "archived": False,
        "date_created": "2026-01-01T00:00:00Z",
        "date_updated": "2026-01-01T00:00:00Z",
        "url": "http://127.0.0.1:8080/v1/PluginService/Plugins/FP" + "0" * 32,
        "links": {
            "plugin_versions": "http://127.0.0.1:8080/v1/PluginService/Plugins/FP" + "0" * 32 + "/Versions"
        },
    },
    separators=(",", ":"),
).encode()


async def fixed(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", fixed, methods=["GET"])])
