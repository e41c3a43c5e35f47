"""Which API a request is for, from its Host: the vendor's hosts mapped onto our own paths.

The vendor's CLI has every host hard-coded, so it reaches this server through the vendor proxy,
which hands each request over unchanged, with its original Host. This one wrapper maps those
hosts onto the paths the APIs are mounted under here, so that no handler ever looks at a Host:

    flex-api.twilio.com                 /v1/...           unchanged (Plugin Service, Configuration)
    api.twilio.com, flex.twilio.com     unchanged
    serverless.twilio.com               /v1/...        -> /serverless/v1/...  (every path gets the prefix)
    serverless-upload.twilio.com        /v1/...        -> /serverless/v1/...
    flex-plugin-upload.us1.twilio.com   /v1/...        -> /flex-plugin-upload/v1/...
    <label>.twil.io                     /<path>        -> /serverless/assets/<label>.twil.io/<path>

and records the vendor host in the scope (wire.VENDOR_HOST), so that the URLs in responses carry
it. Any other Host (an address, a public name) is left alone: every API is also reachable at its
internal path, which is what a client that can be pointed at a base URL uses.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..domain.serverless import hosted_domain
from .wire import VENDOR_HOST

SERVERLESS_PREFIX = "/serverless"
VALIDATION_PREFIX = "/flex-plugin-upload"
ASSETS_PREFIX = "/serverless/assets/"

# Vendor host -> the prefix its paths are mounted under here ("" for unchanged).
HOSTS: dict[str, str] = {
    "flex-api.twilio.com": "",
    "api.twilio.com": "",
    "flex.twilio.com": "",
    "serverless.twilio.com": SERVERLESS_PREFIX,
    "serverless-upload.twilio.com": SERVERLESS_PREFIX,
    "flex-plugin-upload.us1.twilio.com": VALIDATION_PREFIX,
}
_TWIL_IO = b".twil.io"
_TWILIO_COM = b".twilio.com"


def _host(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return value  # type: ignore[no-any-return]
    return None


def _rewrite(scope: Scope, vendor: str, path: str) -> Scope:
    routed = dict(scope)
    routed[VENDOR_HOST] = vendor
    routed["path"] = path
    routed["raw_path"] = path.encode("utf-8", "surrogateescape")
    return routed


def route(scope: Scope) -> Scope:
    """The scope the application sees: rewritten for a vendor host, else the same object."""
    raw = _host(scope)
    # The fast path: an address or any name outside the vendor's two domains costs two suffix checks.
    if raw is None:
        return scope
    host = raw.split(b":", 1)[0].rstrip(b".").lower()
    if not (host.endswith(_TWILIO_COM) or host.endswith(_TWIL_IO)):
        return scope
    name = host.decode("ascii", "replace")
    path: str = scope["path"]
    prefix = HOSTS.get(name)
    if prefix is not None:
        return _rewrite(scope, name, prefix + path)
    if hosted_domain(name):
        return _rewrite(scope, name, ASSETS_PREFIX + name + path)
    return scope


class VendorHosts:
    """ASGI middleware applying `route` to every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = route(scope)
        await self.app(scope, receive, send)
