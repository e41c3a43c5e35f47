"""`X-Content-Type-Options: nosniff` on every response: API, errors, bundles, runtime, console, 404s."""

from __future__ import annotations

import httpx

from tests.conftest import Credentials, LiveServer

API = "/v1/PluginService"


def test_every_kind_of_response_says_nosniff(
    server: LiveServer, account: Credentials, http: httpx.Client
) -> None:
    bundle = http.post(
        "/flexplugins/v1/Bundles",
        content=b"console.log('sniff');",
        headers={"Content-Type": "text/javascript"},
    ).json()
    anonymous = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    etag = anonymous.get(bundle["url"]).headers["etag"]
    responses = {
        "API read": http.get(f"{API}/Plugins"),
        "API read, cached": http.get(f"{API}/Plugins"),
        "API write": http.post(f"{API}/Plugins", data={"UniqueName": "sniff"}),
        "API 400": http.post(f"{API}/Plugins", data={"UniqueName": ""}),
        "API 401": anonymous.get(f"{API}/Plugins"),
        "API 404": http.get(f"{API}/Plugins/FP{'0' * 32}"),
        "route 404": anonymous.get("/no/such/path"),
        "405": anonymous.delete("/healthz"),
        "slash redirect": anonymous.get(f"{API}/Plugins/"),
        "healthz": anonymous.get("/healthz"),
        "bundle": anonymous.get(bundle["url"]),
        "bundle HEAD": anonymous.head(bundle["url"]),
        "bundle 304": anonymous.get(bundle["url"], headers={"If-None-Match": etag}),
        "bundle 404": anonymous.get(f"/flexplugins/v1/Bundles/{account.sid}/{'0' * 64}.js"),
        "bundle preflight": anonymous.options(bundle["url"]),
        "manifest": http.get("/flexplugins/v1/Runtime/Manifest"),
        "manifest 401": anonymous.get("/flexplugins/v1/Runtime/Manifest"),
        "import map": http.get("/flexplugins/v1/Runtime/ImportMap"),
        "loader": anonymous.get("/flexplugins/v1/Runtime/loader.js"),
        "console redirect": anonymous.get("/console/plugins"),
        "console login": anonymous.get("/console/login"),
        "console stylesheet": anonymous.get("/console/static/console.css"),
        "console 404": anonymous.get("/console/no-such-page"),
        "audit": http.get("/flexplugins/v1/AuditEvents"),
    }
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses["bundle 304"] == 304 and statuses["route 404"] == 404, statuses
    missing = {
        name: response.status_code
        for name, response in responses.items()
        if response.headers.get_list("x-content-type-options") != ["nosniff"]
    }
    assert not missing, missing
    anonymous.close()
