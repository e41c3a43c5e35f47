"""Failed authentication is throttled per client address and per account, with the defaults on.

Clients come from distinct loopback addresses (127.0.0.0/8 is all loopback on Linux), so one test
server sees guessers and honest clients as different sources, as it would on a network.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from flexplugins.api.throttle import client_address
from flexplugins.config import Settings
from flexplugins.service import accounts
from tests.conftest import Credentials, LiveServer, start_server
from tests.openapi import assert_error

API = "/v1/PluginService"
DEFAULTS = Settings(database_url="sqlite://")
_addresses = count(2)


def fresh_address() -> str:
    """A loopback address no other client of this test module has used."""
    n = next(_addresses)
    return f"127.0.{n // 250}.{n % 250 + 2}"


def client(url: str, address: str, **kwargs: object) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        transport=httpx.HTTPTransport(local_address=address),
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def guarded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the default limits (the shared test server has them off)."""
    settings = Settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("throttle"))
    assert settings.failed_auth_per_address == 10 and settings.failed_auth_per_account == 100
    yield from start_server(settings)


@pytest.fixture(scope="module")
def slow_refill(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The default allowances, refilled over an hour instead of a minute: nothing refills mid-test."""
    settings = Settings(
        database_url=database_url, data_dir=tmp_path_factory.mktemp("slow"), failed_auth_window_seconds=3600
    )
    yield from start_server(settings)


@pytest.fixture
def victim(guarded: LiveServer) -> Credentials:
    created, token = accounts.create_account(guarded.db)
    return Credentials(created.sid, token)


def test_api_guesses_back_off_per_address_and_the_real_owner_still_gets_in(
    guarded: LiveServer, victim: Credentials
) -> None:
    attacker = fresh_address()
    started = time.monotonic()
    statuses = []
    with client(guarded.url, attacker) as http:
        for n in range(60):
            response = http.get(f"{API}/Plugins", auth=(victim.sid, f"guess-{n:040d}"))
            statuses.append(response.status_code)
        elapsed = time.monotonic() - started
        assert elapsed < 30
        # The default allowance of guesses is checked (plus what refilled meanwhile, one per
        # window/allowance seconds); every later one is refused unchecked.
        limit = DEFAULTS.failed_auth_per_address
        refilled = int(elapsed * limit / DEFAULTS.failed_auth_window_seconds)
        assert statuses[:limit] == [401] * limit and statuses.count(401) <= limit + refilled, statuses
        assert statuses.count(429) >= len(statuses) - limit - refilled
        refused = http.post(f"{API}/Plugins", auth=(victim.sid, "guess"), data={"UniqueName": "x"})
        assert_error(refused, 429, 20429)
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= DEFAULTS.failed_auth_window_seconds
        # The right token from the throttled address is not even checked: the guesser learns nothing.
        assert_error(http.get(f"{API}/Plugins", auth=(victim.sid, victim.token)), 429, 20429)
    # The owner, from anywhere else, is not locked out.
    with client(guarded.url, fresh_address(), auth=(victim.sid, victim.token)) as owner:
        assert owner.get(f"{API}/Plugins").status_code == 200
        assert owner.post(f"{API}/Plugins", data={"UniqueName": "mine"}).status_code == 201


def test_console_sign_in_guesses_back_off_the_same_way(guarded: LiveServer, victim: Credentials) -> None:
    def sign_in(browser: httpx.Client, secret: str) -> httpx.Response:
        login = browser.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf, login.text
        return browser.post(
            "/console/login", data={"csrf": csrf.group(1), "sid": victim.sid, "secret": secret}
        )

    with client(guarded.url, fresh_address(), follow_redirects=False) as attacker:
        started = time.monotonic()
        statuses = [sign_in(attacker, f"guess-{n}").status_code for n in range(25)]
        limit = DEFAULTS.failed_auth_per_address
        refilled = int((time.monotonic() - started) * limit / DEFAULTS.failed_auth_window_seconds)
        assert statuses[:limit] == [401] * limit and statuses.count(401) <= limit + refilled, statuses
        refused = sign_in(attacker, victim.token)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "20429" in refused.text and "flexplugins_console=" not in refused.headers.get("set-cookie", "")
    with client(guarded.url, fresh_address(), follow_redirects=False) as owner:
        assert sign_in(owner, victim.token).status_code == 303


def test_a_spread_out_attack_on_one_account_gets_one_guess_per_address(
    slow_refill: LiveServer,
) -> None:
    """Past the per-account allowance, an address that fails against the account is throttled at once."""
    created, token = accounts.create_account(slow_refill.db)
    victim = Credentials(created.sid, token)
    checked = 0
    while checked < DEFAULTS.failed_auth_per_account:  # the whole allowance, each bot under its own
        with client(slow_refill.url, fresh_address()) as bot:
            for n in range(
                min(DEFAULTS.failed_auth_per_address - 1, DEFAULTS.failed_auth_per_account - checked)
            ):
                assert bot.get(f"{API}/Plugins", auth=(victim.sid, f"g{n}")).status_code == 401
                checked += 1
    for _ in range(5):
        with client(slow_refill.url, fresh_address()) as bot:
            assert bot.get(f"{API}/Plugins", auth=(victim.sid, "one-guess")).status_code == 401
            assert_error(bot.get(f"{API}/Plugins", auth=(victim.sid, "second-guess")), 429, 20429)
    # Other accounts are not under attack, and the victim's owner still gets in from a clean address.
    other, other_token = accounts.create_account(slow_refill.db)
    with client(slow_refill.url, fresh_address()) as somebody:
        assert somebody.get(f"{API}/Plugins", auth=(other.sid, "typo")).status_code == 401
        assert somebody.get(f"{API}/Plugins", auth=(other.sid, other_token)).status_code == 200
    with client(slow_refill.url, fresh_address(), auth=(victim.sid, victim.token)) as owner:
        assert owner.get(f"{API}/Plugins").status_code == 200


def test_verified_requests_are_not_counted(guarded: LiveServer, victim: Credentials) -> None:
    with client(guarded.url, fresh_address(), auth=(victim.sid, victim.token)) as owner:
        statuses = {
            owner.get(f"{API}/Plugins").status_code for _ in range(3 * DEFAULTS.failed_auth_per_address)
        }
        assert statuses == {200}
        # A request without credentials is no guess either (a browser asks before it sends them).
        for _ in range(3 * DEFAULTS.failed_auth_per_address):
            assert httpx.get(guarded.url + f"{API}/Plugins").status_code == 401


def _address_of(host: str) -> str:
    return client_address(Request({"type": "http", "client": (host, 1234), "headers": []}))


def test_ipv6_clients_are_counted_by_their_slash_64() -> None:
    assert _address_of("2001:db8:1:2:aaaa::1") == _address_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert _address_of("2001:db8:1:3::1") != _address_of("2001:db8:1:2::1")
    assert _address_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert _address_of("192.0.2.7") != _address_of("192.0.2.8")


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLEXPLUGINS_FAILED_AUTH_PER_ADDRESS", "3")
    monkeypatch.setenv("FLEXPLUGINS_FAILED_AUTH_PER_ACCOUNT", "0")
    monkeypatch.setenv("FLEXPLUGINS_FAILED_AUTH_WINDOW_SECONDS", "5")
    settings = Settings.from_env(data_dir=tmp_path)
    assert (settings.failed_auth_per_address, settings.failed_auth_per_account) == (3, 0)
    assert settings.failed_auth_window_seconds == 5.0
