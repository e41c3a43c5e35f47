"""Race-free releases: `If-Match` on the active release, and delta releases (POST /flexplugins/v1/Releases).

Over plain HTTP against the real server on both databases; the races run through two server
processes (the in-thread test server and a `flexplugins serve` subprocess with two workers) on one
database, so the guarantees are the database's, not one process's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error, assert_valid
from tests.serving import serve

API = "/v1/PluginService"
DELTA = "/flexplugins/v1/Releases"


def plugin_with_versions(http: httpx.Client, name: str, *versions: str) -> list[str]:
    assert http.post(f"{API}/Plugins", data={"UniqueName": name}).status_code == 201
    sids = []
    for version in versions:
        made = http.post(
            f"{API}/Plugins/{name}/Versions",
            data={"Version": version, "PluginUrl": f"https://cdn.example.com/{name}/{version}/bundle.js"},
        )
        assert made.status_code == 201, made.text
        sids.append(made.json()["sid"])
    return sids


def release_of(http: httpx.Client, *version_sids: str, **headers: str) -> httpx.Response:
    plugins = [f'{{"plugin_version": "{sid}", "phase": 3}}' for sid in version_sids]
    made = http.post(f"{API}/Configurations", data={"Name": "c", "Plugins": plugins})
    assert made.status_code == 201, made.text
    return http.post(f"{API}/Releases", data={"ConfigurationId": made.json()["sid"]}, headers=headers)


def active(http: httpx.Client) -> httpx.Response:
    return http.get(f"{API}/Releases/Active")


def releases(http: httpx.Client) -> list[dict[str, Any]]:
    body = http.get(f"{API}/Releases", params={"PageSize": 1000}).json()
    return list(body["releases"])


def active_plugins(http: httpx.Client) -> dict[str, str]:
    configuration = active(http).json()["configuration_sid"]
    body = http.get(f"{API}/Configurations/{configuration}/Plugins", params={"PageSize": 1000}).json()
    return {item["unique_name"]: item["version"] for item in body["plugins"]}


# --- If-Match ---------------------------------------------------------------------------------


def test_active_release_carries_its_sid_as_etag(http: httpx.Client) -> None:
    assert "etag" not in active(http).headers  # 404: nothing released
    (v1,) = plugin_with_versions(http, "etag-a", "1.0.0")
    made = release_of(http, v1)
    assert made.status_code == 201
    sid = made.json()["sid"]
    for _ in range(2):  # the second is a read-cache hit: the header is kept
        answer = active(http)
        assert answer.headers["etag"] == f'"{sid}"'
        assert_valid("FetchPluginRelease", 200, answer.json())


def test_if_match_releases_only_on_top_of_the_named_release(http: httpx.Client) -> None:
    v1, v2, v3 = plugin_with_versions(http, "cas-a", "1.0.0", "1.1.0", "1.2.0")
    assert_error(release_of(http, v1, **{"If-Match": '"FK' + "0" * 32 + '"'}), 412, 20412)
    first = release_of(http, v1, **{"If-Match": '"none"'})
    assert first.status_code == 201, first.text
    assert_valid("CreatePluginRelease", 201, first.json())
    etag = active(http).headers["etag"]
    second = release_of(http, v2, **{"If-Match": etag})
    assert second.status_code == 201
    before = releases(http)
    stale = release_of(http, v3, **{"If-Match": etag})
    body = assert_error(stale, 412, 20412)
    assert second.json()["sid"] in body["message"]
    assert releases(http) == before, "a refused If-Match release wrote something"
    assert_error(release_of(http, v3, **{"If-Match": '"none"'}), 412, 20412)
    for bad in ("FJ" + "0" * 32, '"whatever"', 'W/"FK' + "0" * 32 + '"', ""):
        assert_error(release_of(http, v3, **{"If-Match": bad}), 400, 20001)
    assert release_of(http, v3).status_code == 201  # without the header: as the vendor's clients


def test_two_if_match_releases_against_one_active_release(
    http: httpx.Client, account: Credentials, server_urls: list[str]
) -> None:
    v1, v2, v3 = plugin_with_versions(http, "cas-race", "1.0.0", "2.0.0", "3.0.0")
    assert release_of(http, v1).status_code == 201
    etag = active(http).headers["etag"]
    configurations = []
    for sid in (v2, v3):
        made = http.post(
            f"{API}/Configurations", data={"Name": "race", "Plugins": f'{{"plugin_version": "{sid}"}}'}
        )
        configurations.append(made.json()["sid"])
    before = len(releases(http))
    barrier = threading.Barrier(2)

    def send(i: int) -> httpx.Response:
        with httpx.Client(base_url=server_urls[i], auth=(account.sid, account.token), timeout=60) as client:
            client.get("/healthz")
            barrier.wait()
            return client.post(
                f"{API}/Releases", data={"ConfigurationId": configurations[i]}, headers={"If-Match": etag}
            )

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, range(2)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 412], [answer.text for answer in answers]
    loser = next(answer for answer in answers if answer.status_code == 412)
    assert_error(loser, 412, 20412)
    assert len(releases(http)) == before + 1


# --- delta releases ---------------------------------------------------------------------------


def delta(http: httpx.Client, *pairs: tuple[str, str], **headers: str) -> httpx.Response:
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return http.post(DELTA, data=fields, headers=headers)


def test_delta_release_enables_changes_and_disables(http: httpx.Client) -> None:
    plugin_with_versions(http, "d-a", "1.0.0", "1.1.0")
    plugin_with_versions(http, "d-b", "2.0.0")
    made = delta(http, ("Enable", "d-a@1.0.0"), ("Enable", "d-b@latest"), ("Name", "first"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["changed"] is True
    assert_valid("CreatePluginRelease", 201, body["release"])
    assert_valid("CreatePluginConfiguration", 201, body["configuration"])
    assert body["configuration"]["name"] == "first"
    assert [(c["unique_name"], c["change"], c["after"]["version"]) for c in body["changes"]] == [
        ("d-a", "added", "1.0.0"),
        ("d-b", "added", "2.0.0"),
    ]
    assert made.headers["etag"] == f'"{body["release"]["sid"]}"'
    assert active(http).json()["sid"] == body["release"]["sid"]
    assert active_plugins(http) == {"d-a": "1.0.0", "d-b": "2.0.0"}

    again = delta(http, ("Enable", "d-a@1.0.0"), ("Enable", "d-b"))
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False and again.json()["changes"] == []
    assert again.json()["release"]["sid"] == body["release"]["sid"]
    assert len(releases(http)) == 1, "a delta release that changes nothing created a release"

    moved = delta(http, ("Enable", "d-a@latest"), ("Disable", "d-b"), ("Disable", "d-b-never-configured"))
    assert moved.status_code == 400  # d-b-never-configured does not exist
    plugin_with_versions(http, "d-c", "0.1.0")
    moved = delta(http, ("Enable", "d-a@latest"), ("Disable", "d-b"), ("Disable", "d-c"))
    assert moved.status_code == 201, moved.text
    changes = {(c["unique_name"], c["change"]) for c in moved.json()["changes"]}
    assert changes == {("d-a", "changed"), ("d-b", "removed")}
    assert active_plugins(http) == {"d-a": "1.1.0"}


def test_delta_release_refuses_bad_input_and_writes_nothing(http: httpx.Client) -> None:
    v1, _ = plugin_with_versions(http, "bad-a", "1.0.0", "1.1.0")
    assert http.post(f"{API}/Plugins/bad-a/Versions/1.1.0/Archive").status_code == 200
    assert delta(http, ("Enable", "bad-a@1.0.0")).status_code == 201
    before = releases(http)
    cases = [
        [],
        [("Enable", "bad-a@")],
        [("Enable", "@1.0.0")],
        [("Enable", "no-such-plugin@1.0.0")],
        [("Enable", "bad-a@9.9.9")],
        [("Enable", "bad-a@1.1.0")],  # archived
        [("Enable", "bad-a@1.0.0"), ("Disable", "bad-a")],
        [("Enable", "bad-a@1.0.0"), ("Enable", "bad-a@latest")],
        [("Disable", "bad a")],
        [("Enable", "bad-a@1.0.0"), ("Name", "x" * 300)],
        [("Enable", "x\x00y@1")],
    ]
    for case in cases:
        assert_error(delta(http, *case), 400, 20001)
    stale = delta(http, ("Disable", "bad-a"), **{"If-Match": '"none"'})
    assert_error(stale, 412, 20412)
    assert releases(http) == before
    assert active_plugins(http) == {"bad-a": "1.0.0"}
    assert v1


def test_delta_release_if_match(http: httpx.Client) -> None:
    plugin_with_versions(http, "m-a", "1.0.0")
    plugin_with_versions(http, "m-b", "1.0.0")
    first = delta(http, ("Enable", "m-a@1.0.0"), **{"If-Match": '"none"'})
    assert first.status_code == 201
    etag = first.headers["etag"]
    assert delta(http, ("Enable", "m-b@1.0.0"), **{"If-Match": etag}).status_code == 201
    assert_error(delta(http, ("Disable", "m-a"), **{"If-Match": etag}), 412, 20412)
    assert active_plugins(http) == {"m-a": "1.0.0", "m-b": "1.0.0"}


def test_twenty_concurrent_delta_releases_through_two_servers(
    http: httpx.Client, account: Credentials, server_urls: list[str]
) -> None:
    names = [f"race-{i:02d}" for i in range(20)]
    for name in names:
        plugin_with_versions(http, name, "1.0.0")
    barrier = threading.Barrier(len(names))

    def send(i: int) -> httpx.Response:
        url = server_urls[i % len(server_urls)]
        with httpx.Client(base_url=url, auth=(account.sid, account.token), timeout=120) as client:
            client.get("/healthz")
            barrier.wait()
            return delta(client, ("Enable", f"{names[i]}@1.0.0"))

    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(send, range(len(names))))
    assert [answer.status_code for answer in answers] == [201] * len(names), [a.text for a in answers]
    assert active_plugins(http) == {name: "1.0.0" for name in names}
    made = releases(http)
    assert len(made) == len(names)
    assert {r["sid"] for r in made} == {answer.json()["release"]["sid"] for answer in answers}
    # Totally ordered: each release's configuration holds one plugin more than the one before it.
    sizes = []
    for release in reversed(made):
        body = http.get(
            f"{API}/Configurations/{release['configuration_sid']}/Plugins", params={"PageSize": 1000}
        ).json()
        sizes.append(len(body["plugins"]))
    assert sizes == list(range(1, len(names) + 1))


@pytest.fixture(scope="module")
def server_urls(
    server: LiveServer, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    proc = serve(database_url, tmp_path_factory.mktemp("releases"), workers=2)
    try:
        yield [server.url, proc.url]
    finally:
        proc.stop()
