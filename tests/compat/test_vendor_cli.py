"""The vendor's own command line drives flexplugins unchanged: twilio-cli 6.2.4 with plugin-flex 7.0.0.

Each database gets a real `flexplugins serve --vendor-proxy` (tests/serving.py) with a known account.
The CLI's environment is made only of what `flexplugins vendor-env` prints, the credentials, PATH,
HOME (a copy of the private one the install linked plugin-flex in) and the path of npm's cache: the
CLI keeps every vendor host it has hard-coded and reaches this server through the proxy. Every
command is judged by its exit status and by its output (plugin-flex exits 0 on some API errors),
and every effect is read back over plain HTTP from the server's own port. The bundles a deploy
built are fetched at their PluginUrl through the proxy, with TLS checked against the proxy's CA.

The installation (tests/compat/vendor_cli/install, also run by scripts/test) is checked first: a
missing or broken vendor CLI fails these tests, it never skips them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import free_port
from tests.openapi import assert_valid_response
from tests.serving import ServeProcess, flexplugins_exe, serve

VENDOR_DIR = Path(__file__).resolve().parent / "vendor_cli"
INSTALL = VENDOR_DIR / "install"
CACHE = VENDOR_DIR / ".cache"
PLUGIN = "plugin-vendor-cli"
# The template's package.json says 0.0.0: a deploy bumps the patch, a deploy --minor the minor.
FIRST, SECOND = "0.0.1", "0.1.0"
SID = "AC" + "c1" * 16
TOKEN = "vendor-cli-test-token-0123456789abcdef"
AUTH = (SID, TOKEN)
PLUGIN_SERVICE = "/v1/PluginService"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What `twilio api:flex:v1:plugin-service` offers: the vendor's 18 operations, one command each.
API_COMMANDS = 18
# Node starts in 1-2 s; a deploy builds with webpack (about 10 s here) and polls the build.
COMMAND_TIMEOUT = 240


@pytest.fixture(scope="session")
def vendor_cli() -> Path:
    """The installed vendor CLI: runs the install (a no-op when its stamp matches) and fails on error."""
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"{INSTALL} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    for needed in ("stamp", "npm-cache", "home/.twilio-cli/package.json", f"{PLUGIN}/package.json"):
        assert (CACHE / needed).exists(), f"the install left no {CACHE / needed}"
    return VENDOR_DIR


def vendor_env(address: str, data_dir: Path) -> dict[str, str]:
    """What `flexplugins vendor-env` prints, read as a shell's eval would."""
    out = subprocess.run(
        [flexplugins_exe(), "vendor-env", "--vendor-proxy", address, "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    env: dict[str, str] = {}
    for line in out.splitlines():
        words = shlex.split(line)
        assert len(words) == 2 and words[0] == "export", f"not an export line: {line!r}"
        name, sep, value = words[1].partition("=")
        assert sep and name.isidentifier(), f"not NAME=VALUE: {line!r}"
        env[name] = value
    return env


@dataclass
class Ran:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return ANSI.sub("", self.stdout + self.stderr)

    def report(self) -> str:
        return (
            f"twilio {shlex.join(self.args)} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-6000:]}"
        )

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            pytest.fail(f"no JSON on stdout\n{self.report()}")


@dataclass
class Vendor:
    """One server with the vendor proxy, and the vendor's CLI set up to reach it."""

    proc: ServeProcess
    address: str
    env: dict[str, str]
    work: Path

    def twilio(self, *args: str, cwd: Path | None = None, expect: str | None = None, answer: str = "") -> Ran:
        """Run `twilio ARGS`; it must exit 0 and, when given, print `expect` (ANSI codes stripped).

        `answer` is what the user types (the archive commands ask "Are you sure" and have no flag to
        skip it); otherwise standard input is empty.
        """
        done = subprocess.run(
            ["twilio", *args],
            cwd=cwd or self.work,
            env=self.env,
            input=answer,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        ran = Ran(list(args), done.returncode, done.stdout, done.stderr)
        assert ran.returncode == 0, ran.report()
        if expect is not None:
            assert expect in ran.text, f"expected {expect!r} in the output\n{ran.report()}"
        return ran

    def api(self) -> httpx.Client:
        """The server's own port, over plain HTTP: where every effect is checked."""
        return httpx.Client(base_url=self.proc.url, auth=AUTH, timeout=30)

    def through_proxy(self, **kwargs: Any) -> httpx.Client:
        """A client that reaches the vendor's hosts as the CLI does: the proxy, TLS checked with its CA."""
        verify = ssl.create_default_context(cafile=self.env["NODE_EXTRA_CA_CERTS"])
        return httpx.Client(proxy=self.env["HTTP_PROXY"], verify=verify, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def vendor(vendor_cli: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vendor]:
    tmp = tmp_path_factory.mktemp("vendor-cli")
    address = f"127.0.0.1:{free_port()}"
    proc = serve(
        database_url, tmp, vendor_proxy=address, env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    )
    try:
        home = tmp / "home"
        shutil.copytree(CACHE / "home", home, symlinks=True)
        env = vendor_env(address, tmp / "data")
        env.update(
            TWILIO_ACCOUNT_SID=SID,
            TWILIO_AUTH_TOKEN=TOKEN,
            PATH=f"{vendor_cli / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
            HOME=str(home),
            npm_config_cache=(CACHE / "npm-cache").read_text().strip(),
        )
        work = tmp / "work"  # a folder without package.json, as plugin-flex wants outside a project
        work.mkdir()
        yield Vendor(proc, address, env, work)
    finally:
        proc.stop()


def test_vendor_env_runs_the_cli_offline(vendor: Vendor) -> None:
    """plugin-flex's `npm view` pre-check must be answered from npm's cache, never the registry."""
    assert vendor.env.get("npm_config_offline") == "true", "vendor-env must print npm_config_offline=true"
    assert vendor.env["HTTP_PROXY"] == f"http://{vendor.address}"
    assert Path(vendor.env["NODE_EXTRA_CA_CERTS"]).is_file()
    ran = vendor.twilio("plugins")
    assert "@twilio-labs/plugin-flex 7.0.0 (link)" in ran.text, ran.report()


# --- flex:plugins: deploy -> release -> list/describe/diff -> rollback -> archive --------------


@dataclass
class Deployed:
    project: Path
    versions: dict[str, tuple[bytes, bytes]]  # version -> (bundle, source map) as built


def _built(project: Path) -> tuple[bytes, bytes]:
    build = project / "build"
    return (build / f"{PLUGIN}.js").read_bytes(), (build / f"{PLUGIN}.js.map").read_bytes()


@pytest.fixture(scope="module")
def deployed(vendor: Vendor) -> Deployed:
    """The plugin project deployed twice: FIRST (private), then a changed bundle as SECOND (public)."""
    project = vendor.work.parent / PLUGIN
    shutil.copytree(
        CACHE / PLUGIN, project, symlinks=True, ignore=shutil.ignore_patterns("node_modules", "build")
    )
    (project / "node_modules").symlink_to(VENDOR_DIR / "node_modules", target_is_directory=True)
    versions: dict[str, tuple[bytes, bytes]] = {}

    vendor.twilio(
        "flex:plugins:deploy",
        "--changelog",
        "First version",
        cwd=project,
        expect=f"Plugin (private) {PLUGIN}@{FIRST} was successfully deployed using Plugins API",
    )
    versions[FIRST] = _built(project)

    component = project / "src" / "components" / "CustomTaskList" / "CustomTaskList.jsx"
    source = component.read_text()
    assert "This is a dismissible demo component." in source
    component.write_text(
        source.replace("This is a dismissible demo component.", "The second version of the demo.")
    )
    vendor.twilio(
        "flex:plugins:deploy",
        "--minor",
        "--public",
        "--changelog",
        "Second version",
        cwd=project,
        expect=f"Plugin (public) {PLUGIN}@{SECOND} was successfully deployed using Plugins API",
    )
    versions[SECOND] = _built(project)
    assert versions[FIRST][0] != versions[SECOND][0], "the second build should differ from the first"
    assert b"The second version of the demo." in versions[SECOND][0]
    return Deployed(project, versions)


def test_deploy_registers_versions_that_serve_the_built_bytes(vendor: Vendor, deployed: Deployed) -> None:
    with vendor.api() as api:
        plugin = api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}")
        assert plugin.status_code == 200, plugin.text
        assert_valid_response("GET", f"{PLUGIN_SERVICE}/Plugins/{{Sid}}", 200, plugin.json())
        assert plugin.json()["unique_name"] == PLUGIN and plugin.json()["archived"] is False
        listed = api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions").json()["plugin_versions"]
        assert [v["version"] for v in listed] == [SECOND, FIRST]  # newest first
        records = {}
        for version, changelog, private in (
            (FIRST, "First version", True),
            (SECOND, "Second version", False),
        ):
            got = api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions/{version}")
            assert got.status_code == 200, got.text
            body = got.json()
            assert_valid_response(
                "GET", f"{PLUGIN_SERVICE}/Plugins/{{PluginSid}}/Versions/{{Sid}}", 200, body
            )
            assert body["changelog"] == changelog and body["private"] is private, body
            assert body["validated"] is True, f"the plugin validator did not pass the bundle: {body}"
            url = urlsplit(body["plugin_url"])
            assert url.scheme == "https" and re.fullmatch(r"[a-z0-9-]+\.twil\.io", url.hostname or ""), body
            assert url.path == f"/plugins/{PLUGIN}/{version}/bundle.js", body
            records[version] = body
    # Both versions live in the one environment of this plugin.
    assert urlsplit(records[FIRST]["plugin_url"]).hostname == urlsplit(records[SECOND]["plugin_url"]).hostname

    with vendor.through_proxy() as anonymous, vendor.through_proxy(auth=AUTH) as signed_in:
        for version, body in records.items():
            bundle, source_map = deployed.versions[version]
            client = signed_in if body["private"] else anonymous
            served = client.get(body["plugin_url"])
            assert served.status_code == 200, served.text[:500]
            assert served.content == bundle, (
                f"{body['plugin_url']} does not serve the bytes built for {version}"
            )
            assert "javascript" in served.headers["content-type"]
            served_map = client.get(body["plugin_url"] + ".map")
            assert served_map.status_code == 200 and served_map.content == source_map
        # A private (Protected) bundle needs the account's credentials; a public one does not.
        refused = anonymous.get(records[FIRST]["plugin_url"])
        assert refused.status_code in (401, 403), refused.status_code


@dataclass
class Released:
    first: str  # configuration released with FIRST
    second: str  # configuration released with SECOND (the active one)


def _released_configuration(ran: Ran) -> str:
    found = re.search(r"Configuration (FJ[0-9a-f]{32}) was successfully enabled", ran.text)
    assert found, f"no enabled configuration in the output\n{ran.report()}"
    return found.group(1)


def _active(api: httpx.Client) -> dict[str, Any]:
    got = api.get(f"{PLUGIN_SERVICE}/Releases/Active")
    assert got.status_code == 200, got.text
    return got.json()  # type: ignore[no-any-return]


def _configured(api: httpx.Client, configuration_sid: str) -> dict[str, str]:
    """plugin name -> version held by a configuration, read from the server."""
    got = api.get(f"{PLUGIN_SERVICE}/Configurations/{configuration_sid}/Plugins")
    assert got.status_code == 200, got.text
    return {p["unique_name"]: p["version"] for p in got.json()["plugins"]}


@pytest.fixture(scope="module")
def released(vendor: Vendor, deployed: Deployed) -> Released:
    first = _released_configuration(
        vendor.twilio("flex:plugins:release", "--enable-plugin", f"{PLUGIN}@{FIRST}", "--name", "Release one")
    )
    with vendor.api() as api:
        assert _active(api)["configuration_sid"] == first
        assert _configured(api, first) == {PLUGIN: FIRST}
    second = _released_configuration(
        vendor.twilio(
            "flex:plugins:release",
            "--enable-plugin",
            f"{PLUGIN}@{SECOND}",
            "--name",
            "Release two",
            "--description",
            "The second version",
        )
    )
    assert second != first
    with vendor.api() as api:
        assert _active(api)["configuration_sid"] == second
        assert _configured(api, second) == {PLUGIN: SECOND}
        configuration = api.get(f"{PLUGIN_SERVICE}/Configurations/{second}").json()
        assert configuration["name"] == "Release two" and configuration["description"] == "The second version"
    return Released(first, second)


def test_lists_and_describes_show_what_the_server_holds(vendor: Vendor, released: Released) -> None:
    with vendor.api() as api:
        plugin = api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}").json()
        versions = api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions").json()["plugin_versions"]
        configurations = api.get(f"{PLUGIN_SERVICE}/Configurations").json()["configurations"]
        releases = api.get(f"{PLUGIN_SERVICE}/Releases").json()["releases"]
        active = _active(api)

    listed = vendor.twilio("flex:plugins:list:plugins", "--json").json()
    assert [(p["sid"], p["name"], p["isActive"]) for p in listed] == [(plugin["sid"], PLUGIN, True)]
    # The human form names the same plugin under the active ones.
    text = vendor.twilio("flex:plugins:list:plugins", expect="Active Plugins:").text
    assert text.index(PLUGIN) < text.index("Inactive Plugins:"), text

    listed_versions = vendor.twilio("flex:plugins:list:plugin-versions", "--name", PLUGIN, "--json").json()
    assert [(v["sid"], v["version"], v["url"]) for v in listed_versions] == [
        (v["sid"], v["version"], v["plugin_url"]) for v in versions
    ]
    assert [v["isActive"] for v in listed_versions] == [True, False]
    assert [v["isPrivate"] for v in listed_versions] == [False, True]

    listed_configurations = vendor.twilio("flex:plugins:list:configurations", "--json").json()
    assert [c["sid"] for c in listed_configurations] == [c["sid"] for c in configurations]
    assert [c["sid"] for c in listed_configurations[:2]] == [released.second, released.first]
    assert [c["isActive"] for c in listed_configurations[:2]] == [True, False]

    listed_releases = vendor.twilio("flex:plugins:list:releases", "--json").json()
    assert [(r["sid"], r["configurationSid"]) for r in listed_releases] == [
        (r["sid"], r["configuration_sid"]) for r in releases
    ]

    described = vendor.twilio("flex:plugins:describe:plugin", "--name", PLUGIN, "--json").json()
    assert described["sid"] == plugin["sid"] and described["name"] == PLUGIN
    assert described["isActive"] is True
    assert [v["version"] for v in described["versions"]] == [SECOND, FIRST]

    release = vendor.twilio("flex:plugins:describe:release", "--active", "--json").json()
    assert release["sid"] == active["sid"] and release["configurationSid"] == released.second
    assert [(p["name"], p["version"]) for p in release["configuration"]["plugins"]] == [(PLUGIN, SECOND)]
    human = vendor.twilio("flex:plugins:describe:release", "--active", expect=active["sid"])
    assert released.second in human.text and SECOND in human.text, human.report()


def test_diff_of_the_two_released_configurations(vendor: Vendor, released: Released) -> None:
    ran = vendor.twilio("flex:plugins:diff", released.first, released.second)
    text = ran.text
    assert released.first in text and released.second in text, ran.report()
    assert PLUGIN in text and f"- Version: {FIRST}" in text and f"+ Version: {SECOND}" in text, ran.report()
    with vendor.api() as api:
        # What the CLI compared is what the server holds.
        assert _configured(api, released.first) == {PLUGIN: FIRST}
        assert _configured(api, released.second) == {PLUGIN: SECOND}


def test_rollback_then_archive(vendor: Vendor, released: Released) -> None:
    # Roll back: a new release of the first configuration.
    ran = vendor.twilio("flex:plugins:release", "--configuration-sid", released.first)
    assert _released_configuration(ran) == released.first
    with vendor.api() as api:
        releases = api.get(f"{PLUGIN_SERVICE}/Releases").json()["releases"]
        assert [r["configuration_sid"] for r in releases[:3]] == [
            released.first,
            released.second,
            released.first,
        ]
        assert _active(api)["sid"] == releases[0]["sid"]
        assert _configured(api, _active(api)["configuration_sid"]) == {PLUGIN: FIRST}

    # SECOND is no longer released: archive it. The CLI asks "Are you sure"; the user says y.
    with vendor.api() as api:
        urls = {
            v: api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions/{v}").json()["plugin_url"]
            for v in (FIRST, SECOND)
        }
    vendor.twilio(
        "flex:plugins:archive:plugin-version",
        "--name",
        PLUGIN,
        "--version",
        SECOND,
        answer="y\n",
        expect=f"{PLUGIN}@{SECOND} was successfully archived.",
    )
    with vendor.api() as api:
        assert api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions/{SECOND}").json()["archived"] is True
        assert api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}/Versions/{FIRST}").json()["archived"] is False
        assert api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}").json()["archived"] is False
    with vendor.through_proxy(auth=AUTH) as client:
        # The plugin's environment was rebuilt without the archived version's bundle.
        assert client.get(urls[FIRST]).status_code == 200
        assert client.get(urls[SECOND]).status_code == 404

    # The plugin is still in the active release: release a configuration without it, then archive it.
    emptied = _released_configuration(vendor.twilio("flex:plugins:release", "--disable-plugin", PLUGIN))
    with vendor.api() as api:
        assert _active(api)["configuration_sid"] == emptied
        assert _configured(api, emptied) == {}
    vendor.twilio(
        "flex:plugins:archive:plugin",
        "--name",
        PLUGIN,
        answer="y\n",
        expect=f"{PLUGIN} was successfully archived.",
    )
    with vendor.api() as api:
        assert api.get(f"{PLUGIN_SERVICE}/Plugins/{PLUGIN}").json()["archived"] is True
    listed = vendor.twilio("flex:plugins:list:plugins", "--json").json()
    assert [(p["name"], p["isActive"]) for p in listed] == [(PLUGIN, False)]
    with vendor.through_proxy(auth=AUTH) as client:
        # Its Serverless environment is gone, and its bundles with it.
        services = client.get("https://serverless.twilio.com/v1/Services").json()["services"]
        environments = [
            e["unique_name"]
            for service in services
            for e in client.get(
                f"https://serverless.twilio.com/v1/Services/{service['sid']}/Environments"
            ).json()["environments"]
        ]
        assert PLUGIN not in environments, environments
        assert client.get(urls[FIRST]).status_code == 404


# --- twilio api:flex:v1:plugin-service:* --------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _same(cli: dict[str, Any], wire: dict[str, Any], vendor_host: str = "flex-api.twilio.com") -> None:
    """A resource as the CLI printed it (-o json: camelCase keys) is the one the server holds.

    An archive answer is the vendor's shorter archive resource at `.../Archive`: each field it has
    must match the resource; any other answer must have every field of the resource.
    """
    archive = urlsplit(cli.get("url", "")).path.endswith("/Archive")
    if archive:
        cli = {**cli, "url": cli["url"].removesuffix("/Archive")}
        assert {_camel(k) for k in wire} >= set(cli), (sorted(cli), sorted(wire))
        wire = {k: v for k, v in wire.items() if _camel(k) in cli}
    for key, value in wire.items():
        printed = cli.get(_camel(key))
        assert _camel(key) in cli, f"{_camel(key)} missing from the CLI's output: {cli}"
        if key.startswith("date_") and value is not None:
            assert datetime.fromisoformat(printed.replace("Z", "+00:00")) == datetime.fromisoformat(
                value.replace("Z", "+00:00")
            ), (key, printed, value)
        elif key == "url":
            # Through the proxy the CLI saw the vendor's host; the server's own port gives its own.
            assert (
                urlsplit(printed).hostname == vendor_host and urlsplit(printed).path == urlsplit(value).path
            )
        elif key == "links":
            assert {k: urlsplit(v).path for k, v in printed.items()} == {
                k: urlsplit(v).path for k, v in value.items()
            }
        else:
            assert printed == value, (key, printed, value)


def _all_pages(api: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path + "?PageSize=50"
    while url:
        page = api.get(url)
        assert page.status_code == 200, page.text
        assert_valid_response("GET", path, 200, page.json())
        items += page.json()[key]
        url = page.json()["meta"]["next_page_url"]
    return items


def test_every_plugin_service_api_command(vendor: Vendor) -> None:
    listed = subprocess.run(
        ["node", str(VENDOR_DIR / "list-commands.js"), "api:flex:v1:plugin-service"],
        env=vendor.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert listed.returncode == 0 and not listed.stderr, listed.stderr
    commands: dict[str, list[str]] = json.loads(listed.stdout)
    assert len(commands) == API_COMMANDS, sorted(commands)
    prefix = "api:flex:v1:plugin-service:"
    covered: set[str] = set()

    def run(command: str, *args: str) -> Any:
        assert prefix + command in commands, f"twilio has no {prefix}{command}"
        covered.add(prefix + command)
        ran = vendor.twilio(prefix + command, *args, "-o", "json")
        out = ran.json()
        assert isinstance(out, list), ran.report()
        return out

    p = PLUGIN_SERVICE
    with vendor.api() as api:
        # Plugins: create three, fetch, update, list with paging.
        created = [
            run(
                "plugins:create",
                "--unique-name",
                f"api-plugin-{n}",
                "--friendly-name",
                f"API plugin {n}",
                "--description",
                f"made by twilio api {n}",
            )[0]
            for n in (1, 2, 3)
        ]
        one, two, three = created
        for item in created:
            assert item["sid"].startswith("FP") and item["url"].startswith("https://flex-api.twilio.com/")
            _same(item, api.get(f"{p}/Plugins/{item['sid']}").json())
        [fetched] = run("plugins:fetch", "--sid", one["sid"])
        _same(fetched, api.get(f"{p}/Plugins/{one['sid']}").json())
        [updated] = run(
            "plugins:update", "--sid", one["sid"], "--friendly-name", "Renamed", "--description", "New"
        )
        wire = api.get(f"{p}/Plugins/{one['sid']}").json()
        assert wire["friendly_name"] == "Renamed" and wire["description"] == "New"
        _same(updated, wire)
        everything = _all_pages(api, f"{p}/Plugins", "plugins")
        # --page-size 1 makes the CLI follow next_page_url page after page up to its limit.
        paged = run("plugins:list", "--page-size", "1", "--no-limit")
        assert [x["sid"] for x in paged] == [x["sid"] for x in everything] and len(paged) >= 3
        for cli_item, wire_item in zip(paged, everything, strict=True):
            _same(cli_item, wire_item)
        limited = run("plugins:list", "--page-size", "2", "--limit", "3")
        assert [x["sid"] for x in limited] == [x["sid"] for x in everything[:3]]

        # Versions of plugin one: create two, fetch, list with paging.
        v1 = run(
            "plugins:versions:create",
            "--plugin-sid",
            one["sid"],
            "--version",
            "1.0.0",
            "--plugin-url",
            "https://example-1234.twil.io/plugins/api-plugin-1/1.0.0/bundle.js",
            "--changelog",
            "first",
            "--private",
            "--cli-version",
            "7.0.0",
            "--validate-status",
            "success",
        )[0]
        v2 = run(
            "plugins:versions:create",
            "--plugin-sid",
            one["sid"],
            "--version",
            "2.0.0",
            "--plugin-url",
            "https://example-1234.twil.io/plugins/api-plugin-1/2.0.0/bundle.js",
        )[0]
        for item in (v1, v2):
            _same(item, api.get(f"{p}/Plugins/{one['sid']}/Versions/{item['sid']}").json())
        assert v1["private"] is True and v1["validated"] is True and v2["private"] is False
        [fetched_version] = run("plugins:versions:fetch", "--plugin-sid", one["sid"], "--sid", v1["sid"])
        _same(fetched_version, api.get(f"{p}/Plugins/{one['sid']}/Versions/{v1['sid']}").json())
        versions = run("plugins:versions:list", "--plugin-sid", one["sid"], "--page-size", "1")
        assert [x["sid"] for x in versions] == [v2["sid"], v1["sid"]]
        assert [
            x["sid"] for x in run("plugins:versions:list", "--plugin-sid", one["sid"], "--limit", "1")
        ] == [v2["sid"]]
        w2 = run(
            "plugins:versions:create",
            "--plugin-sid",
            two["sid"],
            "--version",
            "0.1.0",
            "--plugin-url",
            "https://example-1234.twil.io/plugins/api-plugin-2/0.1.0/bundle.js",
        )[0]
        w3 = run(
            "plugins:versions:create",
            "--plugin-sid",
            three["sid"],
            "--version",
            "0.3.0",
            "--plugin-url",
            "https://example-1234.twil.io/plugins/api-plugin-3/0.3.0/bundle.js",
        )[0]

        # Configurations: plugins given as the JSON the vendor's docs show, one --plugins each.
        conf = run(
            "configurations:create",
            "--name",
            "API configuration",
            "--description",
            "two plugins",
            "--plugins",
            json.dumps({"plugin_version": v1["sid"], "phase": 3}),
            "--plugins",
            json.dumps({"plugin_version": w2["sid"]}),
        )[0]
        _same(conf, api.get(f"{p}/Configurations/{conf['sid']}").json())
        spare = run(
            "configurations:create", "--name", "spare", "--plugins", json.dumps({"plugin_version": w3["sid"]})
        )[0]
        [fetched_conf] = run("configurations:fetch", "--sid", conf["sid"])
        _same(fetched_conf, api.get(f"{p}/Configurations/{conf['sid']}").json())
        all_configurations = _all_pages(api, f"{p}/Configurations", "configurations")
        conf_pages = run("configurations:list", "--page-size", "1", "--no-limit")
        assert [x["sid"] for x in conf_pages] == [x["sid"] for x in all_configurations]
        assert [x["sid"] for x in conf_pages[:2]] == [spare["sid"], conf["sid"]]
        configured = run(
            "configurations:plugins:list", "--configuration-sid", conf["sid"], "--page-size", "1"
        )
        wire_configured = _all_pages(api, f"{p}/Configurations/{conf['sid']}/Plugins", "plugins")
        assert sorted(x["pluginSid"] for x in configured) == sorted([one["sid"], two["sid"]])
        for cli_item, wire_item in zip(
            sorted(configured, key=lambda x: x["pluginSid"]),
            sorted(wire_configured, key=lambda x: x["plugin_sid"]),
            strict=True,
        ):
            _same(cli_item, wire_item)
        [configured_one] = run(
            "configurations:plugins:fetch", "--configuration-sid", conf["sid"], "--plugin-sid", one["sid"]
        )
        _same(configured_one, api.get(f"{p}/Configurations/{conf['sid']}/Plugins/{one['sid']}").json())
        assert configured_one["pluginVersionSid"] == v1["sid"]

        # Releases: release the configuration, fetch it, list with paging.
        [release] = run("releases:create", "--configuration-id", conf["sid"])
        assert _active(api)["sid"] == release["sid"] and release["configurationSid"] == conf["sid"]
        _same(release, api.get(f"{p}/Releases/{release['sid']}").json())
        [fetched_release] = run("releases:fetch", "--sid", release["sid"])
        _same(fetched_release, api.get(f"{p}/Releases/{release['sid']}").json())
        all_releases = _all_pages(api, f"{p}/Releases", "releases")
        release_pages = run("releases:list", "--page-size", "1", "--no-limit")
        assert [x["sid"] for x in release_pages] == [x["sid"] for x in all_releases]
        assert release_pages[0]["sid"] == release["sid"]

        # Archives: what no release holds.
        [archived_conf] = run("configurations:archive:update", "--sid", spare["sid"])
        assert archived_conf["archived"] is True
        _same(archived_conf, api.get(f"{p}/Configurations/{spare['sid']}").json())
        [archived_version] = run(
            "plugins:versions:archive:update", "--plugin-sid", three["sid"], "--sid", w3["sid"]
        )
        assert archived_version["archived"] is True
        _same(archived_version, api.get(f"{p}/Plugins/{three['sid']}/Versions/{w3['sid']}").json())
        [archived_plugin] = run("plugins:archive:update", "--sid", three["sid"])
        assert archived_plugin["archived"] is True
        _same(archived_plugin, api.get(f"{p}/Plugins/{three['sid']}").json())

        # A refusal reaches the CLI as the vendor's error, and changes nothing.
        refused = subprocess.run(
            ["twilio", prefix + "plugins:archive:update", "--sid", one["sid"], "-o", "json"],
            cwd=vendor.work,
            env=vendor.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        assert refused.returncode != 0, refused.stdout
        [error] = json.loads(refused.stdout)  # -o json prints the vendor's error body
        assert error["code"] == 20409 and error["status"] == 409 and "active release" in error["message"], (
            error
        )
        assert api.get(f"{p}/Plugins/{one['sid']}").json()["archived"] is False

    assert covered == set(commands), sorted(set(commands) - covered)


# --- the proxy never leaves the machine ---------------------------------------------------------


def _raw(address: str, request: bytes) -> bytes:
    host, port = address.rsplit(":", 1)
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.settimeout(10)
        sock.sendall(request)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline and (chunk := sock.recv(65536)):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


def test_proxy_refuses_other_hosts(vendor: Vendor) -> None:
    connect = _raw(vendor.address, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert connect.startswith(b"HTTP/1.1 403 "), connect[:200]
    plain = _raw(vendor.address, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert plain.startswith(b"HTTP/1.1 403 "), plain[:200]
    # The vendor's own host on another port is refused too: only :443 is tunnelled.
    other_port = _raw(
        vendor.address, b"CONNECT flex-api.twilio.com:80 HTTP/1.1\r\nHost: flex-api.twilio.com\r\n\r\n"
    )
    assert other_port.startswith(b"HTTP/1.1 403 "), other_port[:200]
