"""What the server tells its operators about each request: a request ID, metrics, an access log.

`Observe` is the outermost ASGI layer of the application, outside Starlette's own error handling,
so it sees every response, a 500 included. For each HTTP request it:
- makes a request ID, `RQ` and 32 hex digits as the vendor's, sends it back in `Twilio-Request-Id`
  and leaves it in the scope (`REQUEST_ID`) for the error log;
- counts the response in the Prometheus metrics (flexplugins/metrics.py) under the route TEMPLATE
  (`/v1/PluginService/Plugins/{sid}`, never the path itself, so the label values stay few);
- with the access log on, writes one JSON line to stderr: time, request ID, client address, account
  and credential SID (never a secret: the credential's SID only, once it is verified), method, route
  template, status, duration and body bytes.
It also answers `GET /metrics` when the `metrics` setting allows it (see `MetricsAccess`).
"""

from __future__ import annotations

import hmac
import os
import time

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import metrics as metrics_module
from ..domain.errors import unauthenticated
from ..domain.model import Principal
from .wire import error_body, error_response, json_response

REQUEST_ID = "flexplugins.request_id"
PRINCIPAL = "flexplugins.principal"  # set by api/auth.py once the caller's credential is verified
LOGGED = "flexplugins.logged"  # set by the application's error handler once it has logged an error
METRICS_PATH = "/metrics"
_HEADER = b"Twilio-Request-Id"
# More distinct templates than the application has routes means something is wrong; stop there.
_MAX_ROUTES = 256
_UNMATCHED = "unmatched"
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_OTHER = "other"


# On every response, errors and 500s included: browsers must not guess another type for a body.
NOSNIFF = (b"x-content-type-options", b"nosniff")


def new_request_id() -> str:
    return "RQ" + os.urandom(16).hex()  # what secrets.token_hex(16) does, minus two calls


def request_id_of(scope: Scope) -> str | None:
    value = scope.get(REQUEST_ID)
    return value if isinstance(value, str) else None


class MetricsAccess:
    """Who may read GET /metrics: nobody (`off`, the default: 404 as for any unknown path), anyone
    (`on`), or a caller sending `Authorization: Bearer <secret>` (`token:<secret>`)."""

    def __init__(self, setting: str) -> None:
        value = setting.strip()
        self.token: bytes | None = None
        if value.lower() in ("", "off", "0", "false", "no"):
            self.enabled = False
        elif value.lower() in ("on", "1", "true", "yes"):
            self.enabled = True
        elif value.startswith("token:") and len(value) > len("token:"):
            self.enabled = True
            self.token = value[len("token:") :].encode()
        else:
            raise ValueError("FLEXPLUGINS_METRICS must be off, on or token:<secret>")

    def allows(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.token)
        return False


class Observe:
    def __init__(self, app: ASGIApp, *, metrics: MetricsAccess, access_log: bool) -> None:
        self.app = app
        self.access = metrics
        self.access_log = access_log
        self._templates: dict[tuple[int, str], str] = {}
        self._second = 0
        self._stamp = ""
        self._counting = metrics.enabled
        if self._counting:  # with metrics off nothing is counted (nor is prometheus_client imported)
            metrics_module.start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID] = request_id
        header = (_HEADER, request_id.encode())
        root_path = scope.get("root_path", "")
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_observed(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header, NOSNIFF]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            if scope["path"] == METRICS_PATH and self.access.enabled:
                scope["flexplugins.route"] = METRICS_PATH
                await self._metrics(scope, receive, send_observed)
            else:
                await self.app(scope, receive, send_observed)
        except Exception:
            # Starlette raises an error again after its handler has answered 500, for the server to
            # log; that handler has logged it already, with the request ID, so it ends here.
            if not scope.get(LOGGED):
                raise
        finally:
            elapsed = time.perf_counter() - started
            if self._counting or self.access_log:
                route = self._route(scope, root_path)
                if self._counting:
                    self._count(route, scope["method"], status, elapsed, sent)
                if self.access_log:
                    self._log(scope, request_id, route, status, elapsed, sent)

    # route templates
    def _route(self, scope: Scope, root_path: str) -> str:
        fixed = scope.get("flexplugins.route")
        if fixed is not None:
            return str(fixed)
        route = scope.get("route")
        if route is None:
            return _UNMATCHED
        # Inside a mount, root_path has grown by the mount's prefix (a literal one in this app).
        key = (id(route), scope.get("root_path", ""))
        template = self._templates.get(key)
        if template is None:
            prefix = key[1][len(root_path) :]
            path = getattr(route, "path", "")
            template = prefix + ("/{path}" if isinstance(route, Mount) else path)
            if not path or len(self._templates) >= _MAX_ROUTES:  # not a path route (a Host route, say)
                return _OTHER
            self._templates[key] = template
        return template

    # metrics
    def _count(self, route: str, method: str, status: int, elapsed: float, sent: int) -> None:
        if method not in _METHODS:
            method = _OTHER
        metrics_module.TALLY.request(route, method, status, elapsed)
        if status == 503:
            metrics_module.family("unavailable").labels(route).inc()
        elif status == 429:
            metrics_module.family("refused").labels(route).inc()
        elif status == 200 and route.startswith("/flexplugins/v1/Bundles/"):
            metrics_module.BUNDLE_BYTES.inc(sent)

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            message = "The method is not allowed for the requested resource"
            response = json_response(error_body(405, 20405, message), 405)
            response.headers["Allow"] = "GET, HEAD"
        elif not self.access.allows(scope):
            error = unauthenticated("Reading the metrics requires the bearer token of FLEXPLUGINS_METRICS")
            response = error_response(error)
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        else:
            metrics_module.TALLY.flush()
            body, content_type = await run_in_threadpool(metrics_module.render)
            response = Response(body, 200, {"Cache-Control": "no-store"}, content_type)
        await response(scope, receive, send)

    # access log
    def _log(self, scope: Scope, request_id: str, route: str, status: int, elapsed: float, sent: int) -> None:
        who = scope.get(PRINCIPAL)
        client = scope.get("client")
        now = time.time()
        second = int(now)
        if second != self._second:  # formatting the date is most of a line's cost: once a second
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        line = {
            "time": f"{self._stamp}.{int((now - second) * 1000):03d}Z",
            "request_id": request_id,
            "client": client[0] if client else None,
            "account_sid": who.account_sid if isinstance(who, Principal) else None,
            "credential_sid": who.credential_sid if isinstance(who, Principal) else None,
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "bytes": sent,
        }
        _write_line(orjson.dumps(line) + b"\n")


def _write_line(data: bytes) -> None:
    """One write(2) per line: lines of several workers sharing stderr never interleave."""
    view = memoryview(data)
    while view:
        written = os.write(2, view)
        view = view[written:]
