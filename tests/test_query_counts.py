"""No N+1: the SQL statements of each endpoint are counted, and a list page's count must not grow with
its size. Counted: every statement through either SQLAlchemy engine, and every one the fast reader runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from flexplugins.config import Settings
from tests.conftest import Credentials, LiveServer, start_server
from tests.test_console_paging import signed_in

API = "/v1/PluginService"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server, whose verified credentials stay cached for the whole run: a
    credential check counted in the middle of a comparison (the default cache lasts 2 s, which a
    loaded machine outlasts between two requests) would be taken for a statement of the endpoint."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("counts"),
        failed_auth_per_address=0,
        failed_auth_per_account=0,
        auth_cache_seconds=3600,
    )
    yield from start_server(settings)


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []


@pytest.fixture
def counter(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter]:
    counted = Counter()

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.statements.append(statement)

    engines = (server.db.read_engine, server.db.write_engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    reader = server.db.reader
    for name in ("execute", "exec_driver_sql"):
        real = getattr(reader, name)

        def wrapped(stmt: Any, *args: Any, _real: Any = real) -> Any:
            counted.statements.append(str(stmt))
            return _real(stmt, *args)

        monkeypatch.setattr(reader, name, wrapped)
    try:
        yield counted
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)


def count(http: httpx.Client, counter: Counter, method: str, path: str, **kwargs: Any) -> int:
    counter.statements.clear()
    response = http.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return len(counter.statements)


def test_statements_per_endpoint_do_not_grow_with_page_size(
    server: LiveServer, http: httpx.Client, counter: Counter
) -> None:
    plugins = [http.post(f"{API}/Plugins", data={"UniqueName": f"q{i}"}).json() for i in range(25)]
    versions = [
        http.post(
            f"{API}/Plugins/{plugin['sid']}/Versions",
            data={"Version": "1.0.0", "PluginUrl": f"https://cdn.example.com/{i}.js"},
        ).json()
        for i, plugin in enumerate(plugins)
    ]
    for i in range(1, 25):
        http.post(
            f"{API}/Plugins/{plugins[0]['sid']}/Versions",
            data={"Version": f"2.0.{i}", "PluginUrl": "https://cdn.example.com/x.js"},
        )
    entries = [json.dumps({"plugin_version": v["sid"], "phase": i % 3}) for i, v in enumerate(versions)]
    small = http.post(f"{API}/Configurations", data={"Name": "small", "Plugins": entries[:2]}).json()
    big = http.post(f"{API}/Configurations", data={"Name": "big", "Plugins": entries}).json()
    for i in range(23):
        http.post(f"{API}/Configurations", data={"Name": f"c{i}"})
    for _ in range(25):
        http.post(f"{API}/Releases", data={"ConfigurationId": big["sid"]})
    http.get(f"{API}/Plugins")  # credentials verified and cached before counting

    lists = {
        "plugins": f"{API}/Plugins",
        "plugin versions": f"{API}/Plugins/{plugins[0]['sid']}/Versions",
        "configurations": f"{API}/Configurations",
        "releases": f"{API}/Releases",
        "audit events": "/flexplugins/v1/AuditEvents",
    }
    report: dict[str, tuple[int, ...]] = {}
    for name, path in lists.items():
        one = count(http, counter, "GET", path, params={"PageSize": 1})
        many = count(http, counter, "GET", path, params={"PageSize": 25})
        second = http.get(path, params={"PageSize": 2}).json()["meta"]["next_page_url"]
        by_token = count(http, counter, "GET", second)
        report[name] = (one, many, by_token)
        assert one == many == by_token, (name, report[name], counter.statements)
        # At most: the account's write counter (api/cache.py), then the page itself.
        assert 1 <= one <= 3, (name, counter.statements)
    configured_small = count(http, counter, "GET", f"{API}/Configurations/{small['sid']}/Plugins")
    configured_big = count(http, counter, "GET", f"{API}/Configurations/{big['sid']}/Plugins")
    assert configured_small == configured_big <= 3, counter.statements

    fetches = {
        "plugin": f"{API}/Plugins/{plugins[3]['sid']}",
        "plugin by name": f"{API}/Plugins/q3",
        "version by string": f"{API}/Plugins/q3/Versions/1.0.0",
        "configuration": f"{API}/Configurations/{big['sid']}",
        "configured plugin": f"{API}/Configurations/{big['sid']}/Plugins/q3",
        "active release": f"{API}/Releases/Active",
    }
    for name, path in fetches.items():
        assert count(http, counter, "GET", path) <= 3, (name, counter.statements)
        # Asked again with nothing written since: only the account's write counter is read (on
        # PostgreSQL on its own asynchronous connection, storage/counters.py, not counted here).
        hit = count(http, counter, "GET", path)
        if server.db.is_sqlite:
            assert hit == 1 and "change_seq" in counter.statements[0], (name, counter.statements)
        else:
            assert hit == 0, (name, counter.statements)

    # Writes: a configuration of 25 plugins costs what one of 2 costs (one batched lookup, one insert).
    two = count(http, counter, "POST", f"{API}/Configurations", data={"Name": "w2", "Plugins": entries[:2]})
    many_plugins = count(
        http, counter, "POST", f"{API}/Configurations", data={"Name": "w25", "Plugins": entries}
    )
    assert 1 <= two == many_plugins, counter.statements
    release_small = count(http, counter, "POST", f"{API}/Releases", data={"ConfigurationId": small["sid"]})
    release_big = count(http, counter, "POST", f"{API}/Releases", data={"ConfigurationId": big["sid"]})
    assert release_small == release_big, counter.statements


def test_console_pages_cost_the_same_whatever_they_show(
    server: LiveServer, http: httpx.Client, account: Credentials, counter: Counter
) -> None:
    """The live column, the refusal reasons and the timeline's change text are page-wide queries."""

    def grow(count: int, start: int) -> str:
        versions = []
        for i in range(start, start + count):
            plugin = http.post(f"{API}/Plugins", data={"UniqueName": f"live{i}"}).json()["sid"]
            versions.append(
                http.post(
                    f"{API}/Plugins/{plugin}/Versions",
                    data={"Version": "1.0.0", "PluginUrl": f"https://cdn.example.com/live{i}.js"},
                ).json()["sid"]
            )
        # Releases of configurations that differ, each change against the one before.
        for n in range(1, count + 1):
            entries = [json.dumps({"plugin_version": sid, "phase": 1}) for sid in versions[:n]]
            configuration = http.post(
                f"{API}/Configurations", data={"Name": f"g{start}-{n}", "Plugins": entries}
            )
            http.post(f"{API}/Releases", data={"ConfigurationId": configuration.json()["sid"]})
        return str(http.get(f"{API}/Plugins/live{start}").json()["sid"])

    plugin = grow(1, 0)
    pages = ["/console/plugins", f"/console/plugins/{plugin}", "/console/configurations", "/console/releases"]
    with signed_in(server, account) as browser:

        def statements(path: str) -> int:
            counter.statements.clear()
            page = browser.get(path)
            assert page.status_code == 200, page.text[:300]
            return len(counter.statements)

        small = {path: statements(path) for path in pages}
        grow(20, 1)
        large = {path: statements(path) for path in pages}
    assert small == large, (small, large)
    # The session, then: the page and its live versions; the page, the active release and the
    # archived entries; the releases, the configurations, their plugins, creators, recent events.
    assert large["/console/plugins"] <= 3, large
    assert large["/console/releases"] <= 7, large
