"""Done means 1: one session from an empty account: deploy, release, deploy, release, diff, roll back."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx

from tests.cli.conftest import Cli, write_bundle
from tests.conftest import Credentials, LiveServer


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_deploy_release_rollback_session(
    cli: Cli, server: LiveServer, account: Credentials, tmp_path: Path
) -> None:
    assert cli.json("list", "releases") == []
    # A folder with one entry file (and its source map), and a plain file.
    build = tmp_path / "plugin-hello" / "build"
    write_bundle(build, "plugin-hello.js", "console.log('hello 1.0.0');\n")
    write_bundle(build, "plugin-hello.js.map", '{"version": 3}')
    bye = write_bundle(tmp_path / "bye", "bye.js", "console.log('bye \u2713');\n")

    hello1 = cli.json("deploy", "plugin-hello", str(build), "--version", "1.0.0", "--changelog", "first")
    bye1 = cli.json("deploy", "plugin-bye", str(bye), "--private", "--description", "Says bye")
    assert hello1["plugin_version"]["version"] == "1.0.0"
    assert hello1["plugin_version"]["changelog"] == "first"
    assert bye1["plugin_version"]["version"] == "0.0.1"  # bumped (--patch) from nothing
    assert bye1["plugin"]["description"] == "Says bye"
    assert bye1["plugin_version"]["private"] is True

    first = cli.json("release", "plugin-hello@1.0.0", "plugin-bye@0.0.1")
    assert {c["unique_name"]: c["change"] for c in first["changes"]} == {
        "plugin-hello": "added",
        "plugin-bye": "added",
    }

    write_bundle(build, "plugin-hello.js", "console.log('hello 1.1.0');\n")
    hello2 = cli.json("deploy", "plugin-hello", str(build), "--minor")
    assert hello2["plugin_version"]["version"] == "1.1.0"
    second = cli.json("release", "plugin-hello@1.1.0")
    assert [item["unique_name"] for item in second["plugins"]] == ["plugin-hello", "plugin-bye"]
    assert {c["unique_name"]: c["change"] for c in second["changes"]} == {
        "plugin-hello": "changed",
        "plugin-bye": "same",
    }

    first_sid, second_sid = first["release"]["sid"], second["release"]["sid"]
    diff = cli.json("diff", first_sid, second_sid)
    assert diff["changes"] == [
        {
            "unique_name": "plugin-hello",
            "change": "changed",
            "before": {
                "unique_name": "plugin-hello",
                "plugin_sid": hello1["plugin"]["sid"],
                "plugin_version_sid": hello1["plugin_version"]["sid"],
                "version": "1.0.0",
                "phase": 0,
            },
            "after": {
                "unique_name": "plugin-hello",
                "plugin_sid": hello1["plugin"]["sid"],
                "plugin_version_sid": hello2["plugin_version"]["sid"],
                "version": "1.1.0",
                "phase": 0,
            },
        }
    ]
    readable = cli.ok("diff", first_sid, second_sid).stdout
    assert "~ plugin-hello: 1.0.0 (phase 0) -> 1.1.0 (phase 0)" in readable

    rolled = cli.json("rollback")
    assert rolled["release"]["configuration_sid"] == first["release"]["configuration_sid"]
    assert {c["unique_name"]: c["change"] for c in rolled["changes"]}["plugin-hello"] == "changed"

    releases = cli.json("list", "releases")
    assert [r["sid"] for r in releases][1:] == [second_sid, first_sid]
    assert [r["active"] for r in releases] == [True, False, False]
    assert releases[0]["sid"] == rolled["release"]["sid"]
    table = cli.ok("list", "releases").stdout
    assert table.count("FK") == 3 and "*" in table

    active = cli.json("describe", "release", "active")
    assert {(p["unique_name"], p["version"]) for p in active["configuration"]["plugins"]} == {
        ("plugin-hello", "1.0.0"),
        ("plugin-bye", "0.0.1"),
    }

    # The bundle URLs give back the bytes uploaded, and the integrity values match them.
    for deployed, data in (
        (hello1, b"console.log('hello 1.0.0');\n"),
        (hello2, b"console.log('hello 1.1.0');\n"),
    ):
        url = deployed["plugin_version"]["plugin_url"]
        assert url == deployed["bundle"]["url"] and url.startswith(server.url + "/flexplugins/v1/Bundles/")
        served = httpx.get(url)
        assert served.status_code == 200 and served.content == data
        assert deployed["bundle"]["integrity"] == sri(served.content)
    private_url = bye1["plugin_version"]["plugin_url"]
    assert httpx.get(private_url).status_code == 401
    served = httpx.get(private_url, auth=(account.sid, account.token))
    assert served.content == "console.log('bye \u2713');\n".encode()
    assert bye1["bundle"]["integrity"] == sri(served.content)


def test_deploy_private_uploads_the_bundle_private_from_the_start(
    cli: Cli, server: LiveServer, account: Credentials, tmp_path: Path
) -> None:
    first = write_bundle(tmp_path / "a", "secret.js", "console.log('secret 1');\n")
    deployed = cli.json("deploy", "plugin-secret", str(first), "--version", "1.0.0", "--private")
    assert deployed["bundle"]["private"] is True
    assert httpx.get(deployed["bundle"]["url"]).status_code == 401
    # The version is refused (it exists), yet the bundle uploaded for it was never public.
    second = write_bundle(tmp_path / "b", "secret.js", "console.log('secret 2');\n")
    cli.fails("deploy", "plugin-secret", str(second), "--version", "1.0.0", "--private", fragment="1.0.0")
    digest = hashlib.sha256(second.read_bytes()).hexdigest()
    url = f"{server.url}/flexplugins/v1/Bundles/{account.sid}/{digest}.js"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, auth=(account.sid, account.token)).content == second.read_bytes()
