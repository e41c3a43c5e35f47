"""Cross-site API writes are refused (403 in the vendor's shape); same-origin and allowed origins pass.

The attack: API 401s carry `WWW-Authenticate: Basic`, so a browser that once answered the prompt
attaches the cached credentials to a form that another site posts to the API. Browsers always send
`Origin` on such a POST; the vendor's clients never send one.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from tests.conftest import Credentials, LiveServer, start_server
from tests.openapi import ERROR_SCHEMA

API = "/v1/PluginService"
CROSS_SITE = ["https://evil.example", "null", "http://127.0.0.1", "http://127.0.0.1:1", "https://127.0.0.1"]


def _writes(http: httpx.Client) -> list[tuple[str, dict[str, str] | bytes]]:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "origin-target"}).json()
    version = http.post(
        f"{API}/Plugins/{plugin['sid']}/Versions", data={"Version": "1.0.0", "PluginUrl": "https://a.b/c.js"}
    ).json()
    configuration = http.post(
        f"{API}/Configurations", data={"Name": "c", "Plugins": json.dumps({"plugin_version": version["sid"]})}
    ).json()
    return [
        (f"{API}/Plugins", {"UniqueName": "from-another-site"}),
        (f"{API}/Plugins/{plugin['sid']}", {"FriendlyName": "defaced"}),
        (f"{API}/Plugins/{plugin['sid']}/Archive", {}),
        (
            f"{API}/Plugins/{plugin['sid']}/Versions",
            {"Version": "6.6.6", "PluginUrl": "https://evil.example/x.js"},
        ),
        (f"{API}/Plugins/{plugin['sid']}/Versions/{version['sid']}/Archive", {}),
        (
            f"{API}/Configurations",
            {"Name": "evil", "Plugins": json.dumps({"plugin_version": version["sid"]})},
        ),
        (f"{API}/Configurations/{configuration['sid']}/Archive", {}),
        (f"{API}/Releases", {"ConfigurationId": configuration["sid"]}),
        ("/flexplugins/v1/Releases", {"Enable": "origin-target@1.0.0"}),
        ("/flexplugins/v1/Bundles", b"console.log('planted');"),
    ]


def _post(http: httpx.Client, path: str, body: dict[str, str] | bytes, origin: str | None) -> httpx.Response:
    headers = {} if origin is None else {"Origin": origin}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/javascript"
        return http.post(path, content=body, headers=headers)
    return http.post(path, data=body, headers=headers)


def _events(http: httpx.Client) -> int:
    return len(http.get("/flexplugins/v1/AuditEvents", params={"PageSize": 1000}).json()["audit_events"])


def test_writes_with_another_sites_origin_are_refused(server: LiveServer, http: httpx.Client) -> None:
    import jsonschema

    writes = _writes(http)
    before = _events(http)
    for origin in CROSS_SITE:
        for path, body in writes:
            response = _post(http, path, body, origin)
            assert response.status_code == 403, (origin, path, response.text)
            error = response.json()
            jsonschema.validate(error, ERROR_SCHEMA)
            assert error["code"] == 20403 and error["status"] == 403
            assert "Origin" in error["message"]
    assert _events(http) == before
    plugins = http.get(f"{API}/Plugins", headers={"Origin": "https://evil.example"})
    assert plugins.status_code == 200  # reads are not writes (and carry no CORS grant)
    assert [p["unique_name"] for p in plugins.json()["plugins"]] == ["origin-target"]
    bundle = http.get(f"/flexplugins/v1/Bundles/{plugins.json()['plugins'][0]['account_sid']}/{'0' * 64}.js")
    assert bundle.status_code == 404


def test_without_origin_and_from_the_same_origin_writes_pass(server: LiveServer, http: httpx.Client) -> None:
    same = [
        None,
        server.url,
        server.url.replace("http://", "HTTP://"),
        server.url.replace("127.0.0.1", "127.0.0.1"),
    ]
    for index, origin in enumerate(same):
        response = _post(http, f"{API}/Plugins", {"UniqueName": f"same-origin-{index}"}, origin)
        assert response.status_code == 201, (origin, response.text)
    # Behind a proxy, the configured public URL is the server's own origin.
    public = "https://plugins.example.com"
    settings = replace(server.settings, public_url=public)
    other = start_server(settings)
    proxied = next(other)
    try:
        with httpx.Client(base_url=proxied.url, auth=http.auth) as behind:
            assert _post(behind, f"{API}/Plugins", {"UniqueName": "via-proxy"}, public).status_code == 201
            assert _post(behind, f"{API}/Plugins", {"UniqueName": "direct"}, proxied.url).status_code == 403
    finally:
        with contextlib.suppress(StopIteration):
            next(other)


@pytest.fixture
def allowing(server: LiveServer) -> Iterator[LiveServer]:
    settings = replace(server.settings, allowed_origins=("https://ops.example.com", "http://localhost:3000"))
    other = start_server(settings)
    yield next(other)
    with contextlib.suppress(StopIteration):
        next(other)


def test_allowed_origins_setting_lets_deliberate_browser_clients_write(
    allowing: LiveServer, account: Credentials
) -> None:
    with httpx.Client(base_url=allowing.url, auth=(account.sid, account.token)) as http:
        for index, origin in enumerate(
            ("https://ops.example.com", "http://localhost:3000", "HTTPS://OPS.example.com")
        ):
            response = _post(http, f"{API}/Plugins", {"UniqueName": f"allowed-{index}"}, origin)
            assert response.status_code == 201, (origin, response.text)
        for origin in (
            "https://ops.example.com.evil.example",
            "https://evil.example",
            "http://localhost:3001",
        ):
            assert _post(http, f"{API}/Plugins", {"UniqueName": "refused"}, origin).status_code == 403


def test_allowed_origins_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from flexplugins.config import ENV_ALLOWED_ORIGINS, Settings

    monkeypatch.setenv(ENV_ALLOWED_ORIGINS, " https://a.example , http://b.example:8000/ ,")
    settings = Settings.from_env()
    assert settings.allowed_origins == ("https://a.example", "http://b.example:8000")
    assert settings.to_env()[ENV_ALLOWED_ORIGINS] == "https://a.example,http://b.example:8000"


def test_the_consoles_own_forms_still_work_with_their_origin(
    server: LiveServer, account: Credentials
) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        browser.headers["Origin"] = server.url
        login = browser.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert token, login.text
        answer = browser.post(
            "/console/login", data={"csrf": token.group(1), "sid": account.sid, "secret": account.token}
        )
        assert answer.status_code == 303, answer.text
        assert browser.get("/console/plugins").status_code == 200
