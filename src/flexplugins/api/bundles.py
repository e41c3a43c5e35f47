"""Our extension: the bundle store at /flexplugins/v1/Bundles (upload) and its bundle URLs (serve).

Bundles are served in slices (CHUNK bytes, each read in the thread pool), so a reader holds at most
one slice in the server however slowly it reads; HEAD and 304 answers read no bytes at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..domain.errors import not_found, too_large
from ..service import bundles as service
from ..storage.bundles import BundleInfo
from .auth import caller, reader
from .wire import base_url, date, json_response

PATH = service.PATH
CHUNK = 512 * 1024
# Slices read at once per process: each read holds a thread, a database connection and a slice of
# memory; a few keep the disk busy, and many slow readers cannot take the whole thread pool.
CONCURRENT_SLICE_READS = 4
# A private bundle stays private for ever (the upload flag and private versions are never undone),
# so browsers may keep it for a year; only their private cache may. A public bundle can still become
# private (a private version may name it at any time), so caches keep it but ask again before each
# use: a 304 costs no body, and the first question after it turns private gets the refusal.
PRIVATE_CACHE = "private, max-age=31536000, immutable"
PUBLIC_CACHE = "public, no-cache"
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
        "private": info.private,
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
    private = service.private_flag(request.query_params.get("Private"))
    limit: int = request.app.state.settings.max_bundle_bytes
    data = await _read_body(request, limit)
    info, created = await run_in_threadpool(
        service.upload, request.app.state.db, who, data, request.headers.get("content-type"), limit, private
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
    headers = {**CORS, "ETag": etag, "Cache-Control": PRIVATE_CACHE if private else PUBLIC_CACHE}
    if private:
        headers["Vary"] = "Authorization"
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return await stored_bytes(request, info, headers, service.SERVED_CONTENT_TYPE)


async def stored_bytes(
    request: Request, info: BundleInfo, headers: dict[str, str], media_type: str
) -> Response:
    """A 200 with the bytes of a stored bundle or asset: none for HEAD, one read when small, else
    streamed slice by slice. The one way the store's bytes are served (bundles, hosted assets)."""
    headers = {**headers, "Content-Length": str(info.size)}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=media_type)
    if info.size <= CHUNK:
        data = await _read(request, info, 0, info.size)
        return Response(data, 200, headers=headers, media_type=media_type)
    return StreamingResponse(_slices(request, info), 200, headers=headers, media_type=media_type)


def _slice_reads(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "bundle_slice_reads", None)
    if limiter is None:
        limiter = state.bundle_slice_reads = anyio.CapacityLimiter(CONCURRENT_SLICE_READS)
    return limiter


async def _read(request: Request, info: BundleInfo, offset: int, length: int) -> bytes:
    db = request.app.state.db
    return await anyio.to_thread.run_sync(
        service.read_slice, db, info, offset, length, limiter=_slice_reads(request)
    )


async def _slices(request: Request, info: BundleInfo) -> AsyncIterator[bytes]:
    """The bundle's bytes, one slice at a time; the next is read only once the client took the last."""
    offset = 0
    while offset < info.size:
        data = await _read(request, info, offset, min(CHUNK, info.size - offset))
        if not data:
            break  # cannot happen to a stored bundle (never changed or deleted); end rather than spin
        offset += len(data)
        yield data


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=PREFLIGHT)


routes = [
    Route(PATH, upload_bundle, methods=["POST"]),
    Route(PATH + "/{account}/{sha256}.js", serve_bundle, methods=["GET", "HEAD"]),
    Route(PATH + "/{account}/{sha256}.js", preflight, methods=["OPTIONS"]),
]
