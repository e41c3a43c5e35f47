"""Auth tokens: rotation (the old token refused on every server process, the account's console
sessions ended), `serve` refusing a TWILIO_AUTH_TOKEN that is not the account's, and weak tokens."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flexplugins.domain.errors import ApiError
from flexplugins.domain.rules import chosen_secret
from flexplugins.service.accounts import digest
from flexplugins.storage import accounts as store
from flexplugins.storage.db import Database, now
from tests.conftest import make_database_url
from tests.openapi import assert_error
from tests.serving import serve

FLEXPLUGINS = [sys.executable, "-m", "flexplugins.cli.main"]
API = "/v1/PluginService"
CACHE_SECONDS = 1.0


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    yield from make_database_url(backend, tmp_path, pg_available)


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLEXPLUGINS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def console_sign_in(url: str, sid: str, token: str) -> httpx.Client:
    browser = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    login = browser.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf, login.text
    answer = browser.post("/console/login", data={"csrf": csrf.group(1), "sid": sid, "secret": token})
    assert answer.status_code == 303, answer.text
    assert browser.get("/console/plugins").status_code == 200
    return browser


def test_rotate_token_refuses_the_old_token_on_every_process_and_ends_console_sessions(
    fresh_database: str, tmp_path: Path
) -> None:
    assert run("db", "upgrade", "--database", fresh_database).returncode == 0
    created = run("accounts", "create", "--database", fresh_database)
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    sid, old = account["account_sid"], account["auth_token"]
    env = {"FLEXPLUGINS_AUTH_CACHE_SECONDS": str(CACHE_SECONDS)}
    first = serve(fresh_database, tmp_path, env=env)
    second = serve(fresh_database, tmp_path, env=env)
    try:
        servers = [first.url, second.url]
        for url in servers:  # the old token verified (and cached) on both processes
            assert httpx.get(url + f"{API}/Plugins", auth=(sid, old)).status_code == 200
        browsers = [console_sign_in(url, sid, old) for url in servers]
        with contextlib.ExitStack() as stack:
            for browser in browsers:
                stack.callback(browser.close)
            rotated = run("accounts", "rotate-token", "--account", sid, "--database", fresh_database)
            assert rotated.returncode == 0, rotated.stderr
            answer = json.loads(rotated.stdout)
            assert set(answer) == {"account_sid", "auth_token"} and answer["account_sid"] == sid
            new = answer["auth_token"]
            assert new != old and chosen_secret("auth token", new) == new
            # The console sessions end at once; the old token within the auth cache time.
            for browser in browsers:
                moved = browser.get("/console/plugins")
                assert moved.status_code == 303 and moved.headers["location"].startswith("/console/login")
            deadline = time.monotonic() + CACHE_SECONDS + 3
            for url in servers:
                while (refused := httpx.get(url + f"{API}/Plugins", auth=(sid, old))).status_code == 200:
                    assert time.monotonic() < deadline, "the old token outlived the auth cache"
                    time.sleep(0.1)
                assert_error(refused, 401, 20003)
                assert httpx.get(url + f"{API}/Plugins", auth=(sid, new)).status_code == 200
    finally:
        first.stop()
        second.stop()
    for bad in ("AC" + "0" * 32, "nope"):
        refused_rotation = run("accounts", "rotate-token", "--account", bad, "--database", fresh_database)
        assert refused_rotation.returncode == 1 and "Traceback" not in refused_rotation.stderr
        assert "auth_token" not in refused_rotation.stdout


def test_serve_refuses_a_token_that_is_not_the_stored_one(fresh_database: str, tmp_path: Path) -> None:
    assert run("db", "upgrade", "--database", fresh_database).returncode == 0
    account = json.loads(run("accounts", "create", "--database", fresh_database).stdout)
    other = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c"
    data = str(tmp_path / "data")
    env = {
        "TWILIO_ACCOUNT_SID": account["account_sid"],
        "TWILIO_AUTH_TOKEN": other,
        "FLEXPLUGINS_DATA_DIR": data,
    }
    refused = run("serve", "--port", "0", "--database", fresh_database, env=env, timeout=20)
    assert refused.returncode == 1
    assert refused.stderr.count("TWILIO_AUTH_TOKEN is not the auth token of account") == 1, refused.stderr
    assert "rotate-token" in refused.stderr and other not in refused.stderr + refused.stdout
    # Nothing changed: the stored token still works, the offered one does not.
    proc = serve(fresh_database, tmp_path)
    try:
        url = proc.url + f"{API}/Plugins"
        assert httpx.get(url, auth=(account["account_sid"], account["auth_token"])).status_code == 200
        assert httpx.get(url, auth=(account["account_sid"], other)).status_code == 401
    finally:
        proc.stop()


@pytest.mark.parametrize(
    "token",
    [
        "change-me-to-a-long-secret",  # under 32 characters
        "a" * 40,  # one character
        "abcd" * 10,  # a short string repeated
        "abcdefghijklmnopqrstuvwxyz012345",  # a sequence
    ],
)
def test_serve_refuses_an_obviously_weak_chosen_token(
    token: str, fresh_database: str, tmp_path: Path
) -> None:
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "5e1f" * 8,
        "TWILIO_AUTH_TOKEN": token,
        "FLEXPLUGINS_DATA_DIR": str(tmp_path / "data"),
    }
    refused = run("serve", "--port", "0", "--database", fresh_database, env=env, timeout=20)
    assert refused.returncode == 1, refused.stderr
    assert "TWILIO_AUTH_TOKEN" in refused.stderr and "Traceback" not in refused.stderr
    assert run("accounts", "list", "--database", fresh_database).stdout.strip() == ""


def test_the_weak_token_rule() -> None:
    for weak in (
        "",
        "x" * 31,
        "x" * 129,
        "0" * 32,
        "ab" * 20,
        "0123456789" * 4,
        "zyxwvutsrqponmlkjihgfedcba987654",
    ):
        with pytest.raises(ApiError) as refused:
            chosen_secret("TWILIO_AUTH_TOKEN", weak)
        assert refused.value.status == 400 and "TWILIO_AUTH_TOKEN" in refused.value.message
    with pytest.raises(ApiError):
        chosen_secret("TWILIO_AUTH_TOKEN", "a token with spaces that is long enough")
    for fine in ("3b1f9e0c7a2d4f6e8b0a1c3e5d7f9a2b", "my-deploy-token_4Kq9xZ2mW7vR3tB8nL5p"):
        assert chosen_secret("TWILIO_AUTH_TOKEN", fine) == fine


def test_serve_warns_once_about_a_weak_token_already_in_use(fresh_database: str, tmp_path: Path) -> None:
    """An account made by an older release with a token that would now be refused keeps working."""
    sid, weak = "AC" + "7a3c" * 8, "short-old-token-1"
    db = Database(fresh_database)
    try:
        db.upgrade()
        with db.write() as conn:
            store.insert_account(conn, sid, "old", digest(weak), now())
    finally:
        db.dispose()
    proc = serve(fresh_database, tmp_path, env={"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": weak})
    try:
        assert httpx.get(proc.url + f"{API}/Plugins", auth=(sid, weak)).status_code == 200
    finally:
        proc.stop()
    output = proc.output()
    assert output.count("is weak") == 1 and f"rotate-token --account {sid}" in output and weak not in output
