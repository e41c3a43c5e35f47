"""Deployed assets at their environment's domain: `https://<label>.twil.io/<path>`.

The host routing maps such a request to /serverless/assets/<label>.twil.io/<path>, which is also
the URL a page outside the vendor proxy uses to reach the same bytes. Public assets are served
to anyone; Protected and Private ones only to the owning account's credentials (HTTP Basic, or a
runtime token); anyone else learns nothing, not even that the path exists.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.errors import not_found
from ...domain.serverless import hosted_domain
from ...service import bundles
from ...service.serverless import hosting
from ..auth import reader
from ..bundles import stored_bytes
from ..vendor_hosts import ASSETS_PREFIX
from ..wire import check_request

# By extension; anything else is served with the type it was uploaded with.
CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
# Browsers check a cross-origin script's integrity only when it is served with CORS.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, If-None-Match",
    "Access-Control-Max-Age": "600",
}


def content_type(path: str, uploaded: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    known = CONTENT_TYPES.get(name[dot:].lower()) if dot > 0 else None
    return known or uploaded or "application/octet-stream"


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


async def serve_asset(request: Request) -> Response:
    check_request(request)
    domain = request.path_params["domain"].lower()
    path = "/" + request.path_params["path"]
    db = request.app.state.db
    found = hosting.hosted(db, domain, path) if hosted_domain(domain) else None
    if (
        found is not None
        and found.visibility != "public"
        and reader(request).account_sid != found.account_sid
    ):
        found = None
    if found is None:
        raise not_found(f"The requested resource {path} was not found")
    etag = f'"{found.sha256}"'
    # The bytes at a path change with the next deployment: caches revalidate (cheaply, by ETag).
    privacy = "public" if found.visibility == "public" else "private"
    headers = {**CORS, "ETag": etag, "Cache-Control": f"{privacy}, no-cache"}
    media = content_type(path, found.content_type)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    info = bundles.bundle_store(db).info(found.account_sid, found.sha256)
    if info is None:
        raise not_found(f"The requested resource {path} was not found")
    # Streamed like every bundle: a slow reader of a large asset holds one slice, not the whole.
    return await stored_bytes(request, info, headers, media)


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=PREFLIGHT)


routes = [
    Route(ASSETS_PREFIX + "{domain}/{path:path}", serve_asset, methods=["GET", "HEAD"]),
    Route(ASSETS_PREFIX + "{domain}/{path:path}", preflight, methods=["OPTIONS"]),
]
