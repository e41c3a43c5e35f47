"""`flexplugins apply FILE`: the active release made to match a TOML file, as CI runs it on every merge."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from flexplugins.cli import apply, converge
from flexplugins.cli.common import Session
from flexplugins.client import integrity_of
from tests.cli.conftest import Cli, write_bundle
from tests.cli.state import account_state, active_plugins, loaded

BUNDLES = "/flexplugins/v1/Bundles"
CDN = "https://cdn.example.com/crm/1.0.0/bundle.js"


def project(tmp_path: Path) -> Path:
    """A repository: two built plugins and the file that says what is live."""
    write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello 1');\n")
    write_bundle(tmp_path / "hello" / "build", "plugin-hello.js.map", '{"version": 3}')
    write_bundle(tmp_path / "bye", "bye.js", "console.log('bye 1');\n")
    return write_file(tmp_path, HELLO="1.0.0", BYE_PHASE="0")


def write_file(tmp_path: Path, **values: str) -> Path:
    settings = {"HELLO": "1.0.0", "BYE_PHASE": "0", "PRUNE": "false", "CRM": ""} | values
    text = """
prune = {PRUNE}

[release]
description = "from the repository"

[[plugins]]
name = "plugin-hello"
version = "{HELLO}"
bundle = "hello/build"
phase = 3
changelog = "Hello {HELLO}"
friendly_name = "Hello"

[[plugins]]
name = "plugin-bye"
version = "2.0.0"
bundle = "bye/bye.js"
private = true
phase = {BYE_PHASE}
{CRM}
"""
    for key, value in settings.items():
        text = text.replace("{" + key + "}", value)
    path = tmp_path / "flexplugins.toml"
    path.write_text(text)
    return path


CRM_ENTRY = f"""
[[plugins]]
name = "plugin-crm"
version = "1.0.0"
plugin_url = "{CDN}"
"""


def test_apply_twice_the_second_run_changes_nothing(cli: Cli, http: httpx.Client, tmp_path: Path) -> None:
    file = project(tmp_path)
    empty = account_state(http)
    plan = cli.json("apply", str(file), "--dry-run")
    assert plan["changed"] is True and plan["dry_run"] is True and plan["release"] is None
    assert plan["plugins_created"] == ["plugin-hello", "plugin-bye"]
    assert [(v["unique_name"], v["version"]) for v in plan["versions_created"]] == [
        ("plugin-hello", "1.0.0"),
        ("plugin-bye", "2.0.0"),
    ]
    assert [(c["unique_name"], c["change"], c["after"]) for c in plan["changes"]] == [
        ("plugin-bye", "added", {"version": "2.0.0", "phase": 0}),
        ("plugin-hello", "added", {"version": "1.0.0", "phase": 3}),
    ]
    assert "Dry run, nothing written" in cli.ok("apply", str(file), "--dry-run").stdout
    assert account_state(http) == empty
    digest = hashlib.sha256(b"console.log('hello 1');\n").hexdigest()
    assert http.get(f"{BUNDLES}/{cli.env['TWILIO_ACCOUNT_SID']}/{digest}.js").status_code == 404

    first = cli.json("apply", str(file))
    assert first["changed"] is True and first["release"]["sid"] == first["active_release_sid"]
    # Phases honoured: bye (phase 0) loads before hello (phase 3), private as declared.
    assert loaded(http) == [
        ("plugin-bye", "2.0.0", 0, True, integrity_of(b"console.log('bye 1');\n")),
        ("plugin-hello", "1.0.0", 3, False, integrity_of(b"console.log('hello 1');\n")),
    ]
    hello = active_plugins(http)[1]
    assert (hello["changelog"], hello["friendly_name"]) == ("Hello 1.0.0", "Hello")

    state = account_state(http)
    again = cli.json("apply", str(file))
    assert again["changed"] is False and again["release"] is None and again["release_method"] == "none"
    assert again["versions_created"] == again["plugins_created"] == again["changes"] == []
    assert again["active_release_sid"] == first["release"]["sid"]
    said = cli.ok("apply", str(file))
    assert said.exit_code == 0 and "No change" in said.stdout
    assert account_state(http) == state

    # A new version in the file: deployed and released; the unchanged plugin is left alone.
    write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello 1.1');\n")
    file = write_file(tmp_path, HELLO="1.1.0")
    bumped = cli.json("apply", str(file))
    assert [v["unique_name"] for v in bumped["versions_created"]] == ["plugin-hello"]
    assert bumped["release_method"] == "delta"  # a replaced version keeps its phase
    assert [(c["unique_name"], c["change"]) for c in bumped["changes"]] == [("plugin-hello", "changed")]
    assert [entry[:3] for entry in loaded(http)] == [("plugin-bye", "2.0.0", 0), ("plugin-hello", "1.1.0", 3)]
    assert cli.json("apply", str(file))["changed"] is False

    # Back to 1.0.0, no longer live: its bytes are read from the server and match, so it is released again.
    write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello 1');\n")
    back = cli.json("apply", str(write_file(tmp_path, HELLO="1.0.0")))
    assert back["versions_created"] == [] and back["changed"] is True
    assert [(c["unique_name"], c["before"]["version"], c["after"]["version"]) for c in back["changes"]] == [
        ("plugin-hello", "1.1.0", "1.0.0")
    ]


def test_apply_refuses_a_changed_bundle_or_url_under_an_existing_version(
    cli: Cli, http: httpx.Client, tmp_path: Path
) -> None:
    file = project(tmp_path)
    cli.json("apply", str(file))
    state = account_state(http)
    # Rebuilt without bumping the version: refused, nothing written, not even the new bytes uploaded.
    rebuilt = write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello 1 fixed');\n")
    line = cli.fails("apply", str(file), fragment="plugin-hello@1.0.0 exists with other bytes")
    assert "immutable" in line and "hello/build/plugin-hello.js" in line
    assert account_state(http) == state
    digest = hashlib.sha256(rebuilt.read_bytes()).hexdigest()
    assert http.get(f"{BUNDLES}/{cli.env['TWILIO_ACCOUNT_SID']}/{digest}.js").status_code == 404
    cli.fails("apply", str(file), "--dry-run", fragment="other bytes")
    write_bundle(tmp_path / "hello" / "build", "plugin-hello.js", "console.log('hello 1');\n")

    # The same for a URL, and for the private flag.
    file = write_file(tmp_path, CRM=CRM_ENTRY)
    cli.json("apply", str(file))
    state = account_state(http)
    file = write_file(tmp_path, CRM=CRM_ENTRY.replace(CDN, "https://cdn.example.com/crm/moved.js"))
    cli.fails("apply", str(file), fragment=f"plugin-crm@1.0.0 exists with the URL {CDN}")
    file = write_file(tmp_path, CRM=CRM_ENTRY + "private = true\n")
    cli.fails("apply", str(file), fragment="plugin-crm@1.0.0 exists as a public version")
    assert account_state(http) == state


def test_apply_phases_and_prune(cli: Cli, http: httpx.Client, tmp_path: Path) -> None:
    project(tmp_path)
    cli.json("apply", str(write_file(tmp_path, CRM=CRM_ENTRY)))
    assert [entry[0] for entry in loaded(http)] == ["plugin-bye", "plugin-crm", "plugin-hello"]
    # Only a phase changes: no delta release sets a phase, so a configuration is created and released.
    moved = cli.json("apply", str(write_file(tmp_path, CRM=CRM_ENTRY, BYE_PHASE="7")))
    assert moved["release_method"] == "configuration" and moved["versions_created"] == []
    assert [(c["unique_name"], c["change"]) for c in moved["changes"]] == [("plugin-bye", "moved")]
    assert [entry[:3] for entry in loaded(http)] == [
        ("plugin-crm", "1.0.0", 0), ("plugin-hello", "1.0.0", 3), ("plugin-bye", "2.0.0", 7)
    ]  # fmt: skip
    # Without prune, a live plugin the file does not list stays where it is ...
    kept = cli.json("apply", str(write_file(tmp_path, BYE_PHASE="7")))
    assert kept["changed"] is False
    assert "plugin-crm" in [entry[0] for entry in loaded(http)]
    # ... and with prune = true the file is the whole truth.
    pruned = cli.json("apply", str(write_file(tmp_path, BYE_PHASE="7", PRUNE="true")))
    assert [(c["unique_name"], c["change"]) for c in pruned["changes"]] == [("plugin-crm", "removed")]
    assert [entry[0] for entry in loaded(http)] == ["plugin-hello", "plugin-bye"]
    assert cli.json("apply", str(write_file(tmp_path, BYE_PHASE="7", PRUNE="true")))["changed"] is False


def test_apply_refuses_a_bad_file_writing_nothing(cli: Cli, http: httpx.Client, tmp_path: Path) -> None:
    file = project(tmp_path)
    empty = account_state(http)
    text = file.read_text()
    cases = {
        "[[plugins]]\nname = 'x'\nversion = '1.0.0'\nbundel = 'a.js'\n": "unknown key(s) bundel",
        "[[plugins]]\nname = 'x'\nversion = '1.0.0'\n": "give either `bundle`",
        "[[plugins]]\nname = 'plugin-hello'\nversion = '9.0.0'\nplugin_url = 'https://a.example/x.js'\n": (
            "declared more than once"
        ),
        "[[plugins]]\nname = 'x'\nversion = '1.0.0'\nplugin_url = 'ftp://a'\n": "PluginUrl must be",
        "[[plugins]]\nname = 'x'\nversion = '1.0.0'\nplugin_url = 'https://a.example/x.js'\nphase = 1001\n": (
            "`phase` must be an integer"
        ),
        "[[plugins]]\nname = 'x'\nversion = '1.0.0'\nbundle = 'missing'\n": "is neither a bundle file nor",
        "[[plugins]\n": "is not valid TOML",
    }
    for extra, fragment in cases.items():
        file.write_text(text + "\n" + extra)
        cli.fails("apply", str(file), fragment=fragment)
    file.write_text(text.replace("prune = false", "prune = 'yes'"))
    cli.fails("apply", str(file), fragment="`prune` must be true or false")
    cli.fails("apply", str(tmp_path / "nothing.toml"), fragment="cannot read")
    assert account_state(http) == empty


def test_apply_releases_only_on_top_of_the_release_it_planned_against(
    cli: Cli, http: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release lands between apply's plan and its release: 412, nothing released, the versions deployed
    stay; the next run plans against what is live and keeps the other release's plugin (prune = false)."""
    file = project(tmp_path)
    for name, value in cli.environment().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    session = Session(cli.url, None, True)
    try:
        plan = apply.make_plan(session.client, apply.load(file))
        cli.json("deploy", "meanwhile", "--plugin-url", CDN, "--version", "1.0.0")
        other = cli.json("release", "meanwhile@1.0.0")["release"]["sid"]
        with pytest.raises(converge.ActiveReleaseChanged):
            apply.carry_out(session, plan)
    finally:
        session.close()
    assert [r["sid"] for r in account_state(http)["releases"]] == [other]
    assert sorted(v["unique_name"] for v in cli.json("list", "plugins")) == sorted(
        ["meanwhile", "plugin-bye", "plugin-hello"]
    )
    again = cli.json("apply", str(file))
    assert again["versions_created"] == [] and again["if_match"] == f'"{other}"'
    assert [entry[0] for entry in loaded(http)] == ["meanwhile", "plugin-bye", "plugin-hello"]
