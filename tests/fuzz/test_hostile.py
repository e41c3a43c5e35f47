"""Hostile input: every one gets a 4xx in the vendor's error shape, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import ERROR_SCHEMA

API = "/v1/PluginService"
SQL = [
    "' OR '1'='1",
    "1; DROP TABLE plugins; --",
    '" OR ""="',
    "%' --",
    "FP' UNION SELECT * FROM accounts --",
]
TRAVERSAL = ["..", "../..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e", "....//....//", "..\\..\\windows"]
HOSTILE_IDS = SQL + TRAVERSAL + ["a" * 5000, "FP" + "0" * 32 + "' --", "%00", "\u202e\u0000"]


def assert_vendor_4xx(response: httpx.Response) -> dict[str, Any]:
    import jsonschema

    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["status"] == response.status_code
    return body  # type: ignore[no-any-return]


def state(http: httpx.Client) -> tuple[Any, ...]:
    """Everything the account has written: its audit trail and its lists."""
    events = http.get("/flexplugins/v1/AuditEvents", params={"PageSize": 1000}).json()["audit_events"]
    plugins = http.get(f"{API}/Plugins", params={"PageSize": 1000}).json()["plugins"]
    configurations = http.get(f"{API}/Configurations", params={"PageSize": 1000}).json()["configurations"]
    releases = http.get(f"{API}/Releases", params={"PageSize": 1000}).json()["releases"]
    return (len(events), json.dumps(plugins), json.dumps(configurations), json.dumps(releases))


@pytest.fixture
def seeded(http: httpx.Client) -> Iterator[dict[str, str]]:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "target"}).json()
    version = http.post(
        f"{API}/Plugins/{plugin['sid']}/Versions",
        data={"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/a.js"},
    ).json()
    configuration = http.post(
        f"{API}/Configurations",
        data={"Name": "c", "Plugins": json.dumps({"plugin_version": version["sid"]})},
    ).json()
    release = http.post(f"{API}/Releases", data={"ConfigurationId": configuration["sid"]}).json()
    yield {
        "plugin": plugin["sid"],
        "version": version["sid"],
        "configuration": configuration["sid"],
        "release": release["sid"],
    }


def test_oversized_bodies(http: httpx.Client, seeded: dict[str, str], server: LiveServer) -> None:
    before = state(http)
    limit = server.settings.max_body_bytes
    big = "x" * (limit + 10)
    for path in (f"{API}/Plugins", f"{API}/Configurations", f"{API}/Plugins/{seeded['plugin']}/Versions"):
        assert_vendor_4xx(http.post(path, data={"UniqueName": "big", "Name": "big", "Description": big}))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b"UniqueName=chunked&Description="
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536

    response = http.post(
        f"{API}/Plugins", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert assert_vendor_4xx(response)["status"] == 413
    assert state(http) == before


def test_oversized_headers(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    # A large Flex-Metadata is accepted and recorded cut to its limit (it is only informational).
    response = http.post(f"{API}/Plugins", data={"UniqueName": "meta"}, headers={"Flex-Metadata": "m" * 8000})
    assert response.status_code == 201, response.text
    events = http.get("/flexplugins/v1/AuditEvents", params={"ResourceSid": response.json()["sid"]}).json()
    assert len(events["audit_events"][0]["flex_metadata"]) <= 1024
    before = state(http)
    # Headers beyond what the HTTP server parses: refused, never a 5xx, nothing written.
    try:
        huge = http.post(
            f"{API}/Plugins", data={"UniqueName": "huge-header"}, headers={"X-Padding": "p" * 200_000}
        )
        assert_vendor_4xx(huge)
    except httpx.HTTPError:
        pass  # the server may close the connection instead of answering
    assert state(http) == before


def test_thousands_of_plugins_entries(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    entry = json.dumps({"plugin_version": seeded["version"]})
    for count in (1001, 5000):
        body = assert_vendor_4xx(
            http.post(f"{API}/Configurations", data={"Name": "many", "Plugins": [entry] * count})
        )
        assert body["code"] == 20001
    # So many that the body passes its size limit: refused as too large.
    many = http.post(f"{API}/Configurations", data={"Name": "many", "Plugins": [entry] * 20_000})
    assert assert_vendor_4xx(many)["status"] == 413
    assert state(http) == before


@pytest.mark.parametrize(
    "raw",
    [
        b"UniqueName=\xff\xfe\xfd",
        b"UniqueName=%FF%FE%FD",
        b"UniqueName=ok&Description=%C3%28",
        b"UniqueName=a%00b",
        b"UniqueName=ok&FriendlyName=x%00",
        b"UniqueName=ok&Description=\x00",
        b"Uniq%00ueName=ok",
    ],
)
def test_invalid_utf8_and_nul_bytes(http: httpx.Client, raw: bytes) -> None:
    before = state(http)
    response = http.post(
        f"{API}/Plugins", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_vendor_4xx(response)
    assert state(http) == before


def test_nul_and_control_characters_in_every_form_field(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"{API}/Plugins", {"UniqueName": "nul\x00"}),
        (f"{API}/Plugins/{seeded['plugin']}", {"FriendlyName": "x\x00y"}),
        (
            f"{API}/Plugins/{seeded['plugin']}/Versions",
            {"Version": "1.\x00", "PluginUrl": "https://a.b/c.js"},
        ),
        (
            f"{API}/Plugins/{seeded['plugin']}/Versions",
            {"Version": "2.0.0", "PluginUrl": "https://a.b/\x00.js"},
        ),
        (f"{API}/Configurations", {"Name": "n\x00"}),
        (f"{API}/Configurations", {"Name": "n", "Plugins": '{"plugin_version": "\x00"}'}),
        (f"{API}/Releases", {"ConfigurationId": "FJ\x00"}),
    ]
    for path, data in posts:
        assert_vendor_4xx(http.post(path, data=data))
    assert state(http) == before


def test_very_long_values(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    long = "a" * 100_000
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"{API}/Plugins", {"UniqueName": long}),
        (f"{API}/Plugins", {"UniqueName": "ok-long", "FriendlyName": long}),
        (f"{API}/Plugins", {"UniqueName": "ok-long", "Description": long}),
        (f"{API}/Plugins/{seeded['plugin']}/Versions", {"Version": long, "PluginUrl": "https://a.b/c.js"}),
        (
            f"{API}/Plugins/{seeded['plugin']}/Versions",
            {"Version": "3.0.0", "PluginUrl": "https://a.b/" + long},
        ),
        (
            f"{API}/Plugins/{seeded['plugin']}/Versions",
            {"Version": "3.0.0", "PluginUrl": "https://a.b/c.js", "Changelog": long},
        ),
        (f"{API}/Configurations", {"Name": long}),
        (f"{API}/Releases", {"ConfigurationId": long}),
    ]
    for path, data in posts:
        assert_vendor_4xx(http.post(path, data=data))
    assert state(http) == before


def test_sql_and_path_traversal_in_every_identifier(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    p, v, c = seeded["plugin"], seeded["version"], seeded["configuration"]
    for raw in HOSTILE_IDS:
        # Percent-encoded, so that the client does not resolve `..` itself: the server must see it.
        bad = quote(raw, safe="").replace(".", "%2E")
        gets = [
            f"{API}/Plugins/{bad}",
            f"{API}/Plugins/{bad}/Versions",
            f"{API}/Plugins/{bad}/Versions/{v}",
            f"{API}/Plugins/{p}/Versions/{bad}",
            f"{API}/Configurations/{bad}",
            f"{API}/Configurations/{bad}/Plugins",
            f"{API}/Configurations/{c}/Plugins/{bad}",
            f"{API}/Releases/{bad}",
        ]
        for path in gets:
            response = http.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert_vendor_4xx(response)
        posts: list[tuple[str, dict[str, Any]]] = [
            (f"{API}/Plugins/{bad}", {"FriendlyName": "x"}),
            (f"{API}/Plugins/{bad}/Archive", {}),
            (f"{API}/Plugins/{bad}/Versions", {"Version": "9.9.9", "PluginUrl": "https://a.b/c.js"}),
            (f"{API}/Plugins/{p}/Versions/{bad}/Archive", {}),
            (f"{API}/Configurations/{bad}/Archive", {}),
            (f"{API}/Plugins", {"UniqueName": raw}),
            (f"{API}/Plugins/{p}/Versions", {"Version": raw, "PluginUrl": "https://a.b/c.js"}),
            (f"{API}/Configurations", {"Name": "n", "Plugins": json.dumps({"plugin_version": raw})}),
            (f"{API}/Releases", {"ConfigurationId": raw}),
        ]
        for path, data in posts:
            assert_vendor_4xx(http.post(path, data=data))
    assert state(http) == before
    assert http.get(f"{API}/Plugins/{p}").status_code == 200


@pytest.mark.parametrize("name", ["PageSize", "Page"])
@pytest.mark.parametrize(
    "value", ["-1", "-100", "0x10", "1e3", "99999999999", str(2**63), str(2**64 + 1), "", " 5", "nan", "١٢"]
)
def test_bad_paging_parameters(http: httpx.Client, name: str, value: str) -> None:
    for path in (f"{API}/Plugins", f"{API}/Releases", f"{API}/Configurations"):
        body = assert_vendor_4xx(http.get(path, params={name: value}))
        assert body["code"] == 20001
    for size in ("0", "1001"):
        assert_vendor_4xx(http.get(f"{API}/Plugins", params={"PageSize": size}))


def test_forged_and_replayed_page_tokens(
    http: httpx.Client, server: LiveServer, other_account: Credentials, seeded: dict[str, str]
) -> None:
    for i in range(3):
        http.post(f"{API}/Plugins", data={"UniqueName": f"paged-{i}"})
    first = http.get(f"{API}/Plugins", params={"PageSize": 2}).json()
    next_url = first["meta"]["next_page_url"]
    token = httpx.URL(next_url).params["PageToken"]
    assert http.get(next_url).status_code == 200  # the genuine token, replayed, still works
    # Another account cannot use it, even on the same list.
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as other:
        assert assert_vendor_4xx(other.get(f"{API}/Plugins", params={"PageToken": token}))["code"] == 20001
    # Another list of the same account refuses it.
    for path in (f"{API}/Releases", f"{API}/Configurations", f"{API}/Plugins/{seeded['plugin']}/Versions"):
        assert assert_vendor_4xx(http.get(path, params={"PageToken": token}))["code"] == 20001
    # Forged and tampered tokens.
    body, mac = token.split(".", 1)
    forged = [
        "garbage",
        ".",
        "a.b.c",
        body + "." + mac[::-1],
        body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac,
        "=" * 10,
        "\x00",
        "x" * 10_000,
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    ]
    for bad in forged:
        assert_vendor_4xx(http.get(f"{API}/Plugins", params={"PageToken": bad}))


def _nested(depth: int, leaf: str = "1") -> list[str]:
    """JSON values nested `depth` deep, as arrays, objects and under plugin_version."""
    return [
        "[" * depth + leaf + "]" * depth,
        '{"a":' * depth + leaf + "}" * depth,
        '{"plugin_version": ' + "[" * depth + "]" * depth + "}",
        '{"plugin_version": "FV' + "0" * 32 + '", "phase": ' + '{"p":' * depth + "1" + "}" * depth + "}",
        "[" * depth,  # never closed
    ]


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_deeply_nested_plugins_json(http: httpx.Client, seeded: dict[str, str], depth: int) -> None:
    before = state(http)
    for value in _nested(depth):
        response = http.post(f"{API}/Configurations", data={"Name": "deep", "Plugins": value})
        assert assert_vendor_4xx(response)["code"] in (20001, 20413), value[:40]
        # Also after a valid entry, so the parse of a later value is what fails.
        good = json.dumps({"plugin_version": seeded["version"]})
        response = http.post(f"{API}/Configurations", data={"Name": "deep", "Plugins": [good, value]})
        assert assert_vendor_4xx(response)["code"] in (20001, 20413)  # 413 once past the body limit
    assert state(http) == before


@pytest.mark.parametrize(
    ("page", "size"),
    [
        (2_147_484, 1000),  # the offset just past 2^31 - 1
        (2**31 // 50 + 1, None),  # with the default PageSize of 50
        (100_000_000, 1000),
        (4_294_968, 1000),  # past 2^32
        (2**31, 1),  # past 2^31 - 1 by Page alone
    ],
)
def test_page_times_page_size_past_32_bits(
    http: httpx.Client, seeded: dict[str, str], page: int, size: int | None
) -> None:
    params: dict[str, Any] = {"Page": page}
    if size is not None:
        params["PageSize"] = size
    lists = [
        f"{API}/Plugins",
        f"{API}/Plugins/{seeded['plugin']}/Versions",
        f"{API}/Configurations",
        f"{API}/Configurations/{seeded['configuration']}/Plugins",
        f"{API}/Releases",
        "/flexplugins/v1/AuditEvents",
        "/serverless/v1/Services",
    ]
    for path in lists:
        response = http.get(path, params=params)
        assert assert_vendor_4xx(response)["code"] == 20001, path
    # The largest offset that is served still answers, with an empty page.
    for path in lists:
        response = http.get(path, params={"Page": 2_147_483, "PageSize": 1000})
        assert response.status_code == 200, (path, response.text)
        assert response.json()["meta"]["page"] == 2_147_483


def test_numbers_in_plugins_json_that_no_column_holds(http: httpx.Client, seeded: dict[str, str]) -> None:
    before = state(http)
    version = seeded["version"]
    phases = [str(2**31), str(2**63), str(2**64 + 1), "1e400", "-1e400", "9" * 5000, "1.5", "-0.0", "NaN"]
    for phase in phases:
        value = '{"plugin_version": "' + version + '", "phase": ' + phase + "}"
        response = http.post(f"{API}/Configurations", data={"Name": "n", "Plugins": value})
        assert assert_vendor_4xx(response)["code"] == 20001, phase
    assert state(http) == before


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_in_every_other_json_field(http: httpx.Client, depth: int) -> None:
    """The other JSON the API parses: a build's Dependencies and the Flex Configuration body."""
    service = http.post("/serverless/v1/Services", data={"UniqueName": "deep", "FriendlyName": "deep"})
    assert service.status_code == 201, service.text
    builds = f"/serverless/v1/Services/{service.json()['sid']}/Builds"
    for value in _nested(depth):
        response = http.post(builds, data={"Dependencies": value})
        assert assert_vendor_4xx(response)["code"] in (20001, 20413), value[:40]
        body = '{"account_sid": ' + value + "}"
        response = http.post(
            "/v1/Configuration", content=body.encode(), headers={"Content-Type": "application/json"}
        )
        assert_vendor_4xx(response)
    assert http.get(builds).json()["builds"] == []
