"""The vendor's Node toolkit (@twilio/flex-plugins-api-client, npm) drives the whole workflow.

tests/compat/node/workflow.js runs the toolkit's scripts in the order the `flex:plugins` CLI uses
them (deploy twice, createConfiguration, release, describe*, list*, diff, archive*) against the
live test server, asserts every answer with node's `assert`, and prints a JSON summary. Here we
check that it passed and read the final state back over plain HTTP to confirm what node reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error, assert_valid

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENT_PACKAGE = NODE_DIR / "node_modules" / "@twilio" / "flex-plugins-api-client" / "package.json"
WORKFLOW = NODE_DIR / "workflow.js"

# Every step of workflow.js, in order; a step that silently disappears is a failure too.
STEPS = 34


@pytest.fixture(scope="session")
def node_toolkit() -> str:
    """The node binary, with the toolkit installed in tests/compat/node (npm install if needed)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Node toolkit compatibility test needs Node.js 18+")
    if not CLIENT_PACKAGE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("tests/compat/node/node_modules is missing and npm is not on PATH to install it")
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not CLIENT_PACKAGE.exists():
            pytest.fail(f"npm install in tests/compat/node failed:\n{done.stderr[-2000:]}")
    version = json.loads(CLIENT_PACKAGE.read_text())["version"]
    assert version.startswith("7."), f"expected @twilio/flex-plugins-api-client 7.x, found {version}"
    return node


def _node_env() -> dict[str, str]:
    """The environment without proxies: the toolkit must talk straight to the local server."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_workflow(node: str, server: LiveServer, account: Credentials) -> dict[str, Any]:
    done = subprocess.run(
        [node, str(WORKFLOW), server.url, account.sid, account.token],
        cwd=NODE_DIR,
        env=_node_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = f"node exited {done.returncode}\n--- stderr ---\n{done.stderr}\n--- stdout ---\n{done.stdout}"
    try:
        summary: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"workflow.js printed no JSON summary\n{report}")
    assert done.returncode == 0 and summary["ok"], report
    return summary


def test_node_toolkit_workflow(node_toolkit: str, server: LiveServer, account: Credentials) -> None:
    summary = run_workflow(node_toolkit, server, account)

    assert summary["failures"] == []
    assert len(summary["steps"]) == STEPS, [s["name"] for s in summary["steps"]]
    assert all(s["ok"] for s in summary["steps"])
    assert summary["accountSid"] == account.sid

    plugins = summary["plugins"]
    versions = summary["versions"]
    configs = summary["configurations"]
    releases = summary["releases"]
    active = summary["active"]
    assert active == {"release": releases[0], "configuration": configs["second"]}
    assert summary["diff"] == {
        "oldSid": configs["first"],
        "newSid": configs["second"],
        "versions": {
            "compat-alpha": ["1.0.0", "2.0.0"],
            "compat-bravo": ["1.0.0", None],
            "compat-charlie": [None, "0.1.0"],
        },
    }
    assert summary["missingPlugin"] == {
        "status": 404,
        "code": 20404,
        "moreInfo": "https://www.twilio.com/docs/errors/20404",
    }

    # Read the final state back over HTTP, independently of the toolkit.
    with httpx.Client(
        base_url=server.url + "/v1/PluginService", auth=(account.sid, account.token), timeout=30
    ) as http:
        got = http.get("Releases/Active")
        assert got.status_code == 200, got.text
        assert_valid("FetchPluginRelease", 200, got.json())
        assert got.json()["sid"] == active["release"]
        assert got.json()["configuration_sid"] == active["configuration"]

        listed = http.get("Releases").json()
        assert_valid("ListPluginRelease", 200, listed)
        assert [r["sid"] for r in listed["releases"]] == releases
        assert [r["configuration_sid"] for r in listed["releases"]] == [configs["second"], configs["first"]]

        configured = http.get(f"Configurations/{active['configuration']}/Plugins").json()
        assert_valid("ListConfiguredPlugin", 200, configured)
        names = [f"{p['unique_name']}@{p['version']}" for p in configured["plugins"]]
        assert names == summary["activePlugins"]
        assert [p["plugin_version_sid"] for p in configured["plugins"]] == [
            versions["compat-alpha@2.0.0"],
            versions["compat-charlie@0.1.0"],
        ]
        assert [p["phase"] for p in configured["plugins"]] == [3, 3]

        listed_plugins = http.get("Plugins").json()
        assert [p["unique_name"] for p in listed_plugins["plugins"]] == [
            "compat-charlie",
            "compat-bravo",
            "compat-alpha",
        ]
        assert {p["unique_name"]: p["sid"] for p in listed_plugins["plugins"]} == plugins

        archived = summary["archived"]
        assert archived["plugin"] == plugins["compat-bravo"]
        assert archived["pluginVersion"] == versions["compat-alpha@1.0.0"]
        assert archived["configuration"] == configs["first"]
        assert http.get(f"Plugins/{archived['plugin']}").json()["archived"] is True
        assert http.get(f"Plugins/{plugins['compat-alpha']}").json()["archived"] is False
        version = http.get(f"Plugins/{plugins['compat-alpha']}/Versions/{archived['pluginVersion']}").json()
        assert version["archived"] is True and version["version"] == "1.0.0"
        assert http.get(f"Configurations/{archived['configuration']}").json()["archived"] is True
        assert http.get(f"Configurations/{configs['second']}").json()["archived"] is False

        assert_error(http.get("Plugins/compat-no-such-plugin"), 404, 20404)
