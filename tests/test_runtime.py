"""The runtime manifest, import map and loader script, and runtime tokens, over a real server."""

from __future__ import annotations

import contextlib
import json
import re
import time

import httpx
import pytest
from click.testing import CliRunner
from starlette.routing import Route

from flexplugins.api.app import create_app
from flexplugins.cli.main import main as cli
from flexplugins.config import Settings
from tests.conftest import Credentials, LiveServer

API = "/v1/PluginService"
RUNTIME = "/flexplugins/v1/Runtime"
BUNDLES = "/flexplugins/v1/Bundles"
SID = {
    "sid": "FJ" + "0" * 32,
    "plugin": "FP" + "0" * 32,
    "version": "FV" + "0" * 32,
    "service": "ZS" + "0" * 32,
    "environment": "ZE" + "0" * 32,
    "asset": "ZH" + "0" * 32,
}


def bundle_source(name: str, version: str) -> bytes:
    """A plugin bundle that records, in the page, that it ran."""
    return f'(window.__ran = window.__ran || []).push("{name}@{version}");\n'.encode()


def deploy(
    http: httpx.Client, name: str, version: str, *, private: bool = False, hosted: bool = True
) -> tuple[str, str, str | None]:
    """Upload the bundle (when hosted here), create the plugin if new and a version of it.

    Returns the plugin version SID, the bundle URL and the bundle's integrity value.
    """
    url, integrity = f"https://cdn.example.com/{name}/{version}/bundle.js", None
    if hosted:
        uploaded = http.post(
            BUNDLES,
            content=bundle_source(name, version),
            headers={"Content-Type": "application/javascript"},
        )
        assert uploaded.status_code in (200, 201), uploaded.text
        url, integrity = uploaded.json()["url"], uploaded.json()["integrity"]
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": name})
    if plugin.status_code == 409:
        plugin = http.get(f"{API}/Plugins/{name}")
    assert plugin.status_code in (200, 201), plugin.text
    created = http.post(
        f"{API}/Plugins/{plugin.json()['sid']}/Versions",
        data={"Version": version, "PluginUrl": url, "Private": str(private).lower()},
    )
    assert created.status_code == 201, created.text
    return created.json()["sid"], url, integrity


def release(http: httpx.Client, *entries: tuple[str, int]) -> tuple[str, str]:
    """Configure these (version SID, phase) entries and release them; returns (config, release) SIDs."""
    plugins = [json.dumps({"plugin_version": sid, "phase": phase}) for sid, phase in entries]
    configuration = http.post(f"{API}/Configurations", data={"Name": "cfg", "Plugins": plugins})
    assert configuration.status_code == 201, configuration.text
    made = http.post(f"{API}/Releases", data={"ConfigurationId": configuration.json()["sid"]})
    assert made.status_code == 201, made.text
    return configuration.json()["sid"], made.json()["sid"]


def runtime_token(server: LiveServer, account: Credentials) -> tuple[str, str]:
    """A runtime token made the way an operator makes one: `flexplugins tokens create`."""
    result = CliRunner().invoke(
        cli,
        ["tokens", "create", "--account", account.sid, "--database", server.settings.database_url],
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    return made["token_sid"], made["secret"]


def test_manifest_and_import_map_list_the_active_release_in_load_order(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    header, header_url, header_sri = deploy(http, "header", "1.0.0")
    crm, crm_url, crm_sri = deploy(http, "crm", "2.1.0", private=True)
    theme, theme_url, _ = deploy(http, "theme", "0.3.0", hosted=False)
    configuration_sid, release_sid = release(http, (header, 3), (crm, 3), (theme, 1))

    response = http.get(f"{RUNTIME}/Manifest")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    manifest = response.json()
    assert manifest["release_sid"] == release_sid
    assert manifest["configuration_sid"] == configuration_sid
    assert manifest["account_sid"] == account.sid
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["date_released"])
    # Phase first (theme is phase 1), then the order the configuration gave (header before crm).
    assert [(p["unique_name"], p["version"], p["phase"]) for p in manifest["plugins"]] == [
        ("theme", "0.3.0", 1),
        ("header", "1.0.0", 3),
        ("crm", "2.1.0", 3),
    ]
    assert [p["plugin_url"] for p in manifest["plugins"]] == [theme_url, header_url, crm_url]
    assert [p["private"] for p in manifest["plugins"]] == [False, False, True]
    assert [p["plugin_version_sid"] for p in manifest["plugins"]] == [theme, header, crm]
    assert header_url.startswith(f"{server.url}{BUNDLES}/{account.sid}/")
    # Bundles hosted here carry their SRI value; one hosted elsewhere has none: we cannot vouch for it.
    assert header_sri and crm_sri and header_sri.startswith("sha384-")
    assert [p["integrity"] for p in manifest["plugins"]] == [None, header_sri, crm_sri]

    imports = http.get(f"{RUNTIME}/ImportMap")
    assert imports.status_code == 200
    assert imports.headers["content-type"].startswith("application/importmap+json")
    body = imports.json()
    assert list(body["imports"].items()) == [("theme", theme_url), ("header", header_url), ("crm", crm_url)]
    assert body["integrity"] == {header_url: header_sri, crm_url: crm_sri}
    assert imports.headers["etag"] != response.headers["etag"]


def test_a_new_release_changes_the_etag_and_content_at_once_and_304_works(
    server: LiveServer, http: httpx.Client
) -> None:
    first, _, _ = deploy(http, "alpha", "1.0.0", hosted=False)
    second, _, _ = deploy(http, "alpha", "1.1.0", hosted=False)
    _, release_one = release(http, (first, 3))

    one = http.get(f"{RUNTIME}/Manifest")
    etag = one.headers["etag"]
    assert re.fullmatch(r'"FK[0-9a-f]{32}\.manifest\.[0-9a-f]{20}"', etag), etag
    assert release_one in etag
    assert one.headers["cache-control"] == "private, max-age=5, must-revalidate"
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(f"{RUNTIME}/Manifest", headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == etag
    assert http.get(f"{RUNTIME}/Manifest", headers={"If-None-Match": '"stale"'}).status_code == 200

    map_etag = http.get(f"{RUNTIME}/ImportMap").headers["etag"]
    assert http.get(f"{RUNTIME}/ImportMap", headers={"If-None-Match": map_etag}).status_code == 304

    _, release_two = release(http, (second, 3))
    # The very next request sees the new release: no process caches the active release.
    two = http.get(f"{RUNTIME}/Manifest", headers={"If-None-Match": etag})
    assert two.status_code == 200
    assert two.headers["etag"] != etag and release_two in two.headers["etag"]
    assert two.json()["release_sid"] == release_two
    assert [p["version"] for p in two.json()["plugins"]] == ["1.1.0"]
    new_map = http.get(f"{RUNTIME}/ImportMap", headers={"If-None-Match": map_etag})
    assert new_map.status_code == 200
    assert new_map.json()["imports"]["alpha"].endswith("/alpha/1.1.0/bundle.js")


def test_before_the_first_release_the_manifest_is_empty(server: LiveServer, http: httpx.Client) -> None:
    response = http.get(f"{RUNTIME}/Manifest")
    assert response.status_code == 200
    assert response.json()["release_sid"] is None
    assert response.json()["configuration_sid"] is None
    assert response.json()["plugins"] == []
    assert response.headers["etag"].startswith('"none.manifest.')
    assert http.get(f"{RUNTIME}/ImportMap").json() == {"imports": {}}


def test_the_manifest_needs_credentials(server: LiveServer, account: Credentials) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        refused = anonymous.get(f"{RUNTIME}/Manifest")
        assert refused.status_code == 401
        assert refused.json()["code"] == 20003
        assert refused.headers["access-control-allow-origin"] == "*"
        # No WWW-Authenticate: a browser must not pop a password dialog on an agent's screen.
        assert "www-authenticate" not in refused.headers
        wrong = anonymous.get(f"{RUNTIME}/Manifest", auth=(account.sid, "not-the-token-at-all"))
        assert wrong.status_code == 401


def _write_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the server that changes something, with placeholder SIDs."""
    app = create_app(Settings(database_url="sqlite://"), migrate=False)
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
            found.append((method, route.path.format(**SID)))
    return found


def test_a_runtime_token_reads_the_manifest_and_nothing_else(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    version, public_url, _ = deploy(http, "widget", "1.0.0")
    secret_version, private_url, _ = deploy(http, "vault", "1.0.0", private=True)
    _, release_sid = release(http, (version, 3), (secret_version, 3))
    token = runtime_token(server, account)
    with httpx.Client() as anonymous:
        assert anonymous.get(private_url).status_code == 401
    with httpx.Client(base_url=server.url, auth=token, timeout=30) as runtime:
        manifest = runtime.get(f"{RUNTIME}/Manifest")
        assert manifest.status_code == 200, manifest.text
        assert manifest.json()["release_sid"] == release_sid
        assert runtime.get(f"{RUNTIME}/ImportMap").status_code == 200
        assert runtime.get(f"{RUNTIME}/loader.js").status_code == 200
        for url, name in ((public_url, "widget"), (private_url, "vault")):
            bundle = runtime.get(url)
            assert bundle.status_code == 200, (url, bundle.text)
            assert bundle.content == bundle_source(name, "1.0.0")

        writes = _write_routes()
        assert len(writes) >= 7, writes
        for method, path in writes:
            refused = runtime.request(method, path, data={"UniqueName": "x", "ConfigurationId": "FJx"})
            assert refused.status_code in (401, 403), (method, path, refused.status_code)
            assert refused.json()["code"] in (20003, 20403)
        for path in ("Plugins", "Configurations", "Releases", "Releases/Active"):
            assert runtime.get(f"{API}/{path}").status_code == 403
        assert runtime.get("/flexplugins/v1/AuditEvents").status_code == 403
    # Nothing was written by those requests.
    assert sorted(p["unique_name"] for p in http.get(f"{API}/Plugins").json()["plugins"]) == [
        "vault",
        "widget",
    ]
    assert len(http.get(f"{API}/Releases").json()["releases"]) == 1


def test_tokens_cli_lists_and_revokes(server: LiveServer, account: Credentials) -> None:
    runner = CliRunner()
    db = ["--database", server.settings.database_url]
    sid, secret = runtime_token(server, account)
    listed = runner.invoke(cli, ["tokens", "list", "--account", account.sid, *db])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(row["token_sid"], row["revoked"]) for row in rows] == [(sid, False)]
    assert secret not in listed.output

    with httpx.Client(base_url=server.url, auth=(sid, secret)) as runtime:
        assert runtime.get(f"{RUNTIME}/Manifest").status_code == 200
        revoked = runner.invoke(cli, ["tokens", "revoke", "--account", account.sid, sid, *db])
        assert revoked.exit_code == 0, revoked.output
        assert json.loads(revoked.output) == {"token_sid": sid, "revoked": True}
        deadline = time.monotonic() + server.settings.auth_cache_seconds + 3
        while runtime.get(f"{RUNTIME}/Manifest").status_code == 200:
            assert time.monotonic() < deadline, "a revoked token kept working"
            time.sleep(0.2)
        assert runtime.get(f"{RUNTIME}/Manifest").status_code == 401

    listed = runner.invoke(cli, ["tokens", "list", "--account", account.sid, *db])
    assert json.loads(listed.output.splitlines()[0])["revoked"] is True
    # An API key is not a runtime token: `tokens revoke` refuses it.
    key = runner.invoke(cli, ["keys", "create", "--account", account.sid, *db])
    key_sid = json.loads(key.output)["key_sid"]
    refused = runner.invoke(cli, ["tokens", "revoke", "--account", account.sid, key_sid, *db])
    assert refused.exit_code == 1
    assert "20404" in refused.output


def test_loader_script_and_cors(server: LiveServer, account: Credentials) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        loader = anonymous.get(f"{RUNTIME}/loader.js")
        assert loader.status_code == 200
        assert loader.headers["content-type"].startswith("text/javascript")
        assert "FlexPluginsLoader" in loader.text
        assert (
            anonymous.get(
                f"{RUNTIME}/loader.js", headers={"If-None-Match": loader.headers["etag"]}
            ).status_code
            == 304
        )
        preflight = anonymous.options(
            f"{RUNTIME}/Manifest",
            headers={
                "Origin": "https://agents.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        manifest = anonymous.get(f"{RUNTIME}/Manifest", auth=(account.sid, account.token))
        assert manifest.headers["access-control-allow-origin"] == "*"
        assert "ETag" in manifest.headers["access-control-expose-headers"]


@pytest.mark.parametrize("path", ["Manifest", "ImportMap"])
def test_head_answers_like_get_without_a_body(server: LiveServer, http: httpx.Client, path: str) -> None:
    got = http.get(f"{RUNTIME}/{path}")
    head = http.head(f"{RUNTIME}/{path}")
    assert head.status_code == 200
    assert head.headers["etag"] == got.headers["etag"]
    assert head.content == b""


def test_a_release_through_one_server_process_shows_at_once_on_another(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    """Two servers on one database: no process may serve a manifest older than the newest release."""
    from tests.conftest import start_server

    other = start_server(server.settings)
    second_server = next(other)
    try:
        with httpx.Client(base_url=second_server.url, auth=(account.sid, account.token)) as elsewhere:
            versions = [deploy(http, "multi", f"1.0.{n}", hosted=False)[0] for n in range(3)]
            etag = None
            for version in versions:
                _, release_sid = release(http, (version, 3))
                seen = elsewhere.get(f"{RUNTIME}/Manifest", headers={"If-None-Match": etag or '"x"'})
                assert seen.status_code == 200
                assert seen.json()["release_sid"] == release_sid
                assert seen.headers["etag"] == http.get(f"{RUNTIME}/Manifest").headers["etag"]
                etag = seen.headers["etag"]
    finally:
        with contextlib.suppress(StopIteration):
            next(other)
