"""Every rule of the service, sent bad input over plain HTTP: the vendor's error and nothing written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error, assert_valid

API = "/v1/PluginService"


def counts(http: httpx.Client) -> dict[str, int]:
    """How many plugins, configurations and releases the account has (a write shows up here)."""
    return {
        key: len(http.get(f"{API}/{path}", params={"PageSize": 1000}).json()[key])
        for key, path in (
            ("plugins", "Plugins"),
            ("configurations", "Configurations"),
            ("releases", "Releases"),
        )
    }


def make_plugin(
    http: httpx.Client, name: str, *versions: str, private: bool = False
) -> tuple[str, list[str]]:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": name})
    assert plugin.status_code == 201, plugin.text
    sid = plugin.json()["sid"]
    version_sids = []
    for version in versions:
        created = http.post(
            f"{API}/Plugins/{sid}/Versions",
            data={
                "Version": version,
                "PluginUrl": f"https://cdn.example.com/{name}/{version}.js",
                "Private": "true" if private else "false",
            },
        )
        assert created.status_code == 201, created.text
        assert_valid("CreatePluginVersion", 201, created.json())
        version_sids.append(created.json()["sid"])
    return sid, version_sids


def configure(http: httpx.Client, *entries: Any, name: str = "cfg") -> httpx.Response:
    plugins = [json.dumps(e) if not isinstance(e, str) else e for e in entries]
    return http.post(f"{API}/Configurations", data={"Name": name, "Plugins": plugins})


# --- plugins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({}, "UniqueName"),
        ({"UniqueName": ""}, "UniqueName"),
        ({"UniqueName": "has space"}, "UniqueName"),
        ({"UniqueName": "x" * 101}, "at most 100"),
        ({"UniqueName": "../etc/passwd"}, "UniqueName"),
        ({"UniqueName": "'; DROP TABLE plugins; --"}, "UniqueName"),
        ({"UniqueName": "FP" + "a" * 32}, "SID"),
        ({"UniqueName": "ok", "Description": "d" * 501}, "Description"),
        ({"UniqueName": "ok", "FriendlyName": "bell\x07"}, "control"),
    ],
)
def test_create_plugin_refuses_bad_input(http: httpx.Client, form: dict[str, str], fragment: str) -> None:
    body = assert_error(http.post(f"{API}/Plugins", data=form), 400, 20001)
    assert fragment in body["message"]
    assert counts(http)["plugins"] == 0


def test_unique_name_is_unique_per_account(
    http: httpx.Client, server: LiveServer, other_account: Credentials
) -> None:
    assert http.post(f"{API}/Plugins", data={"UniqueName": "same"}).status_code == 201
    body = assert_error(http.post(f"{API}/Plugins", data={"UniqueName": "same"}), 409, 20409)
    assert "same" in body["message"]
    assert counts(http)["plugins"] == 1
    # Another account may use the same name.
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as other:
        assert other.post(f"{API}/Plugins", data={"UniqueName": "same"}).status_code == 201


def test_update_changes_only_friendly_name_and_description(http: httpx.Client) -> None:
    sid, _ = make_plugin(http, "upd")
    before = http.get(f"{API}/Plugins/{sid}").json()
    after = http.post(f"{API}/Plugins/{sid}", data={"FriendlyName": "New", "UniqueName": "renamed"})
    assert after.status_code == 200
    assert_valid("UpdatePlugin", 200, after.json())
    assert after.json()["unique_name"] == "upd" and after.json()["friendly_name"] == "New"
    assert after.json()["date_created"] == before["date_created"]
    assert_error(http.post(f"{API}/Plugins/{sid}", data={"Description": "x" * 600}), 400, 20001)
    assert http.get(f"{API}/Plugins/{sid}").json()["friendly_name"] == "New"


def test_missing_resources_are_404(http: httpx.Client) -> None:
    for path in (
        f"{API}/Plugins/nope",
        f"{API}/Plugins/FP{'0' * 32}",
        f"{API}/Plugins/nope/Versions",
        f"{API}/Plugins/nope/Versions/1.0.0",
        f"{API}/Configurations/FJ{'0' * 32}",
        f"{API}/Configurations/not-a-sid",
        f"{API}/Configurations/FJ{'0' * 32}/Plugins",
        f"{API}/Releases/FK{'0' * 32}",
        f"{API}/Releases/Active",
        "/v1/Nothing/Here",
    ):
        assert_error(http.get(path), 404, 20404)
    assert_error(http.post(f"{API}/Plugins/nope/Archive"), 404, 20404)
    assert_error(http.post(f"{API}/Plugins/nope", data={"FriendlyName": "x"}), 404, 20404)


# --- versions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({"PluginUrl": "https://cdn.example.com/a.js"}, "Version"),
        ({"Version": "1.0.0"}, "PluginUrl"),
        ({"Version": "1.0.0", "PluginUrl": "not a url"}, "PluginUrl"),
        ({"Version": "1.0.0", "PluginUrl": "ftp://cdn.example.com/a.js"}, "PluginUrl"),
        ({"Version": "1.0.0", "PluginUrl": "javascript:alert(1)"}, "PluginUrl"),
        ({"Version": "1 0", "PluginUrl": "https://cdn.example.com/a.js"}, "Version"),
        ({"Version": "FV" + "b" * 32, "PluginUrl": "https://cdn.example.com/a.js"}, "SID"),
        ({"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/a.js", "Private": "yes"}, "Private"),
    ],
)
def test_create_version_refuses_bad_input(http: httpx.Client, form: dict[str, str], fragment: str) -> None:
    sid, _ = make_plugin(http, "ver")
    body = assert_error(http.post(f"{API}/Plugins/{sid}/Versions", data=form), 400, 20001)
    assert fragment in body["message"]
    assert http.get(f"{API}/Plugins/{sid}/Versions").json()["plugin_versions"] == []


def test_versions_are_unique_and_immutable(http: httpx.Client) -> None:
    sid, (v1,) = make_plugin(http, "immut", "1.0.0")
    again = http.post(
        f"{API}/Plugins/{sid}/Versions",
        data={"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/other.js"},
    )
    assert_error(again, 409, 20409)
    assert http.get(f"{API}/Plugins/{sid}/Versions/1.0.0").json()["plugin_url"].endswith("/immut/1.0.0.js")
    # There is no update operation for a version.
    assert_error(
        http.post(f"{API}/Plugins/{sid}/Versions/{v1}", data={"PluginUrl": "https://x.io/a.js"}), 405, 20405
    )


def test_archived_plugin_gets_no_new_versions(http: httpx.Client) -> None:
    sid, _ = make_plugin(http, "old", "1.0.0")
    archived = http.post(f"{API}/Plugins/{sid}/Archive")
    assert archived.status_code == 200
    assert_valid("UpdatePluginArchive", 200, archived.json())
    assert archived.json()["archived"] is True
    # Idempotent, and still fetchable and listed.
    assert http.post(f"{API}/Plugins/{sid}/Archive").json()["archived"] is True
    assert http.get(f"{API}/Plugins/old").json()["archived"] is True
    assert [p["archived"] for p in http.get(f"{API}/Plugins").json()["plugins"]] == [True]
    body = assert_error(
        http.post(
            f"{API}/Plugins/{sid}/Versions",
            data={"Version": "2.0.0", "PluginUrl": "https://cdn.example.com/a.js"},
        ),
        400,
        20001,
    )
    assert "archived" in body["message"]
    assert len(http.get(f"{API}/Plugins/{sid}/Versions").json()["plugin_versions"]) == 1


# --- configurations ------------------------------------------------------------------------


def test_configuration_rules(http: httpx.Client, server: LiveServer, other_account: Credentials) -> None:
    _, (a1, a2) = make_plugin(http, "alpha", "1.0.0", "2.0.0")
    _, (b1,) = make_plugin(http, "beta", "1.0.0")
    _, (gone,) = make_plugin(http, "gamma", "1.0.0")
    http.post(f"{API}/Plugins/gamma/Versions/{gone}/Archive").raise_for_status()
    _, (dead_plugin_version,) = make_plugin(http, "delta", "1.0.0")
    http.post(f"{API}/Plugins/delta/Archive").raise_for_status()
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as other:
        _, (foreign,) = make_plugin(other, "alpha", "1.0.0")

    refusals = [
        ((), {"Plugins": None}, "Name"),
        (({"plugin_version": a1}, {"plugin_version": a2}), {}, "one version per plugin"),
        (({"plugin_version": a1}, {"plugin_version": a1}), {}, "more than once"),
        (({"plugin_version": "FV" + "0" * 32},), {}, "not found"),
        (({"plugin_version": foreign},), {}, "not found"),
        (({"plugin_version": gone},), {}, "archived"),
        (({"plugin_version": dead_plugin_version},), {}, "archived"),
        (({"plugin_version": a1, "phase": -1},), {}, "phase"),
        (({"plugin_version": a1, "phase": "3"},), {}, "phase"),
        (({"plugin_version": "not-a-sid"},), {}, "plugin_version"),
        (("not json",), {}, "JSON"),
        (("[1, 2]",), {}, "JSON object"),
    ]
    for entries, extra, fragment in refusals:
        if extra.get("Plugins", 1) is None:
            response = http.post(f"{API}/Configurations", data={"Description": "no name"})
        else:
            response = configure(http, *entries)
        body = assert_error(response, 400, 20001)
        assert fragment in body["message"], (entries, body)
    assert counts(http)["configurations"] == 0

    ok = configure(http, {"plugin_version": b1, "phase": 5}, {"plugin_version": a1})
    assert ok.status_code == 201
    assert_valid("CreatePluginConfiguration", 201, ok.json())
    listed = http.get(f"{API}/Configurations/{ok.json()['sid']}/Plugins").json()
    assert_valid("ListConfiguredPlugin", 200, listed)
    assert [(p["unique_name"], p["phase"]) for p in listed["plugins"]] == [("alpha", 0), ("beta", 5)]
    assert listed["meta"]["key"] == "plugins"
    # An empty configuration (no plugins at all) is allowed: it turns every plugin off.
    assert configure(http, name="empty").status_code == 201


def test_too_many_plugins_in_a_configuration(http: httpx.Client) -> None:
    _, (a1,) = make_plugin(http, "many", "1.0.0")
    entries = [{"plugin_version": a1}] * 1001
    body = assert_error(configure(http, *entries), 400, 20001)
    assert "at most 1000" in body["message"]
    assert counts(http)["configurations"] == 0


# --- releases ------------------------------------------------------------------------------


def test_release_rules_and_archiving_the_active_release(http: httpx.Client) -> None:
    _, (a1, a2) = make_plugin(http, "rel", "1.0.0", "2.0.0")
    first = configure(http, {"plugin_version": a1}, name="first").json()["sid"]
    second = configure(http, {"plugin_version": a2}, name="second").json()["sid"]

    assert_error(http.post(f"{API}/Releases", data={}), 400, 20001)
    assert_error(http.post(f"{API}/Releases", data={"ConfigurationId": "FJ" + "0" * 32}), 400, 20001)
    assert_error(http.post(f"{API}/Releases", data={"ConfigurationId": "garbage"}), 400, 20001)
    assert counts(http)["releases"] == 0

    released = http.post(f"{API}/Releases", data={"ConfigurationId": first})
    assert released.status_code == 201
    assert_valid("CreatePluginRelease", 201, released.json())
    active = http.get(f"{API}/Releases/Active").json()
    assert_valid("FetchPluginRelease", 200, active)
    assert active["sid"] == released.json()["sid"]

    # What the active release uses cannot be archived: the plugin, the version, the configuration.
    for path in (
        "Plugins/rel/Archive",
        f"Plugins/rel/Versions/{a1}/Archive",
        f"Configurations/{first}/Archive",
    ):
        body = assert_error(http.post(f"{API}/{path}"), 409, 20409)
        assert "active release" in body["message"]
    assert http.get(f"{API}/Plugins/rel/Versions/{a1}").json()["archived"] is False

    # Archived configurations and configurations holding archived versions cannot be released.
    http.post(f"{API}/Configurations/{second}/Archive").raise_for_status()
    assert (
        "archived"
        in assert_error(http.post(f"{API}/Releases", data={"ConfigurationId": second}), 400, 20001)["message"]
    )
    third = configure(http, {"plugin_version": a2}, name="third").json()["sid"]
    http.post(f"{API}/Plugins/rel/Versions/{a2}/Archive").raise_for_status()
    assert (
        "archived"
        in assert_error(http.post(f"{API}/Releases", data={"ConfigurationId": third}), 400, 20001)["message"]
    )
    assert counts(http)["releases"] == 1
    assert http.get(f"{API}/Releases/Active").json()["sid"] == released.json()["sid"]


# --- accounts and authentication -----------------------------------------------------------


def test_accounts_are_isolated(http: httpx.Client, server: LiveServer, other_account: Credentials) -> None:
    plugin_sid, (v1,) = make_plugin(http, "mine", "1.0.0")
    cfg = configure(http, {"plugin_version": v1}).json()["sid"]
    release = http.post(f"{API}/Releases", data={"ConfigurationId": cfg}).json()["sid"]
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as other:
        for path in (
            f"Plugins/{plugin_sid}",
            "Plugins/mine",
            f"Plugins/{plugin_sid}/Versions/{v1}",
            f"Configurations/{cfg}",
            f"Configurations/{cfg}/Plugins",
            f"Releases/{release}",
            "Releases/Active",
        ):
            assert_error(other.get(f"{API}/{path}"), 404, 20404)
        for path in (
            f"Plugins/{plugin_sid}/Archive",
            f"Plugins/{plugin_sid}/Versions/{v1}/Archive",
            f"Configurations/{cfg}/Archive",
        ):
            assert_error(other.post(f"{API}/{path}"), 404, 20404)
        assert_error(other.post(f"{API}/Releases", data={"ConfigurationId": cfg}), 400, 20001)
        assert_error(configure(other, {"plugin_version": v1}), 400, 20001)
        assert other.get(f"{API}/Plugins").json()["plugins"] == []
        assert other.get(f"{API}/Releases").json()["releases"] == []
    assert http.get(f"{API}/Plugins/{plugin_sid}").json()["archived"] is False


def test_authentication_is_required(
    server: LiveServer, account: Credentials, other_account: Credentials
) -> None:
    import base64

    url = f"{server.url}{API}/Plugins"
    cases = [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic " + base64.b64encode(f"{account.sid}:wrong".encode()).decode()},
        {
            "Authorization": "Basic "
            + base64.b64encode(f"{account.sid}:{other_account.token}".encode()).decode()
        },
        {"Authorization": "Basic " + base64.b64encode(f"AC{'0' * 32}:{account.token}".encode()).decode()},
        {"Authorization": "Basic " + base64.b64encode(f"SK{'0' * 32}:{account.token}".encode()).decode()},
    ]
    for headers in cases:
        refused = httpx.get(url, headers=headers)
        assert_error(refused, 401, 20003)
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="flexplugins"'
        assert_error(httpx.post(url, headers=headers, data={"UniqueName": "sneaky"}), 401, 20003)
    with httpx.Client(base_url=server.url, auth=(account.sid, account.token)) as http:
        assert http.get(f"{API}/Plugins/sneaky").status_code == 404


def test_healthz_needs_no_credentials(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


# --- wire format ---------------------------------------------------------------------------


def test_pagination_meta_and_tokens(
    http: httpx.Client, server: LiveServer, other_account: Credentials
) -> None:
    for n in range(5):
        http.post(f"{API}/Plugins", data={"UniqueName": f"p{n}"}).raise_for_status()
    first = http.get(f"{API}/Plugins", params={"PageSize": 2}).json()
    assert_valid("ListPlugin", 200, first)
    meta = first["meta"]
    assert meta["page"] == 0 and meta["page_size"] == 2 and meta["key"] == "plugins"
    assert meta["first_page_url"] == f"{server.url}{API}/Plugins?PageSize=2&Page=0"
    assert meta["previous_page_url"] is None
    assert [p["unique_name"] for p in first["plugins"]] == ["p4", "p3"]
    second = http.get(meta["next_page_url"]).json()
    assert [p["unique_name"] for p in second["plugins"]] == ["p2", "p1"]
    assert second["meta"]["page"] == 1
    back = http.get(second["meta"]["previous_page_url"]).json()
    assert [p["unique_name"] for p in back["plugins"]] == ["p4", "p3"]
    third = http.get(second["meta"]["next_page_url"]).json()
    assert [p["unique_name"] for p in third["plugins"]] == ["p0"] and third["meta"]["next_page_url"] is None

    token = second["meta"]["next_page_url"].split("PageToken=")[1]
    # A token alone (as the Node toolkit sends it, without Page) still links back.
    alone = http.get(f"{API}/Plugins", params={"PageSize": 2, "PageToken": token}).json()
    assert [p["unique_name"] for p in alone["plugins"]] == ["p0"]
    assert http.get(alone["meta"]["previous_page_url"]).json()["plugins"][0]["unique_name"] == "p2"
    # A token of this list is refused on another list, on another account, and when forged.
    assert_error(http.get(f"{API}/Configurations", params={"PageToken": token}), 400, 20001)
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as other:
        assert_error(other.get(f"{API}/Plugins", params={"PageToken": token}), 400, 20001)
    assert_error(http.get(f"{API}/Plugins", params={"PageToken": token[:-2] + "xx"}), 400, 20001)
    assert_error(http.get(f"{API}/Plugins", params={"PageToken": "garbage"}), 400, 20001)
    for bad in ("0", "1001", "-1", "abc", "99999999999999999999"):
        assert_error(http.get(f"{API}/Plugins", params={"PageSize": bad}), 400, 20001)
    for bad in ("-1", "x"):
        assert_error(http.get(f"{API}/Plugins", params={"Page": bad}), 400, 20001)


def test_public_url_and_forms(http: httpx.Client) -> None:
    # Invalid UTF-8, NUL bytes and other media types are refused with the vendor's error.
    assert_error(
        http.post(
            f"{API}/Plugins",
            content=b"UniqueName=%FF%FE",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        400,
        20001,
    )
    assert_error(http.post(f"{API}/Plugins", data={"UniqueName": "nul\x00byte"}), 400, 20001)
    assert_error(
        http.post(
            f"{API}/Plugins", content=b'{"UniqueName": "x"}', headers={"Content-Type": "application/json"}
        ),
        415,
        20415,
    )
    assert_error(
        http.post(
            f"{API}/Plugins",
            content=b"UniqueName=" + b"a" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        413,
        20413,
    )
    assert counts(http)["plugins"] == 0
