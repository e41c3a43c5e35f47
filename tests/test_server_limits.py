"""The HTTP server's bounds, attacked as an outsider would: no credentials, loopback only, bounded.

Each test starts a real `flexplugins serve` (tests/serving.py) and measures the server process
itself: memory (VmRSS) while clients send endless headers, sockets closed after the header and body
timeouts, connections beyond the limit closed at once, and the 431 for an oversized head on every
route, /healthz included (it used to answer 200 to a 64 MiB header).
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import ServeProcess, serve

MiB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[ServeProcess]:
    proc = serve(
        f"sqlite:///{tmp_path / 'limits.db'}",
        tmp_path,
        env={
            "FLEXPLUGINS_HEADER_TIMEOUT": "1",
            "FLEXPLUGINS_BODY_TIMEOUT": "1",
            "FLEXPLUGINS_MAX_CONNECTIONS": "64",
            "FLEXPLUGINS_KEEP_ALIVE_TIMEOUT": "1",
        },
    )
    yield proc
    proc.stop()


def _port(proc: ServeProcess) -> int:
    return int(proc.url.rsplit(":", 1)[1])


def _send_until_refused(sock: socket.socket, total: int) -> int:
    """Send header bytes that never end; how many went out before the server closed the connection."""
    sent = 0
    chunk = b"a" * 65536
    try:
        while sent < total:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    return sent


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes (EOF or reset) this socket within the time; any response is read."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_endless_headers_keep_memory_flat(limited: ServeProcess) -> None:
    """8 clients each sending 32 MiB of one header, never finishing: the server stays near its start size."""
    pid = limited.popen.pid
    httpx.get(limited.url + "/healthz")
    before = rss_bytes(pid)
    socks = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", _port(limited)), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Flood: ")
        socks.append(sock)
    for sock in socks:
        _send_until_refused(sock, 32 * MiB)
    grown = rss_bytes(pid) - before
    for sock in socks:
        sock.close()
    assert grown < 24 * MiB, f"the server grew by {grown / MiB:.0f} MiB while clients sent endless headers"


def test_oversized_head_on_healthz_is_431(limited: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (64 * 1024) + b"\r\n\r\n")
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code":20431' in answer


def test_normal_requests_still_served(limited: ServeProcess) -> None:
    """Headers near the limit, keep-alive across several requests, and a body sent in pieces pass."""
    with httpx.Client(base_url=limited.url) as client:
        for _ in range(3):
            assert client.get("/healthz", headers={"X-Pad": "p" * 16_000}).status_code == 200
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as sock:
        sock.sendall(b"POST /v1/PluginService/Plugins HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n")
        time.sleep(0.5)
        sock.sendall(b"Content-Type: application/x-www-form-urlencoded\r\n\r\nUniqueName=")
        time.sleep(0.5)
        sock.sendall(b"abcdefghi")
        assert sock.recv(200).startswith(b"HTTP/1.1 401 ")  # read whole, then refused: no credentials


def test_idle_connections_are_closed(limited: ServeProcess) -> None:
    """Sockets that never send a byte are closed after the header timeout (1 s here), not held for ever."""
    socks = [socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) for _ in range(40)]
    time.sleep(1.5)
    still_open = [sock for sock in socks if not _closed_within(sock, 1.0)]
    for sock in socks:
        sock.close()
    assert not still_open, f"{len(still_open)} of 40 idle connections still open after the header timeout"


def _get_healthz(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        chunk = sock.recv(65536)
        assert chunk, "closed while a request was being answered"
        answer += chunk
    return answer


def test_keep_alive_connections_are_closed_when_idle_and_kept_while_used(limited: ServeProcess) -> None:
    """With a 1 s keep-alive bound: a connection used every 0.4 s stays open for 3 s; one left idle
    after its response is closed within about a second and a half."""
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as used:
        for _ in range(8):
            assert _get_healthz(used).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.4)
        assert not _closed_within(used, 0.01)
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as idle:
        assert _get_healthz(idle).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert _closed_within(idle, 3.0), "an idle keep-alive connection is held past its bound"
        assert 0.8 <= time.monotonic() - started <= 1.6


def test_slow_headers_get_408(limited: ServeProcess) -> None:
    """A client trickling its headers a byte at a time is cut off at the header timeout."""
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        answer = b""
        sock.settimeout(0.2)
        while time.monotonic() - started < 5:
            try:
                sock.sendall(b"X")
                chunk = sock.recv(200)
                if not chunk:
                    break
                answer += chunk
            except TimeoutError:
                continue
            except OSError:
                break
        elapsed = time.monotonic() - started
    assert elapsed < 3, f"a trickling client was held {elapsed:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]


def test_stalled_body_is_closed(limited: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as sock:
        sock.sendall(b"POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nuser=")
        assert _closed_within(sock, 4.0), "a request whose body stalls is held past the body timeout"


def test_connections_beyond_the_limit_are_closed(limited: ServeProcess) -> None:
    """With FLEXPLUGINS_MAX_CONNECTIONS=64, the 65th and later connections are closed at once."""
    socks = [socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) for _ in range(80)]
    try:
        time.sleep(0.3)  # well inside the 1 s header timeout: only refused sockets are closed yet
        readable, _, _ = select.select(socks, [], [], 0)
        closed = sorted(socks.index(sock) for sock in readable)
        assert len(closed) >= 16, f"only {len(closed)} of 80 connections were refused with a limit of 64"
        assert min(closed) >= 60, f"an early connection was refused: {closed[:5]}"
    finally:
        for sock in socks:
            sock.close()
    # Once they are gone, the server serves again.
    assert httpx.get(limited.url + "/healthz").status_code == 200


def test_a_large_body_in_the_same_read_as_its_head_is_not_taken_for_head(
    limited: ServeProcess, tmp_path: Path
) -> None:
    """A 50 KB form body arriving in one read with its head, or right after it: the read that ends
    the request is not counted as the head of the next one, and the request is answered."""
    from flexplugins.service import accounts
    from flexplugins.storage.db import Database

    db = Database(f"sqlite:///{tmp_path / 'limits.db'}")
    account, token = accounts.create_account(db)
    db.dispose()
    auth = httpx.BasicAuth(account.sid, token)._auth_header.encode()
    answers = b""
    for name in (b"big-1", b"big-2"):
        body = b"UniqueName=" + name + b"&FriendlyName=" + b"f" * 200 + b"&Changelog=" + b"c" * 50_000
        head = (
            b"POST /v1/PluginService/Plugins HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        with socket.create_connection(("127.0.0.1", _port(limited)), timeout=10) as sock:
            if name == b"big-1":
                sock.sendall(head + body)
            else:
                sock.sendall(head)
                time.sleep(0.3)
                sock.sendall(body)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        answers += answer
    # Both created (the form's unknown Changelog field is ignored): the head limit played no part.
    assert answers.count(b"HTTP/1.1 201 ") == 2, answers[:300]
