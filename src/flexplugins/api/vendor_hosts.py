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
from ..proxy.names import VENDOR_HOSTS
from .wire import VENDOR_HOST

SERVERLESS_PREFIX = "/serverless"
VALIDATION_PREFIX = "/flex-plugin-upload"
ASSETS_PREFIX = "/serverless/assets/"

# Vendor host (every one the vendor proxy tunnels to) -> the prefix its paths are mounted under
# here; the others keep their paths ("").
_PREFIXES = {
    "serverless.twilio.com": SERVERLESS_PREFIX,
    "serverless-upload.twilio.com": SERVERLESS_PREFIX,
    "flex-plugin-upload.us1.twilio.com": VALIDATION_PREFIX,
}
HOSTS: dict[str, str] = {host: _PREFIXES.get(host, "") for host in VENDOR_HOSTS}
# What a Host header value means: None (not a vendor host), or the vendor host and the prefix its
# paths get here, with None as the prefix of an environment's domain. Host values repeat from
# request to request, so the answer is kept per raw value: the common case is one dict lookup.
_Decision = tuple[str, str | None] | None
_decisions: dict[bytes, _Decision] = {}
_DECISIONS_LIMIT = 1024
_HOST_LIMIT = 262


def _decide(raw: bytes) -> _Decision:
    host = raw.split(b":", 1)[0].rstrip(b".").lower().decode("ascii", "replace")
    prefix = HOSTS.get(host)
    if prefix is not None:
        return host, prefix
    if hosted_domain(host):
        return host, None
    return None


def _rewrite(scope: Scope, vendor: str, path: str) -> Scope:
    # In place, not a copy: the layer outside (api/observe.py) reads what the application records
    # in this scope (the route that answered, the caller) for the metrics and the access log.
    scope[VENDOR_HOST] = vendor
    scope["path"] = path
    scope["raw_path"] = path.encode("utf-8", "surrogateescape")
    return scope


def route(scope: Scope) -> Scope:
    """The scope the application sees: rewritten (in place) for a vendor host, else unchanged."""
    raw: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"host":
            raw = value
            break
    if raw is None:
        return scope
    try:
        decision = _decisions[raw]
    except KeyError:
        decision = _decide(raw)
        if len(raw) <= _HOST_LIMIT:  # a name and a port; anything longer is not worth keeping
            if len(_decisions) >= _DECISIONS_LIMIT:
                _decisions.clear()  # many distinct Host values: a scan, not a working set
            _decisions[raw] = decision
    if decision is None:
        return scope
    host, prefix = decision
    path: str = scope["path"]
    if prefix is None:
        return _rewrite(scope, host, ASSETS_PREFIX + host + path)
    return _rewrite(scope, host, prefix + path)


class VendorHosts:
    """ASGI middleware applying `route` to every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = route(scope)
        await self.app(scope, receive, send)
