"""Secrets at rest: a private data directory and SQLite files, and signing keys that a copy of the
database alone cannot reproduce (the server key lives outside it, shared by every process)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
import sqlalchemy as sa

from flexplugins.storage.tables import accounts as accounts_table
from flexplugins.storage.tables import server_secrets
from tests.conftest import Credentials, LiveServer, make_database_url
from tests.serving import ServeProcess, serve, spawn

FLEXPLUGINS = [sys.executable, "-m", "flexplugins.cli.main"]
API = "/v1/PluginService"
NO_KEY = {"FLEXPLUGINS_SECRET_KEY": ""}  # the server key comes from the data directory's file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEXPLUGINS, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are made 0644 and directories 0755 unless asked otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_data_directory_database_wal_and_key_files_are_private(tmp_path: Path, umask_022: None) -> None:
    data = tmp_path / "data"  # made by `db upgrade`
    env = {"FLEXPLUGINS_DATA_DIR": str(data), "FLEXPLUGINS_DATABASE_URL": "", **NO_KEY}
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    created = run("accounts", "create", env=env)
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    database = data / "flexplugins.db"
    assert mode(data) == 0o700 and mode(database) == 0o600

    proc = serve(f"sqlite:///{database}", tmp_path, env=NO_KEY)  # its data directory is tmp/data too
    try:
        auth = (account["account_sid"], account["auth_token"])
        assert httpx.post(proc.url + f"{API}/Plugins", auth=auth, data={"UniqueName": "x"}).status_code == 201
        # The server holds the database open: SQLite's -wal and -shm files exist, made after the start.
        for suffix in ("", "-wal", "-shm"):
            assert mode(Path(f"{database}{suffix}")) == 0o600, suffix
        assert mode(data / "secret.key") == 0o600 and len((data / "secret.key").read_text().strip()) == 64
    finally:
        proc.stop()

    # A database made by an older release (0644, with its WAL) is tightened when next opened.
    old = tmp_path / "old.db"
    assert run("db", "upgrade", "--database", f"sqlite:///{old}", env=NO_KEY).returncode == 0
    holder = sqlite3.connect(old)  # keeps the -wal and -shm files in place
    holder.execute("SELECT * FROM accounts").fetchall()
    try:
        for suffix in ("", "-wal", "-shm"):
            os.chmod(f"{old}{suffix}", 0o644)
        listed = run("accounts", "list", "--database", f"sqlite:///{old}", env=NO_KEY)
        assert listed.returncode == 0, listed.stderr
        for suffix in ("", "-wal", "-shm"):
            assert mode(Path(f"{old}{suffix}")) == 0o600, suffix
    finally:
        holder.close()


def _forged_session(key: bytes, account_sid: str, token_hash: str) -> str:
    """A console cookie signed with a key read from the database, in every shape one has had."""
    fingerprint = hmac.new(key, f"{account_sid}:{token_hash}".encode(), hashlib.sha256).hexdigest()[:32]
    payload = orjson.dumps(
        {"a": account_sid, "c": account_sid, "e": time.time() + 3600, "x": "forged", "f": fingerprint}
    )
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    mac = base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode().rstrip("=")
    return f"{body}.{mac}"


def _forged_page_token(key: bytes, real: str) -> str:
    """The real token's list and direction, another position, signed with a key from the database."""
    body = real.split(".", 1)[0]
    scope, direction, _ = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("|")
    payload = f"{scope}|{direction}|{2**40}".encode()
    mac = base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()[:16]).decode().rstrip("=")
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + mac


def test_a_copy_of_the_database_forges_neither_a_console_session_nor_a_page_token(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    with contextlib.closing(_signed_in(server.url, account.sid, account.token)):
        pass  # the console has signed a session: its keys are in use
    # Everything a reader of the database (a backup, the SQLite file) has.
    with server.db.write_engine.connect() as conn:
        stored = {name: value for name, value in conn.execute(sa.select(server_secrets))}
        token_hash = conn.execute(
            sa.select(accounts_table.c.auth_token_hash).where(accounts_table.c.sid == account.sid)
        ).scalar_one()
    assert stored, "the database holds its half of the signing keys"
    for name in ("A", "B"):
        assert http.post(f"{API}/Plugins", data={"UniqueName": f"p{name}"}).status_code == 201
    listed = http.get(f"{API}/Plugins", params={"PageSize": 1}).json()
    real = parse_qs(urlsplit(listed["meta"]["next_page_url"]).query)["PageToken"][0]
    assert http.get(f"{API}/Plugins", params={"PageSize": 1, "PageToken": real}).status_code == 200
    for value in stored.values():  # a forged cookie is sent to sign in
        with httpx.Client(base_url=server.url, follow_redirects=False) as forger:
            forger.cookies.set(
                "flexplugins_console", _forged_session(value.encode(), account.sid, token_hash)
            )
            page = forger.get("/console/plugins")
            assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    for value in stored.values():
        forged = _forged_page_token(value.encode(), real)
        refused = http.get(f"{API}/Plugins", params={"PageSize": 1, "PageToken": forged})
        assert refused.status_code == 400 and refused.json()["code"] == 20001


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    yield from make_database_url(backend, tmp_path, pg_available)


def _exits(proc: ServeProcess, timeout: float = 30) -> int:
    try:
        return proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise AssertionError(f"the server started with another server key: {proc.output()[-2000:]}") from None


def _signed_in(url: str, sid: str, token: str) -> httpx.Client:
    browser = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/console/login").text)
    assert csrf
    answer = browser.post("/console/login", data={"csrf": csrf.group(1), "sid": sid, "secret": token})
    assert answer.status_code == 303, answer.text
    return browser


def test_every_server_of_a_database_needs_the_same_server_key_and_rotation_replaces_it(
    fresh_database: str, tmp_path: Path
) -> None:
    assert run("db", "upgrade", "--database", fresh_database, env=NO_KEY).returncode == 0
    account = json.loads(run("accounts", "create", "--database", fresh_database, env=NO_KEY).stdout)
    sid, token = account["account_sid"], account["auth_token"]
    host_a, host_b = tmp_path / "a", tmp_path / "b"  # two hosts: data directories host_*/data
    host_a.mkdir()
    host_b.mkdir()
    a = serve(fresh_database, host_a, env=NO_KEY)  # the first start makes the key file
    try:
        key_file = host_a / "data" / "secret.key"
        assert mode(key_file) == 0o600
        stranger = spawn(fresh_database, host_b, env=NO_KEY)
        assert _exits(stranger) == 1
        assert "secret.key" in stranger.output() and "FLEXPLUGINS_SECRET_KEY" in stranger.output()
        (host_b / "data").mkdir(exist_ok=True)
        shutil.copy2(key_file, host_b / "data" / "secret.key")
        b = serve(fresh_database, host_b, env=NO_KEY)
        try:
            with contextlib.closing(_signed_in(a.url, sid, token)) as browser:  # signed in on a, served by b
                cookie = browser.cookies["flexplugins_console"]
                with httpx.Client(base_url=b.url, follow_redirects=False) as other:
                    other.cookies.set("flexplugins_console", cookie)
                    assert other.get("/console/plugins").status_code == 200
        finally:
            b.stop()
    finally:
        a.stop()

    old_key = key_file.read_text()
    rotated = run(
        "secret-key", "rotate", "--database", fresh_database, "--data-dir", str(host_a / "data"), env=NO_KEY
    )
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["console_sessions_ended"] == 1
    assert key_file.read_text() != old_key and mode(key_file) == 0o600
    a = serve(fresh_database, host_a, env=NO_KEY)
    try:
        with httpx.Client(base_url=a.url, follow_redirects=False) as browser:
            browser.cookies.set("flexplugins_console", cookie)
            assert browser.get("/console/plugins").status_code == 303  # the old session is gone
        assert _exits(spawn(fresh_database, host_b, env=NO_KEY)) == 1  # host b still has the old key
        shutil.copy2(key_file, host_b / "data" / "secret.key")
        b = serve(fresh_database, host_b, env=NO_KEY)
        b.stop()
    finally:
        a.stop()
