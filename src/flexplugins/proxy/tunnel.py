"""One connection to the vendor proxy: read the proxy request, then either refuse it or terminate TLS
and hand the decrypted stream to the server's own HTTP protocol (and so to the one application).

The vendor's tools (cli-core, flex-dev-utils through https-proxy-agent) send
`CONNECT host:443 HTTP/1.1` and then speak TLS to `host`. Only the vendor's host names on port 443
are accepted; anything else gets a 403 and the connection is closed. A plain-HTTP proxy request
(`GET http://host/...`) is never forwarded: 403 for other hosts, 400 for the vendor's (they are
HTTPS only). The proxy request itself is parsed with httptools, bounded in size and time.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import cast

import httptools

from .names import is_vendor_host

log = logging.getLogger("flexplugins.proxy")

MAX_REQUEST_BYTES = 16 * 1024
HANDSHAKE_TIMEOUT = 10.0


class VendorTunnel(asyncio.Protocol):
    """Protocol of a connection accepted on the proxy's port, until it becomes a TLS tunnel."""

    def __init__(
        self,
        make_http: Callable[[], asyncio.Protocol],
        tls: ssl.SSLContext,
        head_timeout: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._make_http = make_http
        self._tls = tls
        self._head_timeout = head_timeout
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._size = 0
        self._complete = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._timer = self._loop.call_later(self._head_timeout, self._expire)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()

    def data_received(self, data: bytes) -> None:
        if self._complete:
            # Bytes sent before the proxy answered a CONNECT: a client that does not wait.
            self._refuse(400, "Send nothing after CONNECT until the proxy has answered")
            return
        self._size += len(data)
        if self._size > MAX_REQUEST_BYTES:
            self._refuse(431, "The proxy request is too large")
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # CONNECT: llhttp hands the rest of the stream back; on_headers_complete has run
        except httptools.HttpParserError:
            self._refuse(400, "This is flexplugins' vendor proxy: send an HTTP CONNECT request")
            return
        if self._complete:
            self._dispatch()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_headers_complete(self) -> None:
        self._complete = True

    # the proxy's decisions
    def _dispatch(self) -> None:
        method = self._parser.get_method()
        if method == b"CONNECT":
            host, _, port = self._url.decode("latin-1").rpartition(":")
            if port != "443" or not is_vendor_host(host):
                self._refuse(403, f"flexplugins' vendor proxy does not reach {self._url.decode('latin-1')}")
                return
            self._cancel_timer()
            assert self._transport is not None
            self._transport.pause_reading()
            self._transport.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            self._loop.create_task(self._terminate_tls())
            return
        try:
            host = (httptools.parse_url(self._url).host or b"").decode("latin-1")
        except httptools.HttpParserInvalidURLError:
            host = ""
        if host and is_vendor_host(host):
            self._refuse(400, f"{host} is served over HTTPS only: tunnel to it with CONNECT {host}:443")
        else:
            self._refuse(403, f"flexplugins' vendor proxy does not reach {host or 'that address'}")

    async def _terminate_tls(self) -> None:
        assert self._transport is not None
        http = self._make_http()
        try:
            tls_transport = await self._loop.start_tls(
                self._transport, http, self._tls, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except (TimeoutError, OSError, ssl.SSLError, ConnectionError) as error:
            log.info("vendor proxy: TLS handshake failed: %s", error)
            self._transport.abort()
            return
        if tls_transport is None:  # the connection closed during the handshake
            return
        http.connection_made(tls_transport)

    def _refuse(self, status: int, message: str) -> None:
        self._cancel_timer()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        reason = {400: "Bad Request", 403: "Forbidden", 408: "Request Timeout", 431: "Too Large"}[status]
        body = (message + "\n").encode()
        transport.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        transport.close()

    def _expire(self) -> None:
        self._timer = None
        self._refuse(408, "The proxy request was not sent in time")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
