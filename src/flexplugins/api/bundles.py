"""Our extension: the bundle store at /flexplugins/v1/Bundles (upload) and its bundle URLs (serve)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import not_found, too_large
from ..service import bundles as service
from ..storage.bundles import BundleInfo
from .auth import caller, reader
from .wire import base_url, date, json_response

PATH = service.PATH
IMMUTABLE = "max-age=31536000, immutable"
# Browsers check a cross-origin script's integrity only when it is served with CORS.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, If-None-Match",
    "Access-Control-Max-Age": "600",
}


def bundle_json(info: BundleInfo, base: str) -> dict[str, Any]:
    return {
        "account_sid": info.account_sid,
        "sha256": info.sha256,
        "size": info.size,
        "integrity": info.integrity,
        "content_type": info.content_type,
        "date_created": date(info.date_created),
        "url": base + service.path_of(info.account_sid, info.sha256),
    }


async def _read_body(request: Request, limit: int) -> bytes:
    refused = too_large(
        f"The bundle is larger than the limit of {limit} bytes (FLEXPLUGINS_MAX_BUNDLE_BYTES)"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise refused
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refused
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_bundle(request: Request) -> Response:
    who = caller(request)
    limit: int = request.app.state.settings.max_bundle_bytes
    data = await _read_body(request, limit)
    info, created = await run_in_threadpool(
        service.upload, request.app.state.db, who, data, request.headers.get("content-type"), limit
    )
    return json_response(bundle_json(info, base_url(request)), 201 if created else 200)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


async def serve_bundle(request: Request) -> Response:
    account_sid = request.path_params["account"]
    sha256 = request.path_params["sha256"]
    db = request.app.state.db
    info, private = service.locate(db, account_sid, sha256)
    # Someone else's credentials learn nothing of a private bundle, not even that it exists.
    if private and reader(request).account_sid != account_sid:
        raise not_found(f"The requested resource {request.url.path} was not found")
    etag = f'"{info.sha256}"'
    headers = {**CORS, "ETag": etag, "Cache-Control": ("private, " if private else "public, ") + IMMUTABLE}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    bundle = await run_in_threadpool(service.content, db, account_sid, sha256)
    return Response(bundle.data, 200, headers=headers, media_type=service.SERVED_CONTENT_TYPE)


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=PREFLIGHT)


routes = [
    Route(PATH, upload_bundle, methods=["POST"]),
    Route(PATH + "/{account}/{sha256}.js", serve_bundle, methods=["GET", "HEAD"]),
    Route(PATH + "/{account}/{sha256}.js", preflight, methods=["OPTIONS"]),
]
