"""Authentication refusals and per-account rate limiting, each in the vendor's error shape."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flexplugins.config import Settings
from flexplugins.service import accounts
from tests.conftest import Credentials, LiveServer, start_server
from tests.openapi import assert_error

API = "/v1/PluginService"


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def test_refused_credentials(server: LiveServer, account: Credentials, other_account: Credentials) -> None:
    plugin = httpx.post(
        server.url + f"{API}/Plugins", data={"UniqueName": "guarded"}, auth=(account.sid, account.token)
    )
    assert plugin.status_code == 201
    headers: list[dict[str, str]] = [
        {},  # missing
        {"Authorization": ""},
        {"Authorization": "Basic"},
        {"Authorization": "Bearer " + account.token},
        {"Authorization": "Digest username=x"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": _basic(account.sid.encode())},  # no colon
        {"Authorization": _basic(b"\xff\xfe:\xff")},  # not UTF-8
        {"Authorization": _basic(f"{account.sid}:".encode())},  # empty token
        {"Authorization": _basic(f"{account.sid}:{account.token[:-1]}".encode())},  # wrong token
        {"Authorization": _basic(f"{account.sid}:{other_account.token}".encode())},  # another account's token
        {"Authorization": _basic(f"{account.sid.lower()}x:{account.token}".encode())},
        {"Authorization": _basic(f"AC{'0' * 32}:{account.token}".encode())},  # no such account
        {"Authorization": _basic(f"SK{'0' * 32}:{account.token}".encode())},  # no such key
        {"Authorization": _basic(f"{account.sid}:{account.token}\x00".encode())},
        {"Authorization": _basic(("x" * 5000 + ":" + "y" * 5000).encode())},
    ]
    for header in headers:
        for method, path in (("GET", f"{API}/Plugins/guarded"), ("POST", f"{API}/Plugins")):
            response = httpx.request(
                method, server.url + path, headers=header, data={"UniqueName": "intruder"}
            )
            assert_error(response, 401, 20003)
    # Nothing was written, and another account's valid credentials see nothing (404, not 403).
    other = (other_account.sid, other_account.token)
    assert_error(httpx.get(server.url + f"{API}/Plugins/guarded", auth=other), 404, 20404)
    mine = httpx.get(server.url + f"{API}/Plugins", auth=(account.sid, account.token)).json()["plugins"]
    assert [p["unique_name"] for p in mine] == ["guarded"]


def test_credentials_are_compared_in_constant_time(
    server: LiveServer, account: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known and unknown SIDs, right and wrong secrets: every check goes through hmac.compare_digest."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(accounts.hmac, "compare_digest", spy)
    for username, password in (
        (account.sid, account.token),
        (account.sid, "wrong"),
        ("AC" + "f" * 32, "wrong"),
        ("SK" + "f" * 32, "wrong"),
        ("nobody", "wrong"),
    ):
        calls.clear()
        accounts.verify(server.db, username, password)
        assert len(calls) == 1, (username, calls)
        assert all(len(a) == len(b) == 64 for a, b in calls)  # digests, never the raw secrets


@pytest.fixture
def limited(database_url: str, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=database_url, data_dir=tmp_path, rate_limit=5.0)
    yield from (live.url for live in start_server(settings))


def test_rate_limit_gives_429_per_account(limited: str, server: LiveServer, account: Credentials) -> None:
    other, other_token = accounts.create_account(server.db)
    with httpx.Client(base_url=limited, auth=(account.sid, account.token)) as http:
        statuses = [http.get(f"{API}/Plugins").status_code for _ in range(30)]
        assert statuses.count(200) >= 5 and 429 in statuses, statuses
        assert_error(http.get(f"{API}/Plugins"), 429, 20429)
        refused_write = http.post(f"{API}/Plugins", data={"UniqueName": "limited"})
        assert_error(refused_write, 429, 20429)
    # The bucket is per account: another account is not held back.
    assert httpx.get(limited + f"{API}/Plugins", auth=(other.sid, other_token)).status_code == 200
    # And nothing was written by the refused request (asked of the unlimited server).
    listed = httpx.get(server.url + f"{API}/Plugins", auth=(account.sid, account.token)).json()["plugins"]
    assert listed == []


def test_rate_limit_is_off_by_default(http: httpx.Client) -> None:
    statuses = {http.get(f"{API}/Plugins").status_code for _ in range(100)}
    assert statuses == {200}
