"""Concurrent writers on several server processes sharing one database cannot corrupt it.

Requests are spread round-robin over the in-thread test server and a `flexplugins serve`
subprocess with two workers, all on the session's database (SQLite in WAL mode allows several
processes on one file; PostgreSQL several hosts), so invariants must hold in the database itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error, assert_valid
from tests.serving import serve

API = "/v1/PluginService"


@pytest.fixture(scope="module")
def server_urls(
    server: LiveServer, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    proc = serve(database_url, tmp_path_factory.mktemp("concurrency"), workers=2)
    try:
        yield [server.url, proc.url]
    finally:
        proc.stop()


@dataclass
class Outcome:
    response: httpx.Response
    sent: float
    received: float


def race(
    urls: list[str], account: Credentials, count: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[Outcome]:
    """Run `count` requests at once (released together by a barrier), spread over the servers."""
    clients = [
        httpx.Client(base_url=urls[i % len(urls)], auth=(account.sid, account.token), timeout=60)
        for i in range(count)
    ]
    for client in clients:  # connect and authenticate first, so the race is the write itself
        client.get("/healthz")
    barrier = threading.Barrier(count)

    def one(i: int) -> Outcome:
        barrier.wait()
        sent = time.monotonic()
        response = send(clients[i], i)
        return Outcome(response, sent, time.monotonic())

    try:
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for client in clients:
            client.close()


def _list_all(http: httpx.Client, path: str, key: str) -> list[dict[str, object]]:
    body = http.get(path, params={"PageSize": 1000}).json()
    assert body["meta"]["next_page_url"] is None
    return list(body[key])


def test_same_unique_name_50_at_once(
    server_urls: list[str], account: Credentials, http: httpx.Client
) -> None:
    outcomes = race(
        server_urls, account, 50, lambda c, i: c.post(f"{API}/Plugins", data={"UniqueName": "raced-plugin"})
    )
    statuses = sorted(o.response.status_code for o in outcomes)
    assert statuses.count(201) == 1, statuses
    for outcome in outcomes:
        if outcome.response.status_code != 201:
            assert_error(outcome.response, 409, 20409)
    created = next(o.response.json() for o in outcomes if o.response.status_code == 201)
    assert_valid("CreatePlugin", 201, created)
    plugins = _list_all(http, f"{API}/Plugins", "plugins")
    assert [p["sid"] for p in plugins if p["unique_name"] == "raced-plugin"] == [created["sid"]]


def test_same_version_50_at_once(server_urls: list[str], account: Credentials, http: httpx.Client) -> None:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "versioned"}).json()

    def send(client: httpx.Client, i: int) -> httpx.Response:
        return client.post(
            f"{API}/Plugins/{plugin['sid']}/Versions",
            data={"Version": "1.0.0", "PluginUrl": f"https://cdn.example.com/{i}/bundle.js"},
        )

    outcomes = race(server_urls, account, 50, send)
    statuses = sorted(o.response.status_code for o in outcomes)
    assert statuses.count(201) == 1, statuses
    for outcome in outcomes:
        if outcome.response.status_code != 201:
            assert_error(outcome.response, 409, 20409)
    created = next(o.response.json() for o in outcomes if o.response.status_code == 201)
    versions = _list_all(http, f"{API}/Plugins/{plugin['sid']}/Versions", "plugin_versions")
    assert [(v["sid"], v["plugin_url"]) for v in versions] == [(created["sid"], created["plugin_url"])]


def test_100_releases_at_once(server_urls: list[str], account: Credentials, http: httpx.Client) -> None:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "released"}).json()
    version = http.post(
        f"{API}/Plugins/{plugin['sid']}/Versions",
        data={"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/bundle.js"},
    ).json()
    entry = json.dumps({"plugin_version": version["sid"], "phase": 3})
    configurations = [
        http.post(f"{API}/Configurations", data={"Name": f"c{i}", "Plugins": entry}).json()["sid"]
        for i in range(100)
    ]
    outcomes = race(
        server_urls,
        account,
        100,
        lambda c, i: c.post(f"{API}/Releases", data={"ConfigurationId": configurations[i]}),
    )
    for outcome in outcomes:
        assert outcome.response.status_code == 201, outcome.response.text
    created = {o.response.json()["sid"]: o for o in outcomes}
    assert len(created) == 100

    listed = _list_all(http, f"{API}/Releases", "releases")
    assert len(listed) == 100 and {r["sid"] for r in listed} == set(created)
    # The order is stable: listed again, and walked page by page, it is the same.
    assert [r["sid"] for r in _list_all(http, f"{API}/Releases", "releases")] == [r["sid"] for r in listed]
    walked: list[str] = []
    url: str | None = f"{API}/Releases?PageSize=7"
    while url:
        page = http.get(url).json()
        walked += [r["sid"] for r in page["releases"]]
        url = page["meta"]["next_page_url"]
    assert walked == [r["sid"] for r in listed]
    # The order is the commit order: a release answered before another was sent is listed after it.
    position = {sid: index for index, sid in enumerate(r["sid"] for r in listed)}
    for a_sid, a in created.items():
        for b_sid, b in created.items():
            if a.received < b.sent:
                assert position[a_sid] > position[b_sid], (a_sid, b_sid)
    # Releases/Active is the newest one, with its configuration.
    active = http.get(f"{API}/Releases/Active")
    assert active.status_code == 200
    assert active.json()["sid"] == listed[0]["sid"]
    assert (
        active.json()["configuration_sid"] == created[listed[0]["sid"]].response.json()["configuration_sid"]
    )


def _audit(http: httpx.Client, resource_sid: str) -> list[str]:
    body = http.get(
        "/flexplugins/v1/AuditEvents", params={"ResourceSid": resource_sid, "PageSize": 1000}
    ).json()
    return [event["action"] for event in body["audit_events"]]


def test_configuration_create_racing_version_archive(
    server_urls: list[str], account: Credentials, http: httpx.Client
) -> None:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "archived-in-a-race"}).json()
    both = 0
    for round_ in range(12):
        version = http.post(
            f"{API}/Plugins/{plugin['sid']}/Versions",
            data={"Version": f"1.0.{round_}", "PluginUrl": "https://cdn.example.com/bundle.js"},
        ).json()
        name = f"race-{round_}"

        def send(
            client: httpx.Client, i: int, version_sid: str = version["sid"], name: str = name
        ) -> httpx.Response:
            if i == 0:
                entry = json.dumps({"plugin_version": version_sid})
                return client.post(f"{API}/Configurations", data={"Name": name, "Plugins": entry})
            return client.post(f"{API}/Plugins/{plugin['sid']}/Versions/{version_sid}/Archive")

        create, archive = (o.response for o in race(server_urls, account, 2, send))
        assert archive.status_code == 200, archive.text
        configurations = [
            c for c in _list_all(http, f"{API}/Configurations", "configurations") if c["name"] == name
        ]
        if create.status_code == 201:
            both += 1
            # Both succeeded: the configuration must have been committed before the archive.
            assert [c["sid"] for c in configurations] == [create.json()["sid"]]
            configuration_sid = create.json()["sid"]
            held = http.get(f"{API}/Configurations/{configuration_sid}/Plugins").json()["plugins"]
            assert [p["plugin_version_sid"] for p in held] == [version["sid"]]
            events = http.get("/flexplugins/v1/AuditEvents", params={"PageSize": 1000}).json()["audit_events"]
            order = [e["resource_sid"] for e in events]  # newest first
            assert order.index(version["sid"]) < order.index(configuration_sid), "archived before configured"
        else:
            assert_error(create, 400, 20001)
            assert "archived" in create.json()["message"]
            assert configurations == []
    # Not asserted: which side wins how often (it depends on scheduling); both outcomes are valid.
    del both
