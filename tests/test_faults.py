"""Faults: a server killed mid-write loses nothing acknowledged; a database that goes away gives fast
503s and the server recovers by itself; a full or read-only SQLite gives a clear error, not a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexplugins.service import accounts
from flexplugins.storage.db import Database
from tests.conftest import BACKENDS, Credentials, LiveServer, free_port
from tests.openapi import assert_error
from tests.serving import ServeProcess, serve, spawn

API = "/v1/PluginService"


# --- kill -9 in the middle of a write load ------------------------------------------------------


def test_kill_9_during_writes_loses_nothing_acknowledged(
    server: LiveServer, database_url: str, account: Credentials, tmp_path: Path
) -> None:
    proc = serve(database_url, tmp_path)
    auth = (account.sid, account.token)
    with httpx.Client(base_url=proc.url, auth=auth, timeout=10) as http:
        versions = []
        for i in range(5):
            plugin = http.post(f"{API}/Plugins", data={"UniqueName": f"base-{i}"}).json()
            versions.append(
                http.post(
                    f"{API}/Plugins/{plugin['sid']}/Versions",
                    data={"Version": "1.0.0", "PluginUrl": f"https://cdn.example.com/{i}.js"},
                ).json()["sid"]
            )

    acknowledged: list[tuple[str, dict[str, Any]]] = []  # (fetch path, body answered with 201)
    configured: dict[str, list[str]] = {}  # configuration SID -> plugin version SIDs sent
    stop = threading.Event()
    lock = threading.Lock()

    def writer(t: int) -> None:
        with httpx.Client(base_url=proc.url, auth=auth, timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = client.post(
                        f"{API}/Plugins", data={"UniqueName": f"w{t}-{n}", "Description": "d" * 400}
                    )
                    if r.status_code == 201:
                        with lock:
                            acknowledged.append((f"{API}/Plugins/{r.json()['sid']}", r.json()))
                        v = client.post(
                            f"{API}/Plugins/{r.json()['sid']}/Versions",
                            data={"Version": f"2.{n}.0", "PluginUrl": "https://cdn.example.com/x.js"},
                        )
                        if v.status_code == 201:
                            with lock:
                                acknowledged.append(
                                    (f"{API}/Plugins/{r.json()['sid']}/Versions/{v.json()['sid']}", v.json())
                                )
                    size = 1 + n % len(versions)
                    chosen = versions[:size]
                    c = client.post(
                        f"{API}/Configurations",
                        data={
                            "Name": f"k{size}-{t}-{n}",
                            "Plugins": [
                                json.dumps({"plugin_version": sid, "phase": p})
                                for p, sid in enumerate(chosen)
                            ],
                        },
                    )
                    if c.status_code == 201:
                        with lock:
                            acknowledged.append((f"{API}/Configurations/{c.json()['sid']}", c.json()))
                            configured[c.json()["sid"]] = chosen
                        rel = client.post(f"{API}/Releases", data={"ConfigurationId": c.json()["sid"]})
                        if rel.status_code == 201:
                            with lock:
                                acknowledged.append((f"{API}/Releases/{rel.json()['sid']}", rel.json()))
                except httpx.HTTPError:
                    time.sleep(0.01)  # the server is gone; keep trying until told to stop

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    proc.kill9()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert len(acknowledged) > 20, "the write load did not get going before the kill"

    restarted = serve(database_url, tmp_path)
    try:
        with httpx.Client(base_url=restarted.url, auth=auth, timeout=10) as http:
            for path, body in acknowledged:
                response = http.get(path)
                assert response.status_code == 200, (path, response.text)
                found = response.json()
                for key in ("links", "url"):
                    found.pop(key, None)
                    body = {k: v for k, v in body.items() if k != key}
                assert found == body, path
            # Every configuration there is complete: acknowledged or not, it has all its plugins or none.
            listed = http.get(f"{API}/Configurations", params={"PageSize": 1000}).json()["configurations"]
            for configuration in listed:
                held = http.get(f"{API}/Configurations/{configuration['sid']}/Plugins").json()["plugins"]
                expected = int(configuration["name"].split("-")[0][1:])
                assert len(held) == expected, configuration
                if configuration["sid"] in configured:
                    assert sorted(p["plugin_version_sid"] for p in held) == sorted(
                        configured[configuration["sid"]]
                    )
            releases = http.get(f"{API}/Releases", params={"PageSize": 1000}).json()["releases"]
            if releases:
                assert http.get(f"{API}/Releases/Active").json()["sid"] == releases[0]["sid"]
    finally:
        restarted.stop()


# --- PostgreSQL goes away and comes back --------------------------------------------------------


def _pg_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class Cluster:
    """A throwaway PostgreSQL cluster on its own port; never the shared one on 5432."""

    def __init__(self, bindir: Path, root: Path, port: int, as_user: list[str]) -> None:
        self.bindir, self.root, self.port, self.as_user = bindir, root, port, as_user
        self.data = root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def throwaway_postgres() -> Iterator[Cluster]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="fp-pgfault-", dir="/tmp"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user to run a throwaway cluster")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(bindir, root, free_port(), as_user)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _timed(client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.request(method, path, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not among the tested backends")
def test_postgresql_outage_gives_fast_503_and_recovers(throwaway_postgres: Cluster, tmp_path: Path) -> None:
    db = Database(throwaway_postgres.url)
    db.upgrade()
    account, token = accounts.create_account(db)
    db.dispose()
    proc = serve(throwaway_postgres.url, tmp_path)
    try:
        with httpx.Client(base_url=proc.url, auth=(account.sid, token), timeout=30) as http:
            plugin = http.post(f"{API}/Plugins", data={"UniqueName": "survivor"})
            assert plugin.status_code == 201
            assert http.get(f"{API}/Plugins/survivor").status_code == 200

            throwaway_postgres.stop()
            requests: list[tuple[str, str, dict[str, Any]]] = [
                ("GET", f"{API}/Plugins/survivor", {}),
                ("GET", f"{API}/Plugins", {}),
                ("POST", f"{API}/Plugins", {"data": {"UniqueName": "during-outage"}}),
                ("GET", f"{API}/Releases/Active", {}),
                ("GET", "/healthz", {}),
            ]
            for method, path, kwargs in requests * 2:
                response, elapsed = _timed(http, method, path, **kwargs)
                assert_error(response, 503, 20503)
                assert elapsed < 5, f"{method} {path} took {elapsed:.1f} s while the database was down"
            # Credentials the server has not seen yet: still a 503, not a 401.
            other = httpx.get(proc.url + f"{API}/Plugins", auth=("AC" + "0" * 32, "x" * 32), timeout=30)
            assert_error(other, 503, 20503)

            throwaway_postgres.start()
            deadline = time.monotonic() + 30
            while True:
                response = http.get(f"{API}/Plugins/survivor")
                if response.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert response.status_code == 200, response.text
            assert proc.popen.poll() is None, "the server restarted"
            created = http.post(f"{API}/Plugins", data={"UniqueName": "after-outage"})
            assert created.status_code == 201, created.text
            assert http.get(f"{API}/Plugins/during-outage").status_code == 404
            assert http.get("/healthz").status_code == 200
    finally:
        proc.stop()


# --- SQLite: full disk, read-only file ----------------------------------------------------------


@contextlib.contextmanager
def _mounted(*args: str) -> Iterator[None]:
    target = args[-1]
    result = subprocess.run(["mount", *args], capture_output=True, timeout=30)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.decode(errors='replace').strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], capture_output=True, timeout=30)


def _sqlite_account(url: str) -> tuple[str, str]:
    db = Database(url)
    db.upgrade()
    account, token = accounts.create_account(db)
    db.dispose()
    return account.sid, token


@pytest.mark.skipif("sqlite" not in BACKENDS, reason="SQLite is not among the tested backends")
def test_sqlite_full_disk_gives_clear_503_and_keeps_serving_reads(tmp_path: Path) -> None:
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    disk = tmp_path / "small-disk"
    disk.mkdir()
    with _mounted("-t", "tmpfs", "-o", "size=700k", "tmpfs", str(disk)):
        url = f"sqlite:///{disk / 'flexplugins.db'}"
        sid, token = _sqlite_account(url)
        proc = serve(url, tmp_path)
        try:
            with httpx.Client(base_url=proc.url, auth=(sid, token), timeout=30) as http:
                created: list[str] = []
                refused = None
                for i in range(400):
                    response, elapsed = _timed(
                        http, "POST", f"{API}/Plugins", data={"UniqueName": f"p{i}", "Description": "x" * 500}
                    )
                    assert elapsed < 5, f"a write took {elapsed:.1f} s on a full disk"
                    if response.status_code != 201:
                        refused = (i, response)
                        break
                    created.append(response.json()["sid"])
                assert refused is not None, "the disk never filled up"
                index, response = refused
                body = assert_error(response, 503, 20503)
                assert "disk is full" in body["message"]
                # Nothing half-written, and reads still work.
                assert_error(http.get(f"{API}/Plugins/p{index}"), 404, 20404)
                assert http.get(f"{API}/Plugins/{created[0]}").status_code == 200
                response, elapsed = _timed(http, "POST", f"{API}/Plugins", data={"UniqueName": "again"})
                assert_error(response, 503, 20503)
                assert elapsed < 5
        finally:
            proc.stop()


@pytest.mark.skipif("sqlite" not in BACKENDS, reason="SQLite is not among the tested backends")
def test_sqlite_read_only_database_fails_clearly_at_start(tmp_path: Path) -> None:
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    source = tmp_path / "db"
    source.mkdir()
    _sqlite_account(f"sqlite:///{source / 'flexplugins.db'}")
    view = tmp_path / "read-only"
    view.mkdir()
    with _mounted("--bind", str(source), str(view)), _mounted("-o", "remount,ro,bind", str(view)):
        proc: ServeProcess = spawn(f"sqlite:///{view / 'flexplugins.db'}", tmp_path)
        try:
            proc.popen.wait(20)
        except subprocess.TimeoutExpired:
            pytest.fail("flexplugins serve hung on a read-only database")
        finally:
            proc.stop()
        output = proc.output()
        assert proc.popen.returncode != 0
        assert "Traceback" not in output, output
        assert "read-only" in output and str(view / "flexplugins.db") in output, output
