"""`flexplugins promote`: the same build in another environment, between two accounts of one server and
between two servers on different databases; idempotent, refusing conflicts, planning with --dry-run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from flexplugins.cli import converge, promote
from flexplugins.client import Client, PluginRef, bundle_location, integrity_of
from tests.cli.conftest import Cli, write_bundle
from tests.cli.state import account_state, active_plugins, loaded, manifest
from tests.conftest import Credentials, LiveServer, make_database_url
from tests.openapi import assert_valid
from tests.serving import serve

API = "/v1/PluginService"
BUNDLES = "/flexplugins/v1/Bundles"
TARGET_SID = "AC" + "7" * 32
TARGET_TOKEN = "target-environment-token-0123456789"
CDN = "https://cdn.example.com/crm/1.0.0/bundle.js"
ORDER = ["plugin-bye", "plugin-crm", "plugin-hello"]


@dataclass
class Env:
    """One environment: a server and an account on it."""

    url: str
    sid: str
    token: str

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(self.sid, self.token), timeout=30)

    def client(self) -> Client:
        return Client(self.url, self.sid, self.token)


@pytest.fixture
def source(server: LiveServer, account: Credentials) -> Env:
    return Env(server.url, account.sid, account.token)


@pytest.fixture
def same_server_target(server: LiveServer, other_account: Credentials) -> Env:
    return Env(server.url, other_account.sid, other_account.token)


@pytest.fixture
def other_server_target(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[Env]:
    """Another `flexplugins serve` process on a database of its own, of the other backend (the source on
    SQLite promotes to PostgreSQL and the other way round), with one known account."""
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}[backend]
    urls = make_database_url(other, tmp_path, pg_available)
    database_url = next(urls)
    proc = serve(
        database_url, tmp_path, env={"TWILIO_ACCOUNT_SID": TARGET_SID, "TWILIO_AUTH_TOKEN": TARGET_TOKEN}
    )
    try:
        yield Env(proc.url, TARGET_SID, TARGET_TOKEN)
    finally:
        proc.stop()
        urls.close()


def login(cli: Cli, profile: str, env: Env) -> None:
    cli.ok("login", "--profile", profile, "--url", env.url, "--sid", env.sid, "--secret", env.token)


def build_source(cli: Cli, source: Env, tmp_path: Path) -> dict[str, bytes]:
    """Three plugins released at phases of their own: a hosted bundle, a private one, one on a CDN."""
    hello = write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello \u2713');\n")
    bye = write_bundle(tmp_path / "bye", "bye.js", "console.log('bye');\n")
    cli.json(
        "deploy", "plugin-hello", str(hello.parent), "--version", "1.0.0", "--changelog", "First",
        "--friendly-name", "Hello", "--description", "Greets agents",
    )  # fmt: skip
    cli.json("deploy", "plugin-bye", str(bye), "--version", "2.1.0", "--private")
    cli.json("deploy", "plugin-crm", "--plugin-url", CDN, "--version", "1.0.0")
    with source.client() as client:
        refs = [
            PluginRef(client.fetch_version(name, version).sid, phase)
            for name, version, phase in (("plugin-hello", "1.0.0", 5), ("plugin-bye", "2.1.0", 0),
                                         ("plugin-crm", "1.0.0", 2))
        ]  # fmt: skip
        configuration = client.create_configuration("staging candidate", refs, "phased")
    cli.json("release", "--configuration", configuration.sid)
    return {"plugin-hello": hello.read_bytes(), "plugin-bye": bye.read_bytes()}


def assert_same_build(source: Env, target: Env, bundles: dict[str, bytes]) -> None:
    """The target's host applications load what the source's do: names, versions, phases, integrity."""
    with source.http() as s, target.http() as t:
        assert loaded(t) == loaded(s)
        assert [entry[0] for entry in loaded(t)] == ORDER
        for plugin in manifest(t)["plugins"]:
            name, url = plugin["unique_name"], plugin["plugin_url"]
            if name not in bundles:
                assert url == CDN and plugin["integrity"] is None  # hosted elsewhere: the same URL
                continue
            # The target's own copy, on the target's host, of the very same bytes.
            location = bundle_location(url)
            assert location is not None and location[0] == target.sid
            assert urlsplit(url).netloc == urlsplit(target.url).netloc
            served = t.get(urlsplit(url).path)
            assert served.status_code == 200 and served.content == bundles[name]
            assert plugin["integrity"] == integrity_of(bundles[name])
        configured = {p["unique_name"]: p for p in active_plugins(t)}
        fields = ("version", "changelog", "private", "friendly_name", "phase")
        for item in active_plugins(s):
            assert {f: configured[item["unique_name"]][f] for f in fields} == {f: item[f] for f in fields}
        assert configured["plugin-bye"]["private"] is True
        bye_path = urlsplit(configured["plugin-bye"]["plugin_url"]).path
        assert httpx.get(target.url + bye_path).status_code == 401  # still private on the target
        hello = t.get(f"{API}/Plugins/plugin-hello").json()
        assert_valid("FetchPlugin", 200, hello)
        assert (hello["friendly_name"], hello["description"]) == ("Hello", "Greets agents")


def test_promote_between_two_accounts_of_one_server(
    cli: Cli, source: Env, same_server_target: Env, tmp_path: Path
) -> None:
    target = same_server_target
    bundles = build_source(cli, source, tmp_path)
    login(cli, "staging", target)
    with target.http() as t:
        empty = account_state(t)

        plan = cli.json("promote", "--to", "staging", "--dry-run")
        assert plan["dry_run"] is True and plan["changed"] is True and plan["release"] is None
        assert sorted(p["unique_name"] for p in plan["plugins_created"]) == ORDER
        assert [(v["unique_name"], v["bundle_copied"]) for v in plan["versions_created"]] == [
            ("plugin-bye", True), ("plugin-crm", False), ("plugin-hello", True)
        ]  # fmt: skip
        assert plan["release_method"] == "configuration"  # phases 2 and 5: no delta release gives them
        assert plan["if_match"] == '"none"'
        assert [c["change"] for c in plan["changes"]] == ["added"] * 3
        text = cli.ok("promote", "--to", "staging", "--dry-run").stdout
        assert "Dry run, nothing written" in text and "copy bundle" in text
        assert account_state(t) == empty
        for data in bundles.values():  # not even a bundle was copied
            digest = hashlib.sha256(data).hexdigest()
            assert t.get(f"{BUNDLES}/{target.sid}/{digest}.js").status_code == 404

        done = cli.json("promote", "--to", "staging")
        assert done["changed"] is True and done["dry_run"] is False
        assert active_plugins(t)[2]["changelog"] == "First"
        assert done["release"]["sid"] == done["active_release_sid"]
        copied = sorted(copy["unique_name"] for copy in done["bundles_copied"])
        assert copied == ["plugin-bye", "plugin-hello"]
        assert_same_build(source, target, bundles)

        # A second run writes nothing, and says so.
        state = account_state(t)
        again = cli.json("promote", "--to", "staging")
        assert again["changed"] is False and again["release"] is None
        assert again["plugins_created"] == again["versions_created"] == again["bundles_copied"] == []
        assert again["active_release_sid"] == done["release"]["sid"]
        assert "nothing to do" in cli.ok("promote", "--to", "staging").stdout
        assert account_state(t) == state

        # An older release by SID: the target gets exactly that one back.
        first = done["source"]["release_sid"]
        cli.json("release", "--remove", "plugin-crm")
        removed = cli.json("promote", "--to", "staging")
        assert removed["release_method"] == "delta"
        assert [c["change"] for c in removed["changes"]] == ["removed"]
        back = cli.json("promote", first, "--to", "staging")
        assert back["changed"] is True and back["source"]["release_sid"] == first
        assert [entry[0] for entry in loaded(t)] == ORDER
    cli.fails("promote", "--to", "nowhere", fragment="no profile 'nowhere'")
    cli.fails("promote", "FJ" + "0" * 32, "--to", "staging", fragment="not `active` or a release SID")


def test_promote_between_two_servers(cli: Cli, source: Env, other_server_target: Env, tmp_path: Path) -> None:
    target = other_server_target
    bundles = build_source(cli, source, tmp_path)
    login(cli, "production", target)
    done = cli.json("promote", "--to", "production")
    assert done["changed"] is True
    assert_same_build(source, target, bundles)
    with target.http() as t:
        state = account_state(t)
        assert cli.json("promote", "--to", "production")["changed"] is False
        assert account_state(t) == state

        # A new version on the source: replacing a version keeps its phase, so a delta release does it.
        hello = tmp_path / "hello" / "build" / "plugin-hello.js"
        hello.write_text("console.log('hello 1.1');\n")
        cli.json("deploy", "plugin-hello", str(hello), "--version", "1.1.0")
        cli.json("release", "plugin-hello@1.1.0")
        plan = cli.json("promote", "--to", "production", "--dry-run")
        assert plan["release_method"] == "delta"
        assert [(c["unique_name"], c["change"], c["after"]) for c in plan["changes"]] == [
            ("plugin-hello", "changed", {"version": "1.1.0", "phase": 5})
        ]
        assert account_state(t) == state
        cli.json("promote", "--to", "production")
        bundles["plugin-hello"] = hello.read_bytes()
        assert_same_build(source, target, bundles)

        # The target already has 1.2.0 of plugin-hello with other bytes, and plugin-crm 1.1.0 at another
        # URL: versions are immutable, so promote refuses and writes nothing at all.
        with target.client() as client:
            theirs = client.upload_bundle(b"console.log('another build');\n")
            client.create_version("plugin-hello", "1.2.0", theirs.url)
            client.create_version("plugin-crm", "1.1.0", "https://cdn.example.com/crm/elsewhere.js")
        hello.write_text("console.log('hello 1.2');\n")
        cli.json("deploy", "plugin-hello", str(hello), "--version", "1.2.0")
        crm = "https://cdn.example.com/crm/1.1.0.js"
        cli.json("deploy", "plugin-crm", "--plugin-url", crm, "--version", "1.1.0")
        cli.json("release", "plugin-hello@1.2.0", "plugin-crm@1.1.0")
        state = account_state(t)
        line = cli.fails("promote", "--to", "production", fragment="immutable")
        assert "plugin-hello@1.2.0" in line and "plugin-crm@1.1.0" in line
        assert account_state(t) == state
        digest = hashlib.sha256(hello.read_bytes()).hexdigest()
        assert t.get(f"{BUNDLES}/{target.sid}/{digest}.js").status_code == 404


def test_promote_releases_only_on_top_of_the_release_it_planned_against(
    cli: Cli, source: Env, same_server_target: Env, tmp_path: Path
) -> None:
    """Another release lands on the target between the plan and the release: 412, nothing released, the
    configuration made for it archived; the versions created stay; a new run plans against it."""
    target = same_server_target
    bundles = build_source(cli, source, tmp_path)
    with source.client() as origin, target.client() as client:
        plan = promote.make_plan(origin, client, "active")
        client.create_plugin("meanwhile")
        version = client.create_version("meanwhile", "1.0.0", "https://cdn.example.com/meanwhile.js")
        other = client.create_release(client.create_configuration("meanwhile", [PluginRef(version.sid)]).sid)
        with pytest.raises(converge.ActiveReleaseChanged):
            promote.carry_out(origin, client, plan)
        assert [release.sid for release in client.list_releases()] == [other.sid]
        made = [c for c in client.list_configurations() if c.name != "meanwhile"]
        assert len(made) == 1 and made[0].archived
        assert {v.version for v in client.list_versions("plugin-hello")} == {"1.0.0"}
    login(cli, "staging", target)
    again = cli.json("promote", "--to", "staging")
    assert again["versions_created"] == [] and again["if_match"] == f'"{other.sid}"'
    assert [c["change"] for c in again["changes"] if c["unique_name"] == "meanwhile"] == ["removed"]
    assert_same_build(source, target, bundles)
