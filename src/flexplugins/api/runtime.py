"""Our extension for host applications: /flexplugins/v1/Runtime/{Manifest,ImportMap,loader.js}.

Every agent's page load reads the manifest, so responses carry a strong ETag (the release SID and
a digest of the body), answer If-None-Match with 304, and may be cached privately for a few
seconds. They are readable with account credentials, an API key or a runtime token, and from any
origin (CORS): the token travels in the Authorization header, never in a cookie.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import ApiError
from ..domain.model import Principal
from ..service import accounts
from ..service import runtime as service
from ..storage.db import Database
from .auth import reader
from .cache import ResponseCache
from .wire import date, error_response

PATH = "/flexplugins/v1/Runtime"
CACHE_CONTROL = "private, max-age=5, must-revalidate"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
    "Vary": "Authorization, Origin",
}
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, If-None-Match, Accept, Cache-Control",
    "Access-Control-Max-Age": "600",
}


def manifest_json(manifest: service.Manifest) -> dict[str, Any]:
    release = manifest.release
    return {
        "account_sid": manifest.account_sid,
        "release_sid": release.sid if release else None,
        "configuration_sid": release.configuration_sid if release else None,
        "date_released": date(release.date_created) if release else None,
        "plugins": [
            {
                "unique_name": plugin.unique_name,
                "plugin_sid": plugin.plugin_sid,
                "plugin_version_sid": plugin.plugin_version_sid,
                "version": plugin.version,
                "plugin_url": plugin.plugin_url,
                "integrity": plugin.integrity,
                "phase": plugin.phase,
                "private": plugin.private,
            }
            for plugin in manifest.plugins
        ],
    }


def import_map_json(manifest: service.Manifest) -> dict[str, Any]:
    """A standard import map; `integrity` is the import-map key browsers use to check modules."""
    body: dict[str, Any] = {"imports": {plugin.unique_name: plugin.plugin_url for plugin in manifest.plugins}}
    integrity = {plugin.plugin_url: plugin.integrity for plugin in manifest.plugins if plugin.integrity}
    if integrity:
        body["integrity"] = integrity
    return body


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.removeprefix("W/") == etag:
            return True
    return False


def _etag(tag: str, body: bytes) -> str:
    return f'"{tag}.{hashlib.sha256(body).hexdigest()[:20]}"'


def _respond(request: Request, body: bytes, etag: str, media_type: str, cache: str) -> Response:
    headers = {**CORS, "ETag": etag, "Cache-Control": cache}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body if request.method != "HEAD" else b"", 200, headers, media_type)


def _render(db: Database, who: Principal, kind: str) -> tuple[bytes, str]:
    manifest = service.manifest(db, who)
    body = orjson.dumps(manifest_json(manifest) if kind == "manifest" else import_map_json(manifest))
    release = manifest.release.sid if manifest.release else "none"
    return body, _etag(f"{release}.{kind}", body)


async def _runtime(request: Request, kind: str) -> Response:
    """The manifest or import map, rendered once per release (and bundle upload) per process."""
    media_type = "application/json" if kind == "manifest" else "application/importmap+json"
    db = request.app.state.db
    responses: ResponseCache = request.app.state.responses
    try:
        who = reader(request)
        seq = await accounts.change_seq(db, who.account_sid)
        rendered = responses.get(who.account_sid, seq, ("runtime", kind))
        if rendered is None:
            # Queried and rendered in the thread pool: a release of 1,000 plugins is hundreds of KiB.
            rendered = await run_in_threadpool(_render, db, who, kind)
            responses.put(who.account_sid, seq, ("runtime", kind), rendered, len(rendered[0]))
    except ApiError as error:
        response = error_response(error)
        response.headers.update(CORS)
        return response
    return _respond(request, rendered[0], rendered[1], media_type, CACHE_CONTROL)


async def fetch_manifest(request: Request) -> Response:
    return await _runtime(request, "manifest")


async def fetch_import_map(request: Request) -> Response:
    return await _runtime(request, "importmap")


_LOADER = resources.files("flexplugins").joinpath("static/loader.js").read_bytes()


_LOADER_ETAG = _etag("loader", _LOADER)


async def fetch_loader(request: Request) -> Response:
    return _respond(request, _LOADER, _LOADER_ETAG, "text/javascript", "public, max-age=300")


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=PREFLIGHT)


routes = [
    Route(PATH + "/Manifest", fetch_manifest, methods=["GET", "HEAD"]),
    Route(PATH + "/ImportMap", fetch_import_map, methods=["GET", "HEAD"]),
    Route(PATH + "/loader.js", fetch_loader, methods=["GET", "HEAD"]),
    Route(PATH + "/{name}", preflight, methods=["OPTIONS"]),
]
