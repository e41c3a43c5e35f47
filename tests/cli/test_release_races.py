"""`flexplugins release` and `rollback` from racing pipelines: releases that all land, rollbacks that
never undo a newer release, and a release that changes nothing creating nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from flexplugins.client import Client, FlexPluginsError, etag_of
from tests.cli.conftest import Cli
from tests.conftest import Credentials, LiveServer

API = "/v1/PluginService"


def deploy(cli: Cli, name: str, version: str) -> None:
    cli.json(
        "deploy", name, "--plugin-url", f"https://cdn.example.com/{name}/{version}.js", "--version", version
    )


def release_count(http: httpx.Client) -> int:
    return len(http.get(f"{API}/Releases", params={"PageSize": 1000}).json()["releases"])


def test_parallel_cli_releases_all_land(cli: Cli, http: httpx.Client) -> None:
    """Six `flexplugins release` processes at once, each enabling its own plugin: none undoes another."""
    names = [f"pipeline-{i}" for i in range(6)]
    for name in names:
        deploy(cli, name, "1.0.0")
    with ThreadPoolExecutor(len(names)) as pool:
        done = list(pool.map(lambda name: cli.subprocess("release", f"{name}@1.0.0"), names))
    assert [d.returncode for d in done] == [0] * len(names), [d.stderr for d in done]
    live = cli.json("describe", "release", "active")
    assert sorted(p["unique_name"] for p in live["configuration"]["plugins"]) == names
    assert release_count(http) == len(names)


def test_release_of_what_is_live_creates_nothing(cli: Cli, http: httpx.Client) -> None:
    deploy(cli, "same", "1.0.0")
    first = cli.json("release", "same@1.0.0")
    again = cli.ok("release", "same@1.0.0")
    assert "Nothing changed" in again.stdout
    assert release_count(http) == 1
    assert cli.json("release", "same@1.0.0")["release"]["sid"] == first["release"]["sid"]


def test_rollback_never_undoes_a_newer_release(
    server: LiveServer, account: Credentials, cli: Cli, http: httpx.Client
) -> None:
    deploy(cli, "rb", "1.0.0")
    deploy(cli, "rb", "2.0.0")
    deploy(cli, "rb", "3.0.0")
    cli.json("release", "rb@1.0.0")
    second = cli.json("release", "rb@2.0.0")
    with Client(server.url, account.sid, account.token) as client:
        seen = client.active_release()
        assert seen is not None and seen.sid == second["release"]["sid"]
        # Another pipeline releases 3.0.0 after this rollback looked at what was live ...
        cli.json("release", "rb@3.0.0")
        previous = client.list_releases()[-1]
        # ... so releasing the rollback's choice on top of what it saw is refused, and nothing is written.
        with pytest.raises(FlexPluginsError) as refused:
            client.create_release(previous.configuration_sid, if_match=etag_of(seen))
        assert refused.value.status == 412 and refused.value.code == 20412
    assert release_count(http) == 3
    assert cli.json("describe", "release", "active")["configuration"]["plugins"][0]["version"] == "3.0.0"
    # The CLI's rollback itself works from what is live now.
    back = cli.json("rollback")
    assert back["plugins"][0]["version"] == "2.0.0"
