"""A client that goes away mid-request is a normal event: no traceback, at most one short log line.

The attack: anyone (no credentials needed on /console/login) announces a body and closes the
connection before sending it; each time the server logged an "unexpected error" with a traceback
of several kilobytes, so a loop of such requests floods the log.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from flexplugins.service import accounts
from flexplugins.storage.db import Database
from tests.serving import serve

ROUNDS = 20


def _half_sent(port: int, head: str, body: bytes) -> None:
    """Send the request line, headers and part of the announced body, then close the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        time.sleep(0.02)
        sock.shutdown(socket.SHUT_RDWR)


def test_clients_that_disconnect_mid_body_do_not_flood_the_log(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.upgrade()
    account, token = accounts.create_account(db)
    db.dispose()
    proc = serve(database_url, tmp_path)
    try:
        port = int(proc.url.rsplit(":", 1)[1])
        auth = httpx.BasicAuth(account.sid, token)._auth_header
        requests = [
            # The console's sign-in form, no credentials, no cookie.
            "POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 100000\r\n",
            # An API write, with credentials.
            f"POST /v1/PluginService/Plugins HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n",
            # A bundle upload, with credentials.
            f"POST /flexplugins/v1/Bundles HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/javascript\r\nContent-Length: 1000000\r\n",
            # Chunked, never finished.
            "POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n",
        ]
        size_before = len(proc.output())
        for _ in range(ROUNDS):
            for head in requests:
                body = b"5\r\nsid=A\r\n" if "chunked" in head else b"sid=AC&token=" + b"x" * 200
                _half_sent(port, head, body)
        time.sleep(0.5)
        assert httpx.get(proc.url + "/healthz", timeout=5).status_code == 200
        log = proc.output()[size_before:]
        assert "Traceback" not in log, log[:3000]
        assert "unexpected error" not in log.lower(), log[:3000]
        assert "Exception in ASGI application" not in log, log[:3000]
        # At most one short line per aborted request.
        lines = [line for line in log.splitlines() if line.strip()]
        assert len(lines) <= ROUNDS * len(requests), log[:3000]
        assert all(len(line) < 300 for line in lines), log[:3000]
    finally:
        proc.stop()
