"""What a new user ran into on a fresh clone: text that Rich took for markup, a bundle folder whose
file was taken silently, versions and bump flags accepted inconsistently, and `--url HOST:PORT`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli, write_bundle


def test_deploy_private_prints_its_marker(cli: Cli, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", "plugin-a.js", "console.log('a');\n")
    out = cli.ok("deploy", "plugin-a", str(bundle), "--version", "1.0.0", "--private").stdout
    headline = out.splitlines()[0]
    assert headline.startswith("Deployed plugin-a@1.0.0 (FV")
    assert headline.endswith(") [private]"), headline


def test_user_text_prints_as_it_is_never_as_markup(cli: Cli) -> None:
    name = "[red]x[/red] [bold]y [link=https://evil.example]z"
    cli.ok(
        "deploy", "plugin-b", "--plugin-url", "https://cdn.example.com/b.js", "--friendly-name", name,
        "--changelog", "[b]fixed[/b]",
    )
    cli.ok("release", "plugin-b", "--name", "[italic]release[/italic]")
    assert name in cli.ok("describe", "plugin", "plugin-b").stdout
    assert "[b]fixed[/b]" in cli.ok("describe", "version", "plugin-b@0.0.1").stdout
    assert "[italic]release[/italic]" in cli.ok("list", "configurations").stdout


def test_deploy_prints_the_file_it_took_from_a_folder(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "build"
    write_bundle(folder, "plugin-c.js", "console.log('c');\n")
    write_bundle(folder, "plugin-c.js.map", "{}")
    write_bundle(folder, "vendor.js", "console.log('vendor');\n")
    out = cli.ok("deploy", "plugin-c", str(folder)).stdout
    assert f"  file      {folder / 'plugin-c.js'}" in out.splitlines()
    assert cli.json("deploy", "plugin-c", str(folder))["bundle_file"] == str(folder / "plugin-c.js")


def test_a_lone_file_of_another_name_is_taken_and_named(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "lone"
    write_bundle(folder, "main.js", "console.log('main');\n")
    assert cli.json("deploy", "plugin-d", str(folder))["bundle_file"] == str(folder / "main.js")


def test_a_file_of_another_name_beside_other_files_is_refused(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write_bundle(folder, "main.js", "console.log('main');\n")
    write_bundle(folder, "main.js.map", "{}")
    line = cli.fails("deploy", "plugin-e", str(folder), fragment="holds no plugin-e.js but main.js")
    assert "1 other file" in line and str(folder / "main.js") in line
    assert cli.json("list", "plugins") == []  # nothing was created


@pytest.mark.parametrize(
    ("given", "hint"),
    [("v2.0.0", "write 2.0.0"), ("1.2", "write 1.2.0"), ("v3", "write 3.0.0"), ("two", "")],
)
def test_a_version_is_exactly_major_minor_patch(cli: Cli, given: str, hint: str) -> None:
    line = cli.fails(
        "deploy", "plugin-f", "--plugin-url", "https://cdn.example.com/f.js", "--version", given,
        fragment="MAJOR.MINOR.PATCH",
    )
    assert hint in line
    assert cli.json("list", "plugins") == []
    url = "https://cdn.example.com/f.js"
    made = cli.json("deploy", "plugin-f", "--plugin-url", url, "--version", "2.0.0-rc.1+b7")
    assert made["plugin_version"]["version"] == "2.0.0-rc.1+b7"


def test_one_bump_flag_at_most(cli: Cli) -> None:
    url = "https://cdn.example.com/g.js"
    line = cli.fails("deploy", "plugin-g", "--plugin-url", url, "--patch", "--minor", "--major")
    assert "--patch and --minor and --major" in line
    cli.fails("deploy", "plugin-g", "--plugin-url", url, "--minor", "--minor", "--major", fragment="one of")
    major = cli.json("deploy", "plugin-g", "--plugin-url", url, "--major")
    assert major["plugin_version"]["version"] == "1.0.0"
    minor = cli.json("deploy", "plugin-g", "--plugin-url", url, "--minor")
    assert minor["plugin_version"]["version"] == "1.1.0"


def test_url_as_host_and_port_means_http(cli: Cli) -> None:
    bare = cli.url.removeprefix("http://")
    assert cli.json("list", "plugins", "--url", bare) == []
    assert cli.json("list", "plugins", env={"FLEXPLUGINS_URL": bare + "/"}) == []
    for wrong in ("ftp://127.0.0.1:1", "http://", "127.0.0.1:port"):
        cli.fails("list", "plugins", "--url", wrong, fragment="--url must be the server's address")


def test_login_takes_host_and_port_too(cli: Cli) -> None:
    bare = cli.url.removeprefix("http://")
    saved = cli.json("login", "--url", bare, "--profile", "local")
    assert saved["url"] == cli.url
    assert cli.json("list", "plugins", "--profile", "local", env={"FLEXPLUGINS_URL": None}) == []
