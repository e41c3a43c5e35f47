"""The vendor's general Node helper library (`twilio` on npm, 5.x) drives every Plugin Service operation.

tests/compat/node_helper/operations.js points `client.flexApi` at the test server (its only change:
`client.flexApi.baseUrl`), runs every `client.flexApi.v1` plugin operation (plugins, versions,
configurations, configured plugins, releases, the three archives, lookups by unique name and version
string, `list`/`each` across pages, Flex-Metadata, RestException errors), asserts every answer with
node's `assert`, and prints a JSON summary holding every exchange with the raw response text. Here
each raw body is validated against the vendor's OpenAPI file, all 18 operations must appear, and the
final state is read back over plain HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error, assert_valid, assert_valid_response

HELPER_DIR = Path(__file__).resolve().parent / "node_helper"
LIBRARY_PACKAGE = HELPER_DIR / "node_modules" / "twilio" / "package.json"
DRIVER = HELPER_DIR / "operations.js"

# Every step of operations.js; a step that silently disappears is a failure too.
STEPS = 17
OPERATIONS = {
    "CreatePlugin",
    "FetchPlugin",
    "UpdatePlugin",
    "ListPlugin",
    "UpdatePluginArchive",
    "CreatePluginVersion",
    "FetchPluginVersion",
    "ListPluginVersion",
    "UpdatePluginVersionArchive",
    "CreatePluginConfiguration",
    "FetchPluginConfiguration",
    "ListPluginConfiguration",
    "UpdatePluginConfigurationArchive",
    "ListConfiguredPlugin",
    "FetchConfiguredPlugin",
    "CreatePluginRelease",
    "FetchPluginRelease",
    "ListPluginRelease",
}


@pytest.fixture(scope="session")
def node_helper() -> str:
    """The node binary, with `twilio` installed in tests/compat/node_helper (npm install if needed)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Node helper library compatibility test needs Node.js 18+")
    pinned = json.loads((HELPER_DIR / "package.json").read_text())["dependencies"]["twilio"]
    installed = json.loads(LIBRARY_PACKAGE.read_text())["version"] if LIBRARY_PACKAGE.exists() else None
    if installed != pinned:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "tests/compat/node_helper/node_modules is missing and npm is not on PATH to install it"
            )
        done = subprocess.run(
            [
                npm,
                "ci" if (HELPER_DIR / "package-lock.json").exists() else "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ],
            cwd=HELPER_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not LIBRARY_PACKAGE.exists():
            pytest.fail(f"npm install in tests/compat/node_helper failed:\n{done.stderr[-2000:]}")
    version = json.loads(LIBRARY_PACKAGE.read_text())["version"]
    assert version == pinned and version.startswith("5."), f"expected twilio {pinned} (5.x), found {version}"
    return node


def _node_env() -> dict[str, str]:
    """The environment without proxies or Twilio settings: the library must talk straight to the server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy") and not k.startswith("TWILIO_")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_driver(node: str, server: LiveServer, account: Credentials) -> dict[str, Any]:
    done = subprocess.run(
        [node, str(DRIVER), server.url, account.sid, account.token],
        cwd=HELPER_DIR,
        env=_node_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    stdout = done.stdout[-20000:]
    report = f"node exited {done.returncode}\n--- stderr ---\n{done.stderr}\n--- stdout ---\n{stdout}"
    try:
        summary: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"operations.js printed no JSON summary\n{report}")
    assert done.returncode == 0 and summary["ok"], report
    return summary


def test_node_helper_library_drives_every_operation(
    node_helper: str, server: LiveServer, account: Credentials
) -> None:
    summary = run_driver(node_helper, server, account)

    assert summary["failures"] == []
    assert len(summary["steps"]) == STEPS, [s["name"] for s in summary["steps"]]
    assert all(s["ok"] for s in summary["steps"])
    assert summary["accountSid"] == account.sid
    assert summary["library"].startswith("5.")
    assert summary["errors"] == {
        "missing": {"status": 404, "code": 20404, "moreInfo": "https://www.twilio.com/docs/errors/20404"},
        "duplicate": {"status": 409, "code": 20409, "moreInfo": "https://www.twilio.com/docs/errors/20409"},
    }

    # Every raw body the library received is JSON matching its documented schema.
    exchanges = summary["exchanges"]
    operations: dict[str, int] = {}
    statuses = set()
    for exchange in exchanges:
        method, path, status = exchange["method"], exchange["path"], exchange["status"]
        assert exchange["url"].startswith(server.url + "/v1/PluginService/"), exchange["url"]
        assert exchange["contentType"].startswith("application/json"), exchange
        body = json.loads(exchange["body"])
        try:
            operation = assert_valid_response(method, path, status, body)
        except Exception as exc:  # name the exchange that broke the schema
            raise AssertionError(f"{method} {exchange['url']} -> {status}: {exchange['body']}") from exc
        operations[operation] = operations.get(operation, 0) + 1
        statuses.add((operation, status))
    assert set(operations) == OPERATIONS, sorted(OPERATIONS ^ set(operations))
    assert {
        ("FetchPluginRelease", 404),
        ("FetchPlugin", 404),
        ("CreatePlugin", 409),
        ("UpdatePluginVersionArchive", 409),
    } <= statuses
    assert all(s in (200, 201, 404, 409) for _, s in statuses), sorted(statuses)

    # How the library encoded what it sent: form bodies, repeated Plugins JSON, Flex-Metadata.
    metadata = summary["flexMetadata"]
    tagged = {
        f"{e['method']} {e['path']}"
        for e in exchanges
        if e["requestHeaders"].get("Flex-Metadata") == metadata
    }
    assert len(tagged) >= 12, sorted(tagged)
    assert all(
        e["requestHeaders"].get("Content-Type") == "application/x-www-form-urlencoded"
        for e in exchanges
        if e["method"] == "POST"
    )
    versions = summary["versions"]
    zero_version = summary["zeroVersion"]
    configuration_posts = [
        parse_qs(e["requestBody"])
        for e in exchanges
        if e["method"] == "POST" and e["path"] == "/v1/PluginService/Configurations"
    ]
    assert configuration_posts[0]["Plugins"] == [
        json.dumps({"plugin_version": versions[1], "phase": 3}, separators=(",", ":")),
        json.dumps({"plugin_version": zero_version}, separators=(",", ":")),
    ]
    assert any("PageToken=" in e["query"] for e in exchanges if e["method"] == "GET")

    # Read the final state back over HTTP, independently of the library.
    sample = summary["plugins"]["helper-sample"]
    others = summary["plugins"]["others"]
    configs = summary["configurations"]
    releases = summary["releases"]
    archived = summary["archived"]
    with httpx.Client(base_url=server.url, auth=(account.sid, account.token), timeout=30) as http:
        service = "/v1/PluginService"
        active = http.get(f"{service}/Releases/Active")
        assert active.status_code == 200, active.text
        assert_valid("FetchPluginRelease", 200, active.json())
        assert (active.json()["sid"], active.json()["configuration_sid"]) == (releases[0], configs["first"])

        listed = http.get(f"{service}/Releases").json()
        assert_valid("ListPluginRelease", 200, listed)
        assert [r["sid"] for r in listed["releases"]] == releases
        assert [r["configuration_sid"] for r in listed["releases"]] == [
            configs["first"],
            configs["second"],
            configs["first"],
        ]

        plugin = http.get(f"{service}/Plugins/{sample}").json()
        assert_valid("FetchPlugin", 200, plugin)
        assert (plugin["unique_name"], plugin["friendly_name"], plugin["description"]) == (
            "helper-sample",
            "Sample 2",
            "second",
        )
        assert plugin["archived"] is False
        plugins = http.get(f"{service}/Plugins").json()
        assert [p["unique_name"] for p in plugins["plugins"]] == [
            "helper-3",
            "helper-2",
            "helper-1",
            "helper-0",
            "helper-sample",
        ]
        assert [p["sid"] for p in plugins["plugins"]] == [*reversed(others), sample]
        assert [p["archived"] for p in plugins["plugins"]] == [True, False, False, False, False]
        assert archived["plugin"] == others[3]

        listed_versions = http.get(f"{service}/Plugins/{sample}/Versions").json()
        assert_valid("ListPluginVersion", 200, listed_versions)
        assert [v["sid"] for v in listed_versions["plugin_versions"]] == list(reversed(versions))
        flags = [(v["archived"], v["private"]) for v in listed_versions["plugin_versions"]]
        assert flags == [(False, True), (False, False), (False, False), (False, False), (True, False)]
        assert archived["pluginVersion"] == versions[0]

        assert archived["configuration"] == configs["second"]
        assert http.get(f"{service}/Configurations/{configs['second']}").json()["archived"] is True
        assert http.get(f"{service}/Configurations/{configs['first']}").json()["archived"] is False
        configured = http.get(f"{service}/Configurations/{configs['first']}/Plugins").json()
        assert_valid("ListConfiguredPlugin", 200, configured)
        assert [(p["unique_name"], p["version"], p["phase"]) for p in configured["plugins"]] == [
            ("helper-0", "0.1.0", 0),
            ("helper-sample", "1.1.0", 3),
        ]
        assert [p["plugin_version_sid"] for p in configured["plugins"]] == [zero_version, versions[1]]

        assert_error(http.get(f"{service}/Plugins/helper-no-such-plugin"), 404, 20404)

        # The server kept the Flex-Metadata the library sent, in the account's audit trail.
        events = http.get("/flexplugins/v1/AuditEvents", params={"ResourceSid": sample, "PageSize": 50})
        assert events.status_code == 200, events.text
        by_action = {e["action"]: e["flex_metadata"] for e in events.json()["audit_events"]}
        assert by_action.get("plugin.create") == metadata, by_action
