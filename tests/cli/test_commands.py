"""Done means 2: every command prints JSON that parses with --json; every error is one line and exit 1."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from flexplugins.service import accounts
from tests.cli.conftest import Cli, write_bundle
from tests.conftest import Credentials, LiveServer, free_port


@pytest.fixture
def released(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """Two plugins, alpha at 1.0.0 and 1.1.0 and beta at 0.1.0, with two releases."""
    bundle = write_bundle(tmp_path / "b", "alpha.js", "console.log('alpha');\n")
    state: dict[str, Any] = {}
    state["alpha1"] = cli.json("deploy", "alpha", str(bundle), "--version", "1.0.0")
    state["beta"] = cli.json("deploy", "beta", "--plugin-url", "https://cdn.example.com/beta.js", "--minor")
    state["r1"] = cli.json("release", "alpha@1.0.0", "beta@0.1.0", "--name", "first")
    write_bundle(tmp_path / "b", "alpha.js", "console.log('alpha 2');\n")
    state["alpha2"] = cli.json("deploy", "alpha", str(bundle), "--minor", "--changelog", "second")
    state["r2"] = cli.json("release", "alpha")  # alpha alone: its newest live version
    return state


def test_every_command_prints_json(cli: Cli, released: dict[str, Any], account: Credentials) -> None:
    assert released["beta"]["bundle"] is None
    assert released["beta"]["plugin_version"]["plugin_url"] == "https://cdn.example.com/beta.js"
    assert released["alpha2"]["plugin_version"]["version"] == "1.1.0"
    r1, r2 = released["r1"]["release"], released["r2"]["release"]
    assert released["r1"]["configuration_name"] == "first"

    plugins = cli.json("list", "plugins")
    assert {(p["unique_name"], p["active"], p["active_version"]) for p in plugins} == {
        ("alpha", True, "1.1.0"),
        ("beta", True, "0.1.0"),
    }
    versions = cli.json("list", "versions", "alpha")
    assert [(v["version"], v["active"]) for v in versions] == [("1.1.0", True), ("1.0.0", False)]
    configurations = cli.json("list", "configurations")
    assert [c["active"] for c in configurations] == [True, False]
    assert configurations[0]["sid"] == r2["configuration_sid"]
    assert [r["sid"] for r in cli.json("list", "releases")] == [r2["sid"], r1["sid"]]

    plugin = cli.json("describe", "plugin", "alpha")
    assert plugin["unique_name"] == "alpha" and len(plugin["versions"]) == 2
    version = cli.json("describe", "version", "alpha@1.0.0")
    assert version["version"] == "1.0.0" and version["active"] is False
    assert cli.json("describe", "version", "alpha", "1.1.0")["changelog"] == "second"
    assert cli.json("describe", "version", "alpha@latest")["version"] == "1.1.0"
    configuration = cli.json("describe", "configuration", r1["configuration_sid"])
    assert [p["unique_name"] for p in configuration["plugins"]] == ["alpha", "beta"]
    assert cli.json("describe", "configuration", "active")["sid"] == r2["configuration_sid"]
    release = cli.json("describe", "release", r1["sid"])
    assert release["active"] is False and release["configuration"]["name"] == "first"

    proposed = cli.json("diff", "--propose", "alpha@1.0.0", "--remove", "beta")
    assert {c["unique_name"]: c["change"] for c in proposed["changes"]} == {
        "alpha": "changed",
        "beta": "removed",
    }
    both = cli.json("diff", r1["configuration_sid"], "active", "--all")
    assert {c["unique_name"]: c["change"] for c in both["changes"]} == {"alpha": "changed", "beta": "same"}

    removed = cli.json("release", "--remove", "beta")
    assert [p["unique_name"] for p in removed["plugins"]] == ["alpha"]
    again = cli.json("release", "--configuration", r1["configuration_sid"])
    assert again["release"]["configuration_sid"] == r1["configuration_sid"]
    to = cli.json("rollback", "--to", r2["sid"])
    assert to["release"]["configuration_sid"] == r2["configuration_sid"]
    back = cli.json("rollback")
    assert back["release"]["configuration_sid"] == r1["configuration_sid"]

    timeline = cli.json("history")
    assert [row["release_sid"] for row in timeline][-2:] == [r2["sid"], r1["sid"]]
    assert timeline[0]["active"] is True
    for row in timeline:
        assert row["credential_sid"] == account.sid
        assert row["flex_metadata"].startswith("flexplugins-cli/")
    assert {c["unique_name"]: c["change"] for c in timeline[-1]["changes"]} == {
        "alpha": "added",
        "beta": "added",
    }
    events = cli.json("history", "--events", "--limit", "5")
    assert len(events) == 5 and events[0]["action"] == "release.create"

    archived_version = cli.json("archive", "version", "alpha@1.1.0")
    assert archived_version["archived"] is True
    assert cli.json("archive", "configuration", removed["release"]["configuration_sid"])["archived"] is True
    cli.ok("deploy", "gamma", "--plugin-url", "https://cdn.example.com/gamma.js")
    assert cli.json("archive", "plugin", "gamma")["archived"] is True


def test_readable_output_of_every_command(cli: Cli, released: dict[str, Any]) -> None:
    r1 = released["r1"]["release"]
    for args in (
        ["list", "plugins"],
        ["list", "versions", "alpha"],
        ["list", "configurations"],
        ["list", "releases"],
        ["describe", "plugin", "alpha"],
        ["describe", "version", "alpha@1.0.0"],
        ["describe", "configuration", r1["configuration_sid"]],
        ["describe", "release"],
        ["diff", r1["sid"], "active"],
        ["history"],
        ["history", "--events"],
    ):
        output = cli.ok(*args).stdout
        assert output.strip(), args
        with pytest.raises(ValueError):
            json.loads(output)
    assert "~ alpha: 1.0.0 (phase 0) -> 1.1.0 (phase 0)" in cli.ok("diff", r1["sid"], "active").stdout
    assert "flexplugins-cli/" in cli.ok("history").stdout


def test_api_key_credentials_are_recorded_in_history(
    cli: Cli, server: LiveServer, account: Credentials, released: dict[str, Any]
) -> None:
    key = accounts.create_key(server.db, account.sid, "ci", kind="api")
    as_key = {
        "TWILIO_ACCOUNT_SID": None,
        "TWILIO_AUTH_TOKEN": None,
        "TWILIO_API_KEY": key.sid,
        "TWILIO_API_SECRET": key.secret,
    }
    cli.json("rollback", env=as_key)
    newest = cli.json("history", "--limit", "1")[0]
    assert newest["credential_sid"] == key.sid


def test_login_saves_a_private_profile(cli: Cli, account: Credentials) -> None:
    saved = cli.json("login", "--profile", "work")
    path = Path(saved["path"])
    assert path == cli.config_home / "flexplugins" / "profiles.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["profiles"]["work"]["username"] == account.sid
    no_env = {"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "FLEXPLUGINS_URL": None}
    assert cli.json("list", "plugins", env=no_env) == []  # the saved default profile, with its URL
    assert cli.json("list", "plugins", "--profile", "work", env=no_env) == []
    cli.fails("list", "plugins", "--profile", "nope", env=no_env, fragment="no profile 'nope'")
    # Explicit options, the secret read from a prompt.
    # Explicit options, the secret asked for; a refused login saves nothing.
    prompted = cli.run(
        "login", "--profile", "other", "--sid", account.sid, "--url", cli.url, input=account.token + "\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert account.token not in prompted.stdout
    assert json.loads(path.read_text())["default"] == "other"
    cli.fails(
        "login",
        "--profile",
        "bad",
        "--sid",
        account.sid,
        "--secret",
        "wrong-token-xxxxxxxx",
        fragment="20003",
    )
    assert "bad" not in json.loads(path.read_text())["profiles"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- error paths ---------------------------------------------------------------------------------

EVERY_COMMAND = [
    ["deploy", "alpha", "--plugin-url", "https://cdn.example.com/a.js"],
    ["release", "alpha@1.0.0"],
    ["release", "--configuration", "FJ" + "0" * 32],
    ["rollback"],
    ["list", "plugins"],
    ["list", "versions", "alpha"],
    ["list", "configurations"],
    ["list", "releases"],
    ["describe", "plugin", "alpha"],
    ["describe", "version", "alpha@1.0.0"],
    ["describe", "configuration", "active"],
    ["describe", "release"],
    ["diff", "active", "active"],
    ["diff", "--propose", "alpha@1.0.0"],
    ["archive", "plugin", "alpha"],
    ["archive", "version", "alpha@1.0.0"],
    ["archive", "configuration", "FJ" + "0" * 32],
    ["history"],
    ["history", "--events"],
    ["login"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda args: " ".join(args[:2]))
def test_server_down_is_one_line(cli: Cli, args: list[str]) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    cli.fails(*args, env={"FLEXPLUGINS_URL": down}, fragment=f"Cannot reach the server at {down}")
    result = cli.run(*args, "--json", env={"FLEXPLUGINS_URL": down})
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["message"].startswith("Cannot reach")


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda args: " ".join(args[:2]))
def test_bad_credentials_are_one_line(cli: Cli, account: Credentials, args: list[str]) -> None:
    wrong = {"TWILIO_AUTH_TOKEN": "not-the-token-of-this-account"}
    line = cli.fails(*args, env=wrong, fragment="Authentication")
    assert "20003" in line and "401" in line
    result = cli.run(*args, "--json", env=wrong)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == 20003


def test_no_credentials_at_all(cli: Cli) -> None:
    cli.fails(
        "list",
        "plugins",
        env={"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None},
        fragment="flexplugins login",
    )


def test_unknown_plugin(cli: Cli, released: dict[str, Any]) -> None:
    for args in (
        ["release", "nope@1.0.0"],
        ["diff", "--propose", "nope@1.0.0"],
        ["describe", "version", "nope@1.0.0"],
        ["describe", "plugin", "nope"],
        ["list", "versions", "nope"],
        ["archive", "plugin", "nope"],
        ["archive", "version", "nope@1.0.0"],
    ):
        line = cli.fails(*args, fragment="nope")
        assert "20404" in line
    cli.fails("release", "--remove", "nope", fragment="not in the active release")


def test_bad_version(cli: Cli, released: dict[str, Any], tmp_path: Path) -> None:
    assert "20404" in cli.fails("release", "alpha@9.9.9", fragment="has no version '9.9.9'")
    cli.fails("describe", "version", "alpha@9.9.9", fragment="9.9.9")
    cli.fails("archive", "version", "alpha@9.9.9", fragment="9.9.9")
    cli.fails(
        "deploy", "alpha", "--plugin-url", "https://x.example/a.js", "--version", "one", fragment="semantic"
    )
    line = cli.fails("deploy", "alpha", "--plugin-url", "https://x.example/a.js", "--version", "1.0.0")
    assert "20409" in line and "already has a version" in line
    cli.fails("deploy", "alpha", "--plugin-url", "https://x.example/a.js", "--version", "2.0.0", "--major")
    cli.fails("deploy", "alpha", "--plugin-url", "not a url", fragment="PluginUrl")
    cli.fails("deploy", "alpha", fragment="BUNDLE")
    cli.fails("deploy", "alpha", str(tmp_path / "missing.js"), fragment="neither a bundle file nor a folder")
    empty = write_bundle(tmp_path / "e", "empty.js", "")
    assert "20001" in cli.fails("deploy", "alpha", str(empty), fragment="empty")
    two = tmp_path / "two"
    write_bundle(two, "one.js", "1")
    write_bundle(two, "other.js", "2")
    cli.fails("deploy", "alpha", str(two), fragment="holds no alpha.js but one.js, other.js")


def test_archived_version_and_plugin(cli: Cli, released: dict[str, Any]) -> None:
    cli.fails("archive", "version", "alpha@1.1.0", fragment="active release")  # live: refused
    assert cli.json("archive", "version", "alpha@1.0.0")["archived"] is True
    line = cli.fails("release", "alpha@1.0.0", fragment="archived")
    assert "20001" in line
    cli.fails("rollback", fragment="archived")  # the previous release holds alpha@1.0.0
    cli.fails(
        "release", "--configuration", released["r1"]["release"]["configuration_sid"], fragment="archived"
    )
    cli.ok("release", "--remove", "beta")
    cli.json("archive", "plugin", "beta")
    cli.fails("deploy", "beta", "--plugin-url", "https://cdn.example.com/b2.js", fragment="archived")
    cli.fails("release", "beta@0.1.0", fragment="archived")


def test_nothing_to_roll_back_or_release(cli: Cli) -> None:
    cli.fails("rollback", fragment="no release")
    cli.fails("release", fragment="Nothing to release")
    cli.fails("describe", "release", fragment="no active release")
    cli.fails("diff", "active", fragment="FROM and TO")


def test_real_process_errors_have_no_traceback(cli: Cli) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    result = cli.subprocess("list", "releases", env={"FLEXPLUGINS_URL": down})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: Cannot reach the server at {down}: [Errno 111] Connection refused"
    ]
    wrong = cli.subprocess("history", env={"TWILIO_AUTH_TOKEN": "wrong-token-wrong-token"})
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1
    assert "Traceback" not in wrong.stderr
    ok = cli.subprocess("list", "releases", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == []
