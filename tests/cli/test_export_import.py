"""Export from server A, import into a fresh database served by server B: every read of the Plugin
Service answers the same but for host names. Also: exporting from a server without our extensions,
damaged files refused with nothing written, merge refusal, --replace, another account, SID clashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from click.testing import CliRunner, Result
from starlette.types import ASGIApp, Receive, Scope, Send

from flexplugins import exportfile
from flexplugins.api.app import create_app
from flexplugins.cli.main import main
from flexplugins.config import Settings
from flexplugins.service import accounts
from flexplugins.storage import tables
from flexplugins.storage.db import Database
from tests.cli.conftest import Cli, write_bundle
from tests.conftest import Credentials, LiveServer, _ThreadServer, free_port, make_database_url, start_server
from tests.openapi import assert_valid_response

API = "/v1/PluginService"
TOKEN = re.compile(r"PageToken=[A-Za-z0-9_.%-]+")


# --- servers ----------------------------------------------------------------------------------


@pytest.fixture
def server_b(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[LiveServer]:
    """A second real server on a brand-new database of the same backend."""
    (tmp_path / "b").mkdir()
    for url in make_database_url(backend, tmp_path / "b", pg_available):
        settings = Settings(database_url=url, data_dir=tmp_path / "b-data")
        yield from start_server(settings)


class PluginServiceOnly:
    """The application as the vendor's service looks: every path outside /v1/PluginService is a 404.

    It stands for a flexplugins server with its extensions off and for the vendor's hosted service,
    which has no bundle store and no audit endpoint.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(API + "/"):
            body = json.dumps(
                {
                    "code": 20404,
                    "message": f"The requested resource {scope['path']} was not found",
                    "more_info": "https://www.twilio.com/docs/errors/20404",
                    "status": 404,
                }
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@pytest.fixture
def vendor_like(server: LiveServer) -> Iterator[str]:
    """Server A's database served a second time, by the application behind PluginServiceOnly."""
    db = Database(server.settings.database_url)
    app = PluginServiceOnly(create_app(server.settings, db, migrate=False))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    runner = _ThreadServer(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not runner.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the wrapped server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=10)
        db.dispose()


# --- the account on A -----------------------------------------------------------------------------


def _post(http: httpx.Client, path: str, data: dict[str, Any] | None = None, status: int = 201) -> Any:
    response = http.post(API + path, data=data)
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def varied(cli: Cli, http: httpx.Client, tmp_path: Path) -> dict[str, Any]:
    """Plugins with several versions, archived ones, a private one, phases, releases and a rollback."""
    folder = tmp_path / "bundles"
    bundle = write_bundle(folder, "alpha.js", "console.log('alpha 1.0.0');\n")
    cli.ok("deploy", "alpha", str(bundle), "--version", "1.0.0", "--description", "the first")
    write_bundle(folder, "alpha.js", "console.log('alpha 1.1.0, private');\n" + "// é ✓\n" * 120_000)
    cli.ok("deploy", "alpha", str(bundle), "--version", "1.1.0", "--private", "--changelog", "private")
    write_bundle(folder, "alpha.js", "console.log('alpha 1.2.0');\n")
    cli.ok("deploy", "alpha", str(bundle), "--version", "1.2.0")
    cli.ok("deploy", "beta", "--plugin-url", "https://cdn.example.com/beta-0.1.0.js", "--version", "0.1.0")
    gamma = write_bundle(folder, "gamma.js", "console.log('gamma');\n")
    cli.ok("deploy", "gamma", str(gamma), "--version", "1.0.0", "--friendly-name", "Gamma")
    # The same bytes under a second version: one bundle, named twice.
    cli.ok("deploy", "gamma", str(gamma), "--version", "1.0.1")
    for index in range(3):  # enough plugins for several pages of two
        cli.ok("deploy", f"filler-{index}", "--plugin-url", f"https://cdn.example.com/f{index}.js")
    _post(http, "/Plugins/alpha", {"FriendlyName": "Alpha", "Description": "updated"}, status=200)

    def version_sid(name: str, version: str) -> str:
        return str(http.get(f"{API}/Plugins/{name}/Versions/{version}").json()["sid"])

    phased = _post(
        http,
        "/Configurations",
        {
            "Name": "phased",
            "Description": "three phases",
            "Plugins": [
                json.dumps({"plugin_version": version_sid("gamma", "1.0.0"), "phase": 3}),
                json.dumps({"plugin_version": version_sid("alpha", "1.0.0"), "phase": 1}),
                json.dumps({"plugin_version": version_sid("beta", "0.1.0"), "phase": 2}),
            ],
        },
    )
    first = _post(http, "/Releases", {"ConfigurationId": phased["sid"]})
    cli.ok("release", "alpha@1.1.0", "filler-0@0.0.1", "--name", "private alpha")
    cli.ok("rollback")  # a new release of the phased configuration
    cli.ok("release", "alpha@1.2.0", "--remove", "gamma", "--name", "no gamma")
    unused = _post(http, "/Configurations", {"Name": "never released", "Plugins": []})
    _post(http, f"/Configurations/{unused['sid']}/Archive", status=200)
    _post(http, "/Plugins/gamma/Archive", status=200)
    _post(http, "/Plugins/filler-2/Versions/0.0.1/Archive", status=200)
    return {"first_release": first["sid"]}


# --- reading every list and fetch -------------------------------------------------------------


def _get(http: httpx.Client, url: str, **params: str) -> Any:
    response = http.get(url, params=params or None)
    path = httpx.URL(url).path if url.startswith("http") else url
    assert_valid_response("GET", path, response.status_code, response.json())
    assert response.status_code == 200, response.text
    return response.json()


def _pages(http: httpx.Client, path: str, key: str) -> list[Any]:
    """A list read whole, in pages of two (following next_page_url), by offset, and in one page."""
    seen = []
    body = _get(http, path, PageSize="2")
    pages = [body]
    while body["meta"]["next_page_url"]:
        body = _get(http, body["meta"]["next_page_url"])
        pages.append(body)
    if len(pages) > 1:  # and back again from the last page
        seen.append(_get(http, body["meta"]["previous_page_url"]))
        seen.append(_get(http, path, PageSize="2", Page="1"))
    seen.append(_get(http, path))
    seen.append(_get(http, path, PageSize="1000"))
    flat = [item for page in pages for item in page[key]]
    assert flat == seen[-1][key]
    return [*pages, *seen]


def plugin_service_state(http: httpx.Client) -> dict[str, Any]:
    """Every list (with its paging) and every fetch of the Plugin Service's read operations."""
    state: dict[str, Any] = {"plugins": _pages(http, API + "/Plugins", "plugins")}
    for plugin in state["plugins"][-1]["plugins"]:
        sid, name = plugin["sid"], plugin["unique_name"]
        state[f"plugin {sid}"] = _get(http, f"{API}/Plugins/{sid}")
        state[f"plugin {name}"] = _get(http, f"{API}/Plugins/{name}")
        versions = _pages(http, f"{API}/Plugins/{sid}/Versions", "plugin_versions")
        state[f"versions {sid}"] = versions
        for version in versions[-1]["plugin_versions"]:
            state[f"version {version['sid']}"] = _get(http, f"{API}/Plugins/{sid}/Versions/{version['sid']}")
            state[f"version {name}@{version['version']}"] = _get(
                http, f"{API}/Plugins/{name}/Versions/{version['version']}"
            )
    state["configurations"] = _pages(http, API + "/Configurations", "configurations")
    for configuration in state["configurations"][-1]["configurations"]:
        sid = configuration["sid"]
        state[f"configuration {sid}"] = _get(http, f"{API}/Configurations/{sid}")
        configured = _pages(http, f"{API}/Configurations/{sid}/Plugins", "plugins")
        state[f"configured {sid}"] = configured
        for item in configured[-1]["plugins"]:
            state[f"configured {sid} {item['plugin_sid']}"] = _get(
                http, f"{API}/Configurations/{sid}/Plugins/{item['plugin_sid']}"
            )
    state["releases"] = _pages(http, API + "/Releases", "releases")
    for release in state["releases"][-1]["releases"]:
        state[f"release {release['sid']}"] = _get(http, f"{API}/Releases/{release['sid']}")
    state["active"] = _get(http, API + "/Releases/Active")
    return state


def neutral(state: Any, *hosts: str) -> Any:
    """The same JSON with every host named HOST and page tokens (signed per database) masked."""
    text = json.dumps(state, sort_keys=True)
    for host in hosts:
        text = text.replace(host + "/", "http://HOST/")  # "/": one port may be a prefix of another
    return json.loads(TOKEN.sub("PageToken=TOKEN", text))


def client_for(server_url: str, sid: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=server_url, auth=(sid, token), timeout=30)


def run_cli(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def db_import(file: Path | str, server: LiveServer, *args: str, input: bytes | None = None) -> Result:
    return run_cli("db", "import", str(file), "--database", server.settings.database_url, *args, input=input)


def imported(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def refused(result: Result, fragment: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error"), result.stderr
    assert "Traceback" not in result.output
    assert fragment.lower() in lines[0].lower(), lines[0]
    return lines[0]


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def row_counts(db: Database) -> dict[str, int]:
    with db.read_engine.connect() as conn:
        return {
            table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for table in tables.metadata.sorted_tables
            if table.name != "server_secrets"
        }


def export_from(cli: Cli, path: Path, url: str | None = None) -> dict[str, Any]:
    extra = ("--url", url) if url else ()
    return cli.json("export", "--output", str(path), *extra)  # type: ignore[no-any-return]


# --- the tests ------------------------------------------------------------------------------------


def test_round_trip_answers_the_same(
    cli: Cli,
    http: httpx.Client,
    varied: dict[str, Any],
    server: LiveServer,
    server_b: LiveServer,
    account: Credentials,
    tmp_path: Path,
) -> None:
    path = tmp_path / "account.jsonl"
    summary = export_from(cli, path)
    assert summary["extensions"] == {"bundles": True, "audit": True}
    assert summary["records"]["bundle"] == 4  # alpha x3 and gamma's one bundle (named twice)
    assert summary["missing_bundles"] == []
    records = records_of(path)
    assert records[0]["format"] == "flexplugins-export" and records[0]["version"] == 1
    assert records[-1]["type"] == "trailer" and records[-1]["records"] == len(records) - 1
    # Releases are in the file oldest first, whatever the API's order.
    in_file = [r["data"]["sid"] for r in records if r["type"] == "release"]
    assert in_file[0] == varied["first_release"]
    assert in_file == [r["sid"] for r in reversed(http.get(API + "/Releases").json()["releases"])]

    out = imported(db_import(path, server_b, "--public-url", server_b.url))
    assert out["account_sid"] == account.sid and out["auth_token"]
    assert out["imported"]["releases"] == 4 and out["imported"]["bundles"] == 4

    with client_for(server_b.url, account.sid, out["auth_token"]) as http_b:
        state_a = plugin_service_state(http)
        state_b = plugin_service_state(http_b)
        assert neutral(state_b, server_b.url) == neutral(state_a, server.url)
        assert state_b["active"]["sid"] == state_a["active"]["sid"]
        # Hosted bundles now point at B's own copies, which serve the same bytes.
        for key, version in state_b.items():
            if not key.startswith("version FV"):
                continue
            url_b = version["plugin_url"]
            url_a = state_a[key]["plugin_url"]
            if "cdn.example.com" in url_a:
                assert url_b == url_a
                continue
            assert url_b.startswith(server_b.url + "/flexplugins/v1/Bundles/")
            bytes_a, bytes_b = http.get(url_a).content, http_b.get(url_b).content
            assert bytes_b == bytes_a and hashlib.sha256(bytes_b).hexdigest() in url_b
            if version["private"]:
                # Still private on B: refused without credentials, as on A.
                assert httpx.get(url_b).status_code == httpx.get(url_a).status_code != 200
        # The same integrity values in the runtime manifest, with B's URLs.
        manifest_a = http.get("/flexplugins/v1/Runtime/Manifest").json()
        manifest_b = http_b.get("/flexplugins/v1/Runtime/Manifest").json()
        assert neutral(manifest_b, server_b.url) == neutral(manifest_a, server.url)
        integrities = [p["integrity"] for p in manifest_b["plugins"] if "Bundles" in p["plugin_url"]]
        assert integrities and all(value.startswith("sha384-") for value in integrities)
        # The audit trail is A's, and the import on top of it.
        trail_a = http.get("/flexplugins/v1/AuditEvents", params={"PageSize": "1000"}).json()["audit_events"]
        trail_b = http_b.get("/flexplugins/v1/AuditEvents", params={"PageSize": "1000"}).json()[
            "audit_events"
        ]
        assert trail_b[0]["action"] == "account.import" and trail_b[1:] == trail_a

        # B goes on from where A was: the next release is the active one and first in the list.
        configuration = state_a["active"]["configuration_sid"]
        release = _post(http_b, "/Releases", {"ConfigurationId": configuration})
        assert http_b.get(API + "/Releases/Active").json()["sid"] == release["sid"]
        assert http_b.get(API + "/Releases").json()["releases"][0]["sid"] == release["sid"]
        # Versions are still immutable, names still unique.
        refused_version = http_b.post(
            API + "/Plugins/alpha/Versions", data={"Version": "1.0.0", "PluginUrl": "https://x.example/a.js"}
        )
        assert refused_version.status_code == 409


def test_export_needs_only_the_plugin_service(
    cli: Cli,
    http: httpx.Client,
    varied: dict[str, Any],
    server: LiveServer,
    server_b: LiveServer,
    vendor_like: str,
    account: Credentials,
    tmp_path: Path,
) -> None:
    assert httpx.get(vendor_like + "/flexplugins/v1/AuditEvents").status_code == 404
    path = tmp_path / "vendor.jsonl"
    summary = export_from(cli, path, vendor_like)
    assert summary["extensions"] == {"bundles": False, "audit": False}
    records = records_of(path)
    header = records[0]
    assert header["extensions"] == {"bundles": False, "audit": False}
    assert "none of flexplugins' extensions" in header["note"]
    assert {r["type"] for r in records} == {
        "header", "plugin", "plugin_version", "configuration", "release", "trailer"
    }  # fmt: skip

    out = imported(db_import(path, server_b))
    with client_for(server_b.url, account.sid, out["auth_token"]) as http_b:
        state_b = plugin_service_state(http_b)
        with client_for(vendor_like, account.sid, account.token) as http_w:
            state_w = plugin_service_state(http_w)
        # Every plugin_url is kept as it was (A's bundle URLs included): equal but for hosts.
        assert neutral(state_b, server_b.url, server.url) == neutral(state_w, vendor_like, server.url)
        state_a = plugin_service_state(http)
        assert neutral(state_b, server_b.url, server.url) == neutral(state_a, server.url)


def test_damaged_files_are_refused_with_nothing_written(
    cli: Cli, varied: dict[str, Any], server_b: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "good.jsonl"
    export_from(cli, path)
    lines = path.read_bytes().splitlines(keepends=True)
    before = row_counts(server_b.db)

    def attempt(name: str, content: bytes, fragment: str) -> None:
        damaged = tmp_path / name
        damaged.write_bytes(content)
        refused(db_import(damaged, server_b), fragment)
        assert row_counts(server_b.db) == before, name

    version_line = next(i for i, line in enumerate(lines) if b'"type":"plugin_version"' in line)
    changed = lines[version_line].replace(b'"archived":false', b'"archived":true', 1)
    assert changed != lines[version_line]
    attempt(
        "changed.jsonl", b"".join(lines[:version_line] + [changed] + lines[version_line + 1 :]), "checksum"
    )
    attempt("truncated.jsonl", b"".join(lines[:-3]), "truncated")
    attempt("cut.jsonl", b"".join(lines)[:-40], "cut short")
    attempt("lost-line.jsonl", b"".join(lines[:version_line] + lines[version_line + 1 :]), "trailer")
    attempt("trailing.jsonl", b"".join(lines) + lines[1], "after its trailer")
    attempt("empty.jsonl", b"", "truncated")
    attempt("other.jsonl", b'{"hello": "world"}\n', "checksum")

    # Bundle bytes changed and every checksum recomputed (a careful forger, or a buggy tool): the
    # bundle's own SHA-256 and SHA-384 still refuse it.
    records = records_of(path)
    chunk = next(r for r in records if r["type"] == "bundle_chunk")
    data = bytearray(base64.b64decode(chunk["data"]))
    data[0] ^= 1
    chunk["data"] = base64.b64encode(bytes(data)).decode()
    rewritten = tmp_path / "rewritten.jsonl"
    with rewritten.open("wb") as handle:
        writer = exportfile.Writer(handle)
        for record in records[:-1]:
            writer.write({k: v for k, v in record.items() if k != "checksum"})
        writer.close()
    refused(db_import(rewritten, server_b), "SHA-256")
    assert row_counts(server_b.db) == before

    # Nothing at all is made of a database that a damaged file was aimed at.
    missing = tmp_path / "never" / "flexplugins.db"
    refused(run_cli("db", "import", str(tmp_path / "cut.jsonl"), "--database", f"sqlite:///{missing}"), "cut")
    assert not missing.parent.exists() or not missing.exists()


def test_import_onto_a_new_host_makes_its_database(cli: Cli, tmp_path: Path) -> None:
    """A restore is how a new host gets its data: like db upgrade (and unlike the other
    administration commands), db import makes the database it is aimed at, migrated."""
    path = tmp_path / "good.jsonl"
    export_from(cli, path)
    data = tmp_path / "new-host-data"
    assert imported(run_cli("db", "import", str(path), "--data-dir", str(data)))["auth_token"]
    assert (data / "flexplugins.db").is_file() and data.stat().st_mode & 0o777 == 0o700
    current = run_cli("db", "current", "--data-dir", str(data), "--json")
    assert current.exit_code == 0 and json.loads(current.stdout)["revision"], current.output


def test_merge_is_refused_and_replace_restores(
    cli: Cli,
    http: httpx.Client,
    varied: dict[str, Any],
    server: LiveServer,
    server_b: LiveServer,
    account: Credentials,
    tmp_path: Path,
) -> None:
    first = tmp_path / "first.jsonl"
    export_from(cli, first)
    out = imported(db_import(first, server_b, "--public-url", server_b.url))
    token_b = out["auth_token"]
    with client_for(server_b.url, account.sid, token_b) as http_b:
        cached = plugin_service_state(http_b)  # B's read cache now holds this state

        before = row_counts(server_b.db)
        refused(db_import(first, server_b), "--replace")
        assert row_counts(server_b.db) == before

        # A moves on; the mirror is refreshed with --replace, read through stdin.
        bundle = write_bundle(tmp_path / "more", "delta.js", "console.log('delta');\n")
        cli.ok("deploy", "delta", str(bundle), "--version", "2.0.0")
        cli.ok("release", "delta@2.0.0")
        _post(http, "/Plugins/filler-1/Archive", status=200)
        second = tmp_path / "second.jsonl"
        export_from(cli, second)
        again = imported(
            db_import("-", server_b, "--replace", "--public-url", server_b.url, input=second.read_bytes())
        )
        assert again["replaced"] is True and "auth_token" not in again  # the account's token stays

        state_b = plugin_service_state(http_b)
        assert neutral(state_b, server_b.url) == neutral(plugin_service_state(http), server.url)
        assert neutral(state_b, server_b.url) != neutral(cached, server_b.url)
        assert http_b.get(API + "/Plugins/delta").status_code == 200
        trail = http_b.get("/flexplugins/v1/AuditEvents", params={"PageSize": "1000"}).json()["audit_events"]
        assert [e["action"] for e in trail].count("account.import") == 1  # the trail is the file's


def test_import_into_another_account_and_sid_clashes(
    cli: Cli, varied: dict[str, Any], server_b: LiveServer, account: Credentials, tmp_path: Path
) -> None:
    path = tmp_path / "account.jsonl"
    export_from(cli, path)
    other = "AC" + "0123456789abcdef" * 2
    out = imported(db_import(path, server_b, "--account", other, "--public-url", server_b.url))
    assert out["account_sid"] == other and out["auth_token"]
    with client_for(server_b.url, other, out["auth_token"]) as http_b:
        plugins = http_b.get(API + "/Plugins").json()["plugins"]
        assert plugins and {p["account_sid"] for p in plugins} == {other}
        active = http_b.get("/flexplugins/v1/Runtime/Manifest").json()
        for item in active["plugins"]:
            if "/Bundles/" in item["plugin_url"]:
                assert f"/Bundles/{other}/" in item["plugin_url"]
                body = http_b.get(item["plugin_url"]).content
                digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
                assert item["integrity"] == "sha384-" + digest

    # The same SIDs cannot live in a second account of the same database.
    before = row_counts(server_b.db)
    third = "AC" + "fedcba9876543210" * 2
    refused(db_import(path, server_b, "--account", third), "already exists in account " + other)
    assert row_counts(server_b.db) == before
    assert third not in {a.sid for a in accounts.list_accounts(server_b.db)}


def test_replace_keeps_the_serverless_assets_of_the_account(
    cli: Cli, varied: dict[str, Any], server: LiveServer, account: Credentials, tmp_path: Path
) -> None:
    """--replace wipes the Plugin Service state, not the bytes a deployed Serverless asset still serves."""
    from tests.vendor.conftest import UPLOAD, upload

    with client_for(server.url, account.sid, account.token) as http:
        service = http.post("/serverless/v1/Services", data={"UniqueName": "default", "FriendlyName": "f"})
        assert service.status_code == 201, service.text
        zs = service.json()["sid"]
        asset = http.post(f"/serverless/v1/Services/{zs}/Assets", data={"FriendlyName": "bundle"}).json()[
            "sid"
        ]
        body = b"console.log('served by an environment');\n"
        version = upload(
            http, zs, asset, "/plugins/x/1.0.0/bundle.js", body, visibility="Public", host=UPLOAD
        )
        assert version.status_code == 201, version.text
        path = tmp_path / "mirror.jsonl"
        export_from(cli, path)
        again = imported(db_import(path, server, "--replace", "--public-url", server.url))
        assert again["replaced"] is True
        fetched = http.get(f"/serverless/v1/Services/{zs}/Assets/{asset}/Versions/{version.json()['sid']}")
        assert fetched.status_code == 200, fetched.text
        assert http.get(API + "/Plugins/alpha").status_code == 200
