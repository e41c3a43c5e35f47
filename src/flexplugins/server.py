"""The HTTP server: uvicorn (uvloop, httptools) with every connection bounded, and the vendor proxy.

uvicorn's httptools protocol buffers a request's head however large it grows and holds a connection
that never sends a byte for ever. `HttpProtocol` adds the bounds (all in `Settings`):
- the request line and headers of one request: at most `max_header_bytes` (431 beyond);
- the time to send them, from the connection's start or a request's first byte: `header_timeout`
  (408, or a silent close for a connection that sent nothing);
- the longest pause while a request body is being sent: `body_timeout` (the connection is closed;
  the application sees the client disconnect);
- idle time between requests: `keep_alive_timeout` (uvicorn's keep-alive, kept by the same sweep);
- open connections per process: `max_connections` (beyond it a new connection is closed at once).

It also sends each response's head with the first part of its body, in one write: uvicorn writes
them separately, two `send(2)` calls where one does, and on a cached read those two calls were a
third of the server's time (bench/README.md).

With `vendor_proxy` set, the server also listens on that address; connections accepted there go to
`proxy.tunnel.VendorTunnel`, which after a CONNECT to a vendor host terminates TLS and hands the
stream back to a fresh `HttpProtocol`, so those requests reach the same application with their
original Host and the `https` scheme.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from .config import Settings
from .domain.errors import headers_too_large
from .proxy.certs import server_context
from .proxy.tunnel import VendorTunnel

APP = "flexplugins.api.app:create_app_from_env"


class _Process:
    """What every connection of this process shares: the settings and, lazily, the proxy's TLS context."""

    settings: Settings | None = None
    proxy_port: int | None = None
    tls: ssl.SSLContext | None = None
    deadlines: _Deadlines | None = None

    @classmethod
    def load(cls) -> Settings:
        if cls.settings is None:
            cls.settings = Settings.from_env()
            if cls.settings.vendor_proxy:
                cls.proxy_port = split_address(cls.settings.vendor_proxy)[1]
        return cls.settings

    @classmethod
    def tls_context(cls) -> ssl.SSLContext:
        if cls.tls is None:
            cls.tls = server_context(cls.load().data_dir)
        return cls.tls


def split_address(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) -> (host, port); ValueError when it is not one."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _too_large_response(limit: int) -> bytes:
    error = headers_too_large(f"The request line and headers are larger than the limit of {limit} bytes")
    body = orjson.dumps(
        {
            "code": error.code,
            "message": error.message,
            "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
            "status": error.status,
        }
    )
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        b"x-content-type-options: nosniff\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


class _OneWrite:
    """The transport as one request's cycle sees it: the response head is held until the body's
    first write (or the response's end, for a HEAD or an empty response) and goes out with it.

    An interim `100 Continue`, written before the head, goes out at once: the client waits for it.
    """

    __slots__ = ("_transport", "_head", "_started")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._started = False

    def write(self, data: bytes) -> None:
        if not self._started:
            if data.startswith(b"HTTP/1.1 100 "):
                self._transport.write(data)
                return
            self._started = True
            self._head = data
            return
        head = self._head
        if head is not None:
            self._head = None
            if len(data) <= _JOIN_LIMIT:
                data = head + data
            else:
                self._transport.writelines((head, data))
                return
        self._transport.write(data)

    def flush(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


_JOIN_LIMIT = 16 * 1024  # bigger bodies go out with the head as two buffers of one write, not copied


_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nx-content-type-options: nosniff\r\n"
    b"connection: close\r\n\r\n"
)
_HEAD, _BODY, _IDLE = 0, 1, 2  # what a connection's deadline bounds


class _Deadlines:
    """One timer per process for every connection's deadline, instead of a timer per request.

    A uvloop timer costs about 3.5 us to arm and cancel, and each request armed and cancelled two
    (the head's bound and uvicorn's keep-alive): a sixth of a cached read's server time. Requests
    only write a number (`HttpProtocol._deadline`); this sweep, a tenth of the shortest bound apart
    (50 ms to 1 s), expires the connections whose deadline has passed. A bound is thus enforced up
    to a tenth late.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self.watched: set[HttpProtocol] = set()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, protocol: HttpProtocol) -> None:
        self.watched.add(protocol)
        if self._timer is None:
            self._timer = self.loop.call_later(self.interval, self._sweep)

    def forget(self, protocol: HttpProtocol) -> None:
        self.watched.discard(protocol)

    def _sweep(self) -> None:
        self._timer = None
        now = self.loop.time()
        for protocol in [p for p in self.watched if p._deadline is not None and p._deadline <= now]:
            protocol._expire()
        if self.watched:
            self._timer = self.loop.call_later(self.interval, self._sweep)


def _deadlines(loop: asyncio.AbstractEventLoop, limits: Settings) -> _Deadlines:
    found = _Process.deadlines
    if found is None or found.loop is not loop:
        shortest = min(limits.header_timeout, limits.body_timeout, limits.keep_alive_timeout)
        found = _Process.deadlines = _Deadlines(loop, min(1.0, max(0.05, shortest / 10)))
    return found


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, bodies, idle time and connection count."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        tunnelled: bool = False,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = _Process.load()
        self._tunnelled = tunnelled
        self._deadline: float | None = None
        self._bounds = _HEAD
        self._in_head = True
        self._in_body = False
        self._head_bytes = 0
        self._head_tail = b""
        self._started = False

    # connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if not self._tunnelled:
            if len(self.connections) >= self._limits.max_connections:
                transport.abort()
                return
            if _Process.proxy_port is not None and _local_port(transport) == _Process.proxy_port:
                self._become_tunnel(transport)
                return
        self._started = True
        super().connection_made(transport)
        self._until(self._limits.header_timeout, _HEAD)  # from the connection's start
        _deadlines(self.loop, self._limits).watch(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._started:
            return
        self._deadline = None
        _deadlines(self.loop, self._limits).forget(self)
        super().connection_lost(exc)

    def _become_tunnel(self, transport: asyncio.Transport) -> None:
        def make_http() -> asyncio.Protocol:
            return HttpProtocol(self.config, self.server_state, self.app_state, self.loop, tunnelled=True)

        tunnel = VendorTunnel(make_http, _Process.tls_context(), self._limits.header_timeout, self.loop)
        transport.set_protocol(tunnel)
        tunnel.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            # Count only the head's bytes (up to the blank line that ends it), before the parser
            # buffers them: a body in the same read is not head, and a request that completes
            # within one read must not be counted as the next one's head.
            window = self._head_tail + data
            end = window.find(b"\r\n\r\n")
            if end < 0:
                self._head_bytes += len(data)
                self._head_tail = window[-3:]
            else:
                self._head_bytes += max(0, end + 4 - len(self._head_tail))
                self._head_tail = b""
            limit = self._limits.max_header_bytes
            if self._head_bytes > limit:
                if not self.transport.is_closing():
                    self._deadline = None
                    self.transport.write(_too_large_response(limit))
                    self.transport.close()
                return
        if self._bounds == _IDLE:
            self._deadline = None  # no longer idle: the parser starts the head's bound
        super().data_received(data)
        if self._in_body:
            self._until(self._limits.body_timeout, _BODY)  # the longest pause within a body

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._deadline is None:  # the first request keeps the bound from the connection's start
            self._until(self._limits.header_timeout, _HEAD)

    def on_headers_complete(self) -> None:
        self._deadline = None
        self._in_head = False
        self._in_body = True
        super().on_headers_complete()
        # The cycle just made (it runs later, as a task): its writes go through `_OneWrite`, which
        # it flushes when its response is complete.
        cycle = self.cycle
        one_write = _OneWrite(self.transport)
        cycle.transport = one_write  # type: ignore[assignment]
        respond = cycle.on_response

        def on_response() -> None:
            one_write.flush()
            respond()

        cycle.on_response = on_response

    def on_message_complete(self) -> None:
        self._in_body = False
        self._in_head = True
        self._head_bytes = 0
        self._head_tail = b""
        self._deadline = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # uvicorn's own, but the keep-alive bound is a deadline of the sweep rather than a timer.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._deadline is None:  # not already reading the next request
            self._until(self._limits.keep_alive_timeout, _IDLE)

    # deadlines
    def _until(self, delay: float, bounds: int) -> None:
        self._deadline = self.loop.time() + delay
        self._bounds = bounds

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._bounds == _HEAD:
            if not self._in_head:
                return
            if self._head_bytes:
                self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()
        elif self._bounds == _BODY:
            if self._in_body:
                self.transport.close()
        else:
            self.transport.close()  # idle beyond the keep-alive bound


def _local_port(transport: asyncio.BaseTransport) -> int | None:
    sockname = transport.get_extra_info("sockname")
    return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket that worker processes can inherit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def make_config(
    settings: Settings,
    *,
    workers: int,
    log_level: str,
    proxy_headers: bool,
    forwarded_allow_ips: str | None,
) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        workers=workers,
        loop="uvloop",
        http=HttpProtocol,
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling its caller once it accepts requests (the application has started)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()


def run(
    config: uvicorn.Config, sockets: list[socket.socket], on_ready: Callable[[], None] | None = None
) -> None:
    """Serve on already-bound sockets (the API first, then the vendor proxy if any) until stopped;
    `on_ready` (one process only) is called once requests are being accepted."""
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=sockets).run()
        else:
            _Server(config, on_ready).run(sockets=sockets)
    except KeyboardInterrupt:
        # uvicorn stops gracefully on Ctrl-C, then raises the signal again for its caller: a normal end.
        pass
