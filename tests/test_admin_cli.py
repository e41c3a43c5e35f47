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
from click.testing import CliRunner

from flexplugins.cli.main import main
from tests.conftest import PG_ADMIN_URL, free_port, make_database_url

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


# --- a database that is not there ------------------------------------------------------------------

SID = "AC" + "0" * 32
# Every administration command that needs an existing database (all but serve and db upgrade).
NEEDS_A_DATABASE = [
    ("accounts", "create"),
    ("accounts", "list"),
    ("accounts", "rotate-token", "--account", SID),
    ("keys", "create", "--account", SID),
    ("keys", "list", "--account", SID),
    ("keys", "revoke", "--account", SID, "SK" + "0" * 32),
    ("tokens", "create", "--account", SID),
    ("tokens", "list", "--account", SID),
    ("tokens", "revoke", "--account", SID, "SK" + "0" * 32),
    ("db", "current"),
    ("secret-key", "rotate"),
]
NO_URL = {"FLEXPLUGINS_DATABASE_URL": ""}


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command in this process (Click's runner), as fast as the loops over every command need."""
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def one_error_line(done: subprocess.CompletedProcess[str], fragment: str) -> str:
    assert done.returncode == 1, f"{done.args}: {done.stdout}{done.stderr}"
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


def test_admin_commands_refuse_a_missing_sqlite_database_and_create_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    expected = (
        f"error: no database at {data / 'flexplugins.db'}: run `flexplugins serve` or "
        "`flexplugins db upgrade` first"
    )
    for command in NEEDS_A_DATABASE:
        done = invoke(*command, "--data-dir", str(data), env=NO_URL)
        assert one_error_line(done, "no database at") == expected, command
        assert done.stdout == ""
        assert not data.exists(), command
    # The data directory from the environment, and a database named by its URL, likewise.
    done = run("keys", "list", "--account", SID, env={**NO_URL, "FLEXPLUGINS_DATA_DIR": str(data)})
    assert one_error_line(done, "no database at") == expected
    elsewhere = tmp_path / "elsewhere.db"
    done = run("accounts", "list", "--database", f"sqlite:///{elsewhere}")
    one_error_line(done, f"no database at {elsewhere}:")
    assert not elsewhere.exists() and not data.exists()
    # With --json the refusal is also one JSON document on stdout.
    for command in (("accounts", "list"), ("db", "current")):
        done = invoke(*command, "--data-dir", str(data), "--json", env=NO_URL)
        one_error_line(done, "no database at")
        assert json.loads(done.stdout) == {"error": {"message": expected.removeprefix("error: ")}}

    # db upgrade creates it, data directory included (private), and the others then work.
    upgraded = run("db", "upgrade", "--data-dir", str(data), "--json", env=NO_URL)
    assert upgraded.returncode == 0, upgraded.stderr
    revision = json.loads(upgraded.stdout)
    assert revision == {"database": f"sqlite:///{data / 'flexplugins.db'}", "revision": revision["revision"]}
    assert revision["revision"] and (data.stat().st_mode & 0o777) == 0o700
    current = run("db", "current", "--data-dir", str(data), "--json", env=NO_URL)
    assert json.loads(current.stdout) == revision
    assert run("db", "current", "--data-dir", str(data), env=NO_URL).stdout.strip() == revision["revision"]
    account = json.loads(run("accounts", "create", "--data-dir", str(data), env=NO_URL).stdout)
    listed = run("accounts", "list", "--data-dir", str(data), "--json", env=NO_URL)
    assert [item["account_sid"] for item in json.loads(listed.stdout)] == [account["account_sid"]]
    sid = account["account_sid"]
    key = json.loads(run("keys", "create", "--account", sid, "--data-dir", str(data), env=NO_URL).stdout)
    keys = run("keys", "list", "--account", sid, "--data-dir", str(data), "--json", env=NO_URL)
    assert [item["key_sid"] for item in json.loads(keys.stdout)] == [key["key_sid"]]
    tokens = run("tokens", "list", "--account", sid, "--data-dir", str(data), "--json", env=NO_URL)
    assert json.loads(tokens.stdout) == []
    # Without --json a list is still one JSON object a line.
    lines = run("keys", "list", "--account", sid, "--data-dir", str(data), env=NO_URL).stdout.splitlines()
    assert [json.loads(line)["key_sid"] for line in lines] == [key["key_sid"]]


def test_serve_still_creates_its_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    port = free_port()
    process = subprocess.Popen(
        [*FLEXPLUGINS, "serve", "--port", str(port), "--data-dir", str(data), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **NO_URL, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        out, err = stop(process)
    first = json.loads(out.strip().splitlines()[0])
    assert (data / "flexplugins.db").is_file() and (data.stat().st_mode & 0o777) == 0o700, err
    listed = run("accounts", "list", "--data-dir", str(data), env=NO_URL)
    assert [json.loads(line)["account_sid"] for line in listed.stdout.splitlines()] == [first["account_sid"]]


def test_admin_commands_refuse_a_database_never_migrated(fresh_database: str, backend: str) -> None:
    if backend == "sqlite":  # an existing file that is not a flexplugins database (yet)
        Path(fresh_database.removeprefix("sqlite:///")).touch()
    for command in NEEDS_A_DATABASE:
        done = invoke(*command, "--database", fresh_database)
        line = one_error_line(done, "has no flexplugins schema (never migrated)")
        assert line.endswith("run `flexplugins serve` or `flexplugins db upgrade` first"), line
        assert "password" not in line
    upgraded = run("db", "upgrade", "--database", fresh_database)
    assert upgraded.returncode == 0, upgraded.stderr
    assert run("accounts", "list", "--database", fresh_database).returncode == 0


def test_admin_commands_on_a_postgresql_server_that_does_not_answer(pg_available: bool) -> None:
    closed = f"postgresql://flexplugins:secret-password@127.0.0.1:{free_port()}/flexplugins"
    urls = [closed]
    if pg_available:
        urls.append(PG_ADMIN_URL.rsplit("/", 1)[0] + "/no_such_database_here")
    for url in urls:
        for command in [*NEEDS_A_DATABASE, ("db", "upgrade")]:
            line = one_error_line(
                invoke(*command, "--database", url), "error: cannot use the database postgresql"
            )
            assert "secret-password" not in line
        done = run("db", "current", "--database", url, "--json")
        assert json.loads(done.stdout)["error"]["message"].startswith("cannot use the database")
