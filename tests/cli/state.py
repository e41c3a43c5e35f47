"""What an account holds, read over HTTP, for tests that must show a command wrote nothing (or what)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.openapi import assert_valid

API = "/v1/PluginService"
ALL = {"PageSize": 1000}


def account_state(http: httpx.Client) -> dict[str, Any]:
    """Every plugin with its versions, configuration, release and audit event of the account."""
    plugins = http.get(f"{API}/Plugins", params=ALL).json()["plugins"]
    versions = {
        plugin["unique_name"]: http.get(f"{API}/Plugins/{plugin['sid']}/Versions", params=ALL).json()[
            "plugin_versions"
        ]
        for plugin in plugins
    }
    return {
        "plugins": plugins,
        "versions": versions,
        "configurations": http.get(f"{API}/Configurations", params=ALL).json()["configurations"],
        "releases": http.get(f"{API}/Releases", params=ALL).json()["releases"],
        "audit": http.get("/flexplugins/v1/AuditEvents", params=ALL).json()["audit_events"],
    }


def manifest(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/flexplugins/v1/Runtime/Manifest")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def loaded(http: httpx.Client) -> list[tuple[str, str, int, bool, str | None]]:
    """What a host application loads, in order: name, version, phase, private, integrity."""
    return [
        (p["unique_name"], p["version"], p["phase"], p["private"], p["integrity"])
        for p in manifest(http)["plugins"]
    ]


def active_plugins(http: httpx.Client) -> list[dict[str, Any]]:
    """The active configuration's plugins (vendor JSON, checked against the vendor's schema)."""
    active = http.get(f"{API}/Releases/Active")
    assert active.status_code == 200, active.text
    assert_valid("FetchPluginRelease", 200, active.json())
    configuration = active.json()["configuration_sid"]
    body = http.get(f"{API}/Configurations/{configuration}/Plugins", params=ALL).json()
    assert_valid("ListConfiguredPlugin", 200, body)
    return list(body["plugins"])
