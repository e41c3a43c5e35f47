"""The web console and the runtime loader in a real browser, and the console's sessions over HTTP.

The browser test deploys plugins through the API (bundles uploaded to the bundle store), then
runs tests/browser/drive.mjs, which drives Debian's Chromium (/usr/bin/chromium) with
playwright-core: sign in, release two configurations, see the active one, roll back, read the
timeline and each release's change, see the live version of each plugin and the archives the
server would refuse shown disabled with the reason; then a host page on another origin loads the
active release with the loader script. Screenshots of every console page land in
test-output/screenshots/. Set FLEXPLUGINS_TEST_BROWSER=required to fail instead of skipping when
Chromium or node is missing.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flexplugins.service import accounts
from tests.conftest import Credentials, LiveServer
from tests.test_runtime import BUNDLES, RUNTIME, deploy, release

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
API = "/v1/PluginService"


def _unavailable(reason: str) -> None:
    if os.environ.get("FLEXPLUGINS_TEST_BROWSER") == "required":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        _unavailable("node is not on PATH")
    assert found is not None
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    if not (HERE / "node_modules" / "playwright-core").exists():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("tests/browser/node_modules is missing and npm is not on PATH")
        assert npm is not None
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    return found


class _HostPages(http.server.BaseHTTPRequestHandler):
    """A host application on its own origin: one page, and 404 for anything else."""

    page = b""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.path == "/host.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def host_server() -> Iterator[tuple[str, type[_HostPages]]]:
    handler = type("HostPages", (_HostPages,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host application</title></head>
<body>
<h1>A host application</h1>
<p>Loads the active release of {account} from {server} with the loader script.</p>
<pre id="out">loading…</pre>
<script src="{server}/flexplugins/v1/Runtime/loader.js"></script>
<script>
FlexPluginsLoader.load({{
  manifestUrl: "{server}/flexplugins/v1/Runtime/Manifest",
  token: "{token}"
}}).then(function (result) {{
  window.__result = result;
  document.getElementById("out").textContent =
    JSON.stringify({{ ran: window.__ran, result: result }}, null, 2);
}}, function (error) {{
  window.__result = {{ error: String(error) }};
  document.getElementById("out").textContent = String(error);
}});
</script>
</body></html>
"""


def test_console_release_rollback_timeline_and_loader_in_chromium(
    node: str,
    server: LiveServer,
    http: httpx.Client,
    account: Credentials,
    host_server: tuple[str, type[_HostPages]],
) -> None:
    host_url, host_handler = host_server
    # Deploy through the API: two hosted bundles (one of a private version) and one that 404s.
    first, first_url, _ = deploy(http, "first", "1.0.0")
    second, second_url, _ = deploy(http, "second", "1.0.0", private=True)
    deploy(http, "spare", "1.0.0", hosted=False)  # never configured: never live
    broken_plugin = http.post(f"{API}/Plugins", data={"UniqueName": "broken"}).json()["sid"]
    broken = http.post(
        f"{API}/Plugins/{broken_plugin}/Versions",
        data={"Version": "0.0.1", "PluginUrl": f"{host_url}/missing/bundle.js"},
    ).json()["sid"]
    # Listed out of load order on purpose: the phases decide (first 1, broken 2, second 3).
    entries = [(second, 3), (broken, 2), (first, 1)]
    plugins = [json.dumps({"plugin_version": sid, "phase": phase}) for sid, phase in entries]
    configuration_a = http.post(f"{API}/Configurations", data={"Name": "everything", "Plugins": plugins})
    configuration_b = http.post(
        f"{API}/Configurations",
        data={"Name": "first only", "Plugins": [json.dumps({"plugin_version": first, "phase": 3})]},
    )
    a_sid, b_sid = configuration_a.json()["sid"], configuration_b.json()["sid"]
    token = accounts.create_key(server.db, account.sid, "host page", kind="runtime")
    host_handler.page = HOST_PAGE.format(
        server=server.url, account=account.sid, token=f"{token.sid}:{token.secret}"
    ).encode()
    plugin_sid = http.get(f"{API}/Plugins/first").json()["sid"]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    config = {
        "url": server.url,
        "account_sid": account.sid,
        "auth_token": account.token,
        "plugin_sid": plugin_sid,
        "configuration_a": a_sid,
        "configuration_b": b_sid,
        "host_page": f"{host_url}/host.html",
        "screenshots": str(SCREENSHOTS),
    }
    done = subprocess.run(
        [node, str(HERE / "drive.mjs")],
        cwd=HERE,
        env={**os.environ, "FLEXPLUGINS_BROWSER": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"drive.mjs failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert '"code": 20003' in seen["bad_sign_in"]
    cookie = seen["session_cookie"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert sorted(seen["plugins"]) == ["broken", "first", "second", "spare"]
    assert seen["live_before"] == ["not live"] * 4
    assert seen["versions"] == ["1.0.0"]
    assert seen["configuration_a_plugins"] == ["first", "broken", "second"]
    assert seen["active_after_release"] == b_sid

    # The timeline: newest first, the rollback (a new release of A) active, each made by us.
    timeline = seen["timeline"]
    assert [item["configuration"] for item in timeline] == [a_sid, b_sid, a_sid]
    assert [item["active"] for item in timeline] == [True, False, False]
    # Each entry says what it changed against the one before; the rollback says what it changes back.
    assert [item["change"] for item in timeline] == [
        "broken 0.0.1 added, second 1.0.0 added, first phase 3 → 1",
        "first phase 1 → 3, broken removed, second removed",
        "first 1.0.0 added, broken 0.0.1 added, second 1.0.0 added",
    ]
    assert [item["rollback"] for item in timeline] == [False, True, True]
    assert {item["by"] for item in timeline} == {account.sid}
    assert seen["active_before_rollback"] == timeline[1]["sid"]
    assert timeline[2]["sid"] in seen["rollback_notice"]
    active = http.get(f"{API}/Releases/Active").json()
    assert active["sid"] == timeline[0]["sid"] and active["configuration_sid"] == a_sid
    events = http.get("/flexplugins/v1/AuditEvents", params={"ResourceSid": active["sid"]}).json()
    assert events["audit_events"][0]["flex_metadata"] == "flexplugins-console"

    # After the rollback A is live: its three plugins show their version and cannot be archived.
    live = {row["name"]: row for row in seen["live"]}
    assert {name: row["live"] for name, row in live.items()} == {
        "first": "1.0.0",
        "second": "1.0.0",
        "broken": "0.0.1",
        "spare": "not live",
    }
    for name in ("first", "second", "broken"):
        assert live[name]["archive_disabled"] and not live[name]["archive_link"], live[name]
        reason = live[name]["reason"]
        assert f"Plugin {name} (FP" in reason and "is part of the active release" in reason, reason
    assert live["spare"]["archive_link"] and not live["spare"]["archive_disabled"]
    assert live["spare"]["reason"] is None
    assert seen["live_line"] == "Live: version 1.0.0, held by the active release."
    [first_version] = seen["live_versions"]
    assert first_version["version"] == "1.0.0" and first_version["live"] is True
    assert "is part of the active release and cannot be archived" in first_version["reason"]

    refusal = seen["refusal"]
    assert '"code": 20409' in refusal and '"status": 409' in refusal and a_sid in refusal
    assert http.get(f"{API}/Configurations/{a_sid}").json()["archived"] is False
    assert ["second", "added"] in seen["diff"] and ["broken", "added"] in seen["diff"]
    assert ["first", "moved"] in seen["diff"]
    assert seen["console_errors"] == []

    # The host page ran the two hosted bundles in load order; the missing one failed alone.
    host = seen["host"]
    assert host["ran"] == ["first@1.0.0", "second@1.0.0"], host
    result = host["result"]
    assert result["release_sid"] == active["sid"]
    assert [item["unique_name"] for item in result["loaded"]] == ["first", "second"]
    assert [item["url"] for item in result["loaded"]] == [first_url, second_url]
    assert [item["unique_name"] for item in result["failed"]] == ["broken"]

    for name in (
        "01-sign-in",
        "02-plugins",
        "04-configuration",
        "08-release-timeline",
        "12-plugins-live",
        "13-plugin-live-version",
        "10-diff",
        "11-host-page",
    ):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 1000, name


def test_an_integrity_mismatch_fails_that_bundle_only(
    node: str, server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    """The loader checks SRI: a manifest's integrity value the bytes do not match stops that bundle."""
    # Simulated by a host page that hands the loader a manifest with a wrong integrity value.
    ok, ok_url, ok_sri = deploy(http, "good", "1.0.0")
    _, bad_url, _ = deploy(http, "tampered", "1.0.0")
    release(http, (ok, 3))
    wrong = "sha384-" + "A" * 64
    manifest = {
        "release_sid": None,
        "configuration_sid": None,
        "plugins": [
            {
                "unique_name": "tampered",
                "version": "1.0.0",
                "plugin_url": bad_url,
                "integrity": wrong,
                "phase": 3,
                "private": False,
            },
            {
                "unique_name": "good",
                "version": "1.0.0",
                "plugin_url": ok_url,
                "integrity": ok_sri,
                "phase": 3,
                "private": False,
            },
        ],
    }
    page = f"""<!doctype html><html><body><script src="{server.url}{RUNTIME}/loader.js"></script><script>
    const body = {json.dumps(json.dumps(manifest))};
    const url = URL.createObjectURL(new Blob([body], {{type: "application/json"}}));
    FlexPluginsLoader.load({{manifestUrl: url}}).then(r => {{ window.__result = r; }},
      e => {{ window.__result = {{error: String(e)}}; }});
    </script></body></html>"""
    script = f"""
    import {{ launch }} from "./chromium.mjs";
    const context = await launch();
    const page = await context.newPage();
    await page.setContent({json.dumps(page)});
    await page.waitForFunction(() => window.__result !== undefined, null, {{ timeout: 20000 }});
    const seen = await page.evaluate(() => ({{ ran: window.__ran || [], result: window.__result }}));
    console.log(JSON.stringify(seen));
    await context.close();
    """
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], cwd=HERE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-4000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ran"] == ["good@1.0.0"], seen
    assert [item["unique_name"] for item in seen["result"]["failed"]] == ["tampered"]
    assert "integrity" in seen["result"]["failed"][0]["error"]
    assert BUNDLES in ok_url


# --- Sessions over plain HTTP -------------------------------------------------------------------


def _form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _sign_in(server: LiveServer, sid: str, secret: str) -> tuple[httpx.Client, httpx.Response]:
    browser = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    login = browser.get("/console/login")
    answer = browser.post("/console/login", data={"csrf": _form_token(login), "sid": sid, "secret": secret})
    return browser, answer


def test_sign_in_needs_the_form_token_and_sets_a_strict_httponly_cookie(
    server: LiveServer, account: Credentials
) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        browser.get("/console/login")
        forged = browser.post(
            "/console/login", data={"csrf": "forged", "sid": account.sid, "secret": account.token}
        )
        assert forged.status_code == 400 and "20001" in forged.text
    browser, answer = _sign_in(server, account.sid, account.token)
    with contextlib.closing(browser):
        assert answer.status_code == 303 and answer.headers["location"] == "/console/releases"
        cookie = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith("flexplugins_console=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        page = browser.get("/console/releases")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_every_console_form_refuses_a_missing_or_foreign_csrf_token(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    version, _, _ = deploy(http, "solo", "1.0.0", hosted=False)
    plugins = [json.dumps({"plugin_version": version, "phase": 3})]
    configuration = http.post(f"{API}/Configurations", data={"Name": "c", "Plugins": plugins}).json()["sid"]
    browser, _ = _sign_in(server, account.sid, account.token)
    with contextlib.closing(browser):
        for data in ({}, {"csrf": "x" * 32}):
            refused = browser.post(f"/console/actions/release/{configuration}", data=data)
            assert refused.status_code == 400, refused.text
            assert "The server refused" in refused.text
        assert http.get(f"{API}/Releases").json()["releases"] == []
        # A signed-out browser is sent to sign in; nothing is done.
        with httpx.Client(base_url=server.url, follow_redirects=False) as stranger:
            moved = stranger.post(f"/console/actions/release/{configuration}", data={"csrf": "x"})
            assert moved.status_code == 303 and moved.headers["location"].startswith("/console/login")
        token = _form_token(browser.get(f"/console/actions/release/{configuration}"))
        done = browser.post(f"/console/actions/release/{configuration}", data={"csrf": token})
        assert done.status_code == 303
        assert len(http.get(f"{API}/Releases").json()["releases"]) == 1


def test_api_keys_sign_in_runtime_tokens_do_not_and_revoking_the_key_ends_the_session(
    server: LiveServer, account: Credentials
) -> None:
    runtime = accounts.create_key(server.db, account.sid, "host", kind="runtime")
    browser, refused = _sign_in(server, runtime.sid, runtime.secret)
    browser.close()
    assert refused.status_code == 403 and "20403" in refused.text

    key = accounts.create_key(server.db, account.sid, "console")
    browser, answer = _sign_in(server, key.sid, key.secret)
    with contextlib.closing(browser):
        assert answer.status_code == 303
        page = browser.get("/console/plugins")
        assert page.status_code == 200 and key.sid in page.text
        accounts.revoke_key(server.db, account.sid, key.sid)
        deadline = time.monotonic() + 5
        while browser.get("/console/plugins").status_code == 200:
            assert time.monotonic() < deadline, "the session outlived its revoked key"
            time.sleep(0.2)
        assert browser.get("/console/plugins").headers["location"].startswith("/console/login")


def test_hostile_identifiers_get_a_refusal_page_never_a_server_error(
    server: LiveServer, account: Credentials
) -> None:
    from urllib.parse import quote

    browser, _ = _sign_in(server, account.sid, account.token)
    with contextlib.closing(browser):
        for raw in ("' OR 1=1 --", "../../etc/passwd", "a" * 5000, "FP" + "0" * 32 + "' --", "\u202e"):
            bad = quote(raw, safe="").replace(".", "%2E")
            for path in (
                f"/console/plugins/{bad}",
                f"/console/configurations/{bad}",
                f"/console/diff?from={bad}&to={bad}",
                f"/console/actions/release/{bad}",
            ):
                page = browser.get(path)
                assert page.status_code in (200, 400, 404), (path, page.status_code)
            token = _form_token(browser.get("/console/actions/release/x"))
            for action in (
                "release",
                "rollback",
                "archive-configuration",
                "archive-plugin",
                "archive-version",
            ):
                done = browser.post(f"/console/actions/{action}/{bad}", data={"csrf": token, "plugin": raw})
                assert done.status_code in (400, 404), (action, raw, done.status_code, done.text[:300])
                assert "vendor-error" in done.text or done.json()["code"] == 20404  # JSON 404: no route
        nul = browser.post("/console/login", content=b"sid=a%00b&secret=x&csrf=y")
        assert nul.status_code == 400 and "vendor-error" in nul.text
