"""The server's own commands: serve (with its first account), accounts, keys, db."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, make_database_url

FLEXPLUGINS = [sys.executable, "-m", "flexplugins.cli.main"]


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    yield from make_database_url(backend, tmp_path, pg_available)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEXPLUGINS, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def serve(database: str, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*FLEXPLUGINS, "serve", "--port", str(port), "--database", database, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not start: {process.communicate()}")


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.terminate()
    return process.communicate(timeout=20)


def test_serve_creates_the_account_from_the_usual_variables(fresh_database: str) -> None:
    sid, token = "AC" + "1234abcd" * 4, "a-token-of-my-choosing-7f3e9c41d2b8a605"
    port = free_port()
    env = {"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token}
    process = serve(fresh_database, port, env)
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/PluginService/Plugins",
            auth=(sid, token),
            data={"UniqueName": "from-env"},
        )
        assert created.status_code == 201 and created.json()["account_sid"] == sid
    finally:
        stop(process)
    # A restart on the same database keeps the account and the data, and creates nothing new.
    process = serve(fresh_database, port, env)
    try:
        fetched = httpx.get(f"http://127.0.0.1:{port}/v1/PluginService/Plugins/from-env", auth=(sid, token))
        assert fetched.status_code == 200
    finally:
        out, _ = stop(process)
    assert "auth_token" not in out
    listed = run("accounts", "list", "--database", fresh_database)
    assert [json.loads(line)["account_sid"] for line in listed.stdout.splitlines()] == [sid]


def test_serve_on_an_empty_database_prints_a_new_account_once(fresh_database: str) -> None:
    port = free_port()
    env = {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    process = serve(fresh_database, port, env)
    try:
        time.sleep(0.2)
    finally:
        out, _ = stop(process)
    first = json.loads(out.strip().splitlines()[0])
    assert first["account_sid"].startswith("AC") and len(first["auth_token"]) == 32
    process = serve(fresh_database, port, env)
    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/PluginService/Plugins",
            auth=(first["account_sid"], first["auth_token"]),
        )
        assert response.status_code == 200
    finally:
        out, _ = stop(process)
    assert out.strip() == ""  # shown only once


def test_accounts_and_keys_commands(fresh_database: str) -> None:
    assert run("db", "upgrade", "--database", fresh_database).returncode == 0
    created = run("accounts", "create", "--database", fresh_database)
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    assert set(account) == {"account_sid", "auth_token"}
    key = run("keys", "create", "--account", account["account_sid"], "--database", fresh_database)
    assert key.returncode == 0, key.stderr
    key_body = json.loads(key.stdout)
    assert key_body["key_sid"].startswith("SK") and key_body["secret"]
    listed = run("keys", "list", "--account", account["account_sid"], "--database", fresh_database)
    assert [json.loads(line)["key_sid"] for line in listed.stdout.splitlines()] == [key_body["key_sid"]]
    assert "secret" not in listed.stdout

    port = free_port()
    process = serve(fresh_database, port, {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    try:
        url = f"http://127.0.0.1:{port}/v1/PluginService/Plugins"
        assert httpx.get(url, auth=(key_body["key_sid"], key_body["secret"])).status_code == 200
        revoked = run(
            "keys",
            "revoke",
            "--account",
            account["account_sid"],
            key_body["key_sid"],
            "--database",
            fresh_database,
        )
        assert revoked.returncode == 0, revoked.stderr
        time.sleep(2.1)  # the verified-credential cache lifetime
        assert httpx.get(url, auth=(key_body["key_sid"], key_body["secret"])).status_code == 401
    finally:
        stop(process)

    unknown = run("keys", "create", "--account", "AC" + "0" * 32, "--database", fresh_database)
    assert unknown.returncode == 1 and "20404" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = run("keys", "create", "--account", "nope", "--database", fresh_database)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_db_commands(fresh_database: str) -> None:
    upgraded = run("db", "upgrade", "--database", fresh_database)
    assert upgraded.returncode == 0, upgraded.stderr
    current = run("db", "current", "--database", fresh_database)
    assert current.stdout.strip() == upgraded.stdout.strip().rsplit(" ", 1)[-1] != "None"
