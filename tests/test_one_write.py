"""A response goes out in one write: the head with the body, not one `write(2)` for each.

uvicorn writes a response's head and body separately; on a cached read the second system call was
a large share of the server's time (bench/README.md). Counted on a real `flexplugins serve`
process through /proc/PID/io (`syscw`: libuv writes sockets with write/writev), over one keep-alive
connection, with the responses whose head has no body write after it (HEAD) or must go out before
the body is read (100 Continue) checked on the wire.
"""

from __future__ import annotations

import base64
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import ServeProcess, serve

SID = "AC" + "1" * 32
TOKEN = secrets.token_hex(20)
REQUESTS = 200


@pytest.fixture
def proc(tmp_path: Path) -> Iterator[ServeProcess]:
    served = serve(
        f"sqlite:///{tmp_path / 'one-write.db'}",
        tmp_path,
        env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN},
    )
    yield served
    served.stop()


def write_calls(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/PID/io")


def connect(proc: ServeProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(proc.url.rsplit(":", 1)[1])), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket, buffer: bytearray, *, head_only: bool = False) -> tuple[bytes, bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if head_only or head.startswith(b"HTTP/1.1 100 "):
        length = 0
    while len(buffer) < end + length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk
    body = bytes(buffer[end : end + length])
    del buffer[: end + length]
    return head, body


def test_each_response_is_one_write(proc: ServeProcess) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(proc) as sock:
        buffer = bytearray()
        for _ in range(5):  # warm: the first requests may log or open the database
            sock.sendall(request)
            read_response(sock, buffer)
        before = write_calls(proc.popen.pid)
        for _ in range(REQUESTS):
            sock.sendall(request)
            head, body = read_response(sock, buffer)
            assert head.startswith(b"HTTP/1.1 200 ") and body
        writes = write_calls(proc.popen.pid) - before
    # Two writes per response before the change (2 x REQUESTS); one now, and a few to spare.
    assert writes <= REQUESTS + 10, f"{writes} writes for {REQUESTS} responses"


def test_a_head_response_is_sent_whole_and_the_connection_goes_on(proc: ServeProcess) -> None:
    with connect(proc) as sock:
        buffer = bytearray()
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head, _ = read_response(sock, buffer, head_only=True)
        assert head.startswith(b"HTTP/1.1 200 ") and b"content-length:" in head.lower()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head, body = read_response(sock, buffer)
        assert head.startswith(b"HTTP/1.1 200 ") and body
        assert not buffer


def test_100_continue_goes_out_before_the_body_is_sent(proc: ServeProcess) -> None:
    body = b"UniqueName=plugin-continued"
    auth = base64.b64encode(f"{SID}:{TOKEN}".encode())
    with connect(proc) as sock:
        buffer = bytearray()
        sock.sendall(
            b"POST /v1/PluginService/Plugins HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + auth
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        interim, _ = read_response(sock, buffer)  # the server asks for the body, and waits for it
        assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
        sock.sendall(body)
        head, created = read_response(sock, buffer)
        assert head.startswith(b"HTTP/1.1 201 "), head + created
        assert b'"unique_name":"plugin-continued"' in created.replace(b" ", b"")
