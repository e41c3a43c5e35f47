"""Bundles are streamed: slow readers of a large bundle do not hold it in the server's memory.

The attack: 20 anonymous clients ask for a 20 MiB bundle and read it slowly; the server loaded
the whole bundle per request and kept it until the client had read it (about 1 GiB resident).
Measured on a real `flexplugins serve` process (its resident set, from /proc), both databases.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import httpx

from flexplugins.domain.model import Principal
from flexplugins.service import accounts, bundles
from flexplugins.storage.db import Database
from tests.serving import ServeProcess, serve

READERS = 20
SIZE = 20 * 1024 * 1024 - 100
# Resident memory the server may gain while the readers are mid-stream. Holding the bundle once
# per reader would take READERS x 20 MiB = 400 MiB.
BOUND = 64 * 1024 * 1024
HOLD_SECONDS = 5.0


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _bundle_bytes() -> bytes:
    # JavaScript that compresses about as well as a minified bundle (not a run of one byte).
    lines = []
    total = 0
    seed = hashlib.sha256(b"bundle").digest()
    while total < SIZE:
        seed = hashlib.sha256(seed).digest()
        lines.append(f"var v{len(lines)}='{seed.hex()}{seed.hex()[::-1]}';\n")
        total += len(lines[-1])
    data = "".join(lines).encode()[:SIZE]
    return data[:-1] + b"\n"


def _slow_reader(port: int, path: str, stop: threading.Event, seen: list[int]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        got = 0
        while not stop.is_set() and got < 2 * 1024 * 1024:
            chunk = sock.recv(16 * 1024)
            if not chunk:
                break
            got += len(chunk)
            time.sleep(0.02)
        seen.append(got)


def _measure(proc: ServeProcess, path: str, data: bytes) -> None:
    """A full read is correct; then READERS slow readers hold the server's memory within BOUND."""
    port = int(proc.url.rsplit(":", 1)[1])
    # A full read is correct, and leaves the process as warm as it will be.
    whole = httpx.get(proc.url + path, timeout=60)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.content).digest() == hashlib.sha256(data).digest()
    assert int(whole.headers["content-length"]) == len(data)
    del whole
    head = httpx.head(proc.url + path, timeout=10)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)
    time.sleep(0.5)
    baseline = _rss(proc.popen.pid)

    stop = threading.Event()
    seen: list[int] = []
    threads = [
        threading.Thread(target=_slow_reader, args=(port, path, stop, seen), daemon=True)
        for _ in range(READERS)
    ]
    for thread in threads:
        thread.start()
    peak = baseline
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        peak = max(peak, _rss(proc.popen.pid))
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(seen) == READERS and min(seen) > 0, seen
    grown = peak - baseline
    assert grown < BOUND, f"resident memory grew by {grown / 2**20:.0f} MiB (bound {BOUND / 2**20:.0f} MiB)"
    # Nothing was left behind: the server still answers.
    assert httpx.get(proc.url + "/healthz", timeout=10).status_code == 200
    if os.environ.get("FLEXPLUGINS_TEST_VERBOSE"):
        print(f"{path[:40]}: baseline {baseline / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB")


def test_twenty_slow_readers_of_a_20_mib_bundle_keep_memory_flat(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.upgrade()
    account, _token = accounts.create_account(db)
    data = _bundle_bytes()
    info, _ = bundles.upload(
        db, Principal(account.sid, account.sid), data, "application/javascript", SIZE + 1
    )
    db.dispose()
    proc = serve(database_url, tmp_path)
    try:
        _measure(proc, bundles.path_of(account.sid, info.sha256), data)
    finally:
        proc.stop()


def test_twenty_slow_readers_of_a_20_mib_hosted_asset_keep_memory_flat(
    database_url: str, tmp_path: Path
) -> None:
    """The same bytes deployed as a Public Serverless asset, read at its environment's direct URL."""
    from tests.vendor.test_hosting import deploy

    db = Database(database_url)
    db.upgrade()
    account, token = accounts.create_account(db)
    db.dispose()
    data = _bundle_bytes()
    proc = serve(database_url, tmp_path)
    try:
        with httpx.Client(base_url=proc.url, auth=(account.sid, token), timeout=120) as http:
            asset_path = "/plugins/plugin-big/1.0.0/bundle.js"
            deployed = deploy(http, {asset_path: (data, "application/javascript", "Public")})
        domain = deployed["environment"]["domain_name"]
        _measure(proc, f"/serverless/assets/{domain}{asset_path}", data)
    finally:
        proc.stop()
