"""Requests on the vendor's hosts (as the vendor proxy hands them over) reach the right API, and the
URLs in the responses carry the vendor's host and path; other hosts see the internal paths."""

from __future__ import annotations

from typing import Any

import httpx

from flexplugins.api.vendor_hosts import route
from flexplugins.api.wire import VENDOR_HOST
from tests.conftest import Credentials, LiveServer, start_server
from tests.openapi import CONFIGURATION_SPEC, SERVERLESS_SPEC, assert_error, assert_valid
from tests.vendor.conftest import API, FLEX_API, SERVERLESS, UPLOAD, on, upload


def scope(host: bytes | None, path: str) -> dict[str, Any]:
    headers = [(b"user-agent", b"x")] + ([(b"host", host)] if host is not None else [])
    return {"type": "http", "path": path, "raw_path": path.encode(), "headers": headers}


def test_the_route_of_each_host() -> None:
    cases = {
        (b"flex-api.twilio.com", "/v1/Configuration"): ("/v1/Configuration", "flex-api.twilio.com"),
        (b"FLEX-API.twilio.com:443", "/v1/PluginService/Plugins"): (
            "/v1/PluginService/Plugins",
            "flex-api.twilio.com",
        ),
        (b"serverless.twilio.com", "/v1/Services"): ("/serverless/v1/Services", "serverless.twilio.com"),
        (b"serverless-upload.twilio.com", "/v1/Services/ZS1/Assets"): (
            "/serverless/v1/Services/ZS1/Assets",
            "serverless-upload.twilio.com",
        ),
        (b"api.twilio.com", "/2010-04-01/Accounts/AC1.json"): (
            "/2010-04-01/Accounts/AC1.json",
            "api.twilio.com",
        ),
        (b"flex-plugin-upload.us1.twilio.com", "/v1/Plugin/Validate"): (
            "/flex-plugin-upload/v1/Plugin/Validate",
            "flex-plugin-upload.us1.twilio.com",
        ),
        (b"flex.twilio.com", "/plugins"): ("/plugins", "flex.twilio.com"),
        (b"default-1234-abcde.twil.io", "/plugins/p/1.0.0/bundle.js"): (
            "/serverless/assets/default-1234-abcde.twil.io/plugins/p/1.0.0/bundle.js",
            "default-1234-abcde.twil.io",
        ),
    }
    for (host, path), (routed_path, vendor) in cases.items():
        routed = route(scope(host, path))
        assert (routed["path"], routed[VENDOR_HOST]) == (routed_path, vendor), host
    # Anything else is untouched, and the very same scope object goes on (the fast path).
    for host in (
        b"127.0.0.1:8080",
        b"plugins.example.com",
        b"evil.twilio.com",
        b"a.b.twil.io",
        b"[::1]:80",
        None,
    ):
        original = scope(host, "/v1/PluginService/Plugins")
        assert route(original) is original, host


def test_urls_carry_the_vendor_host(http: httpx.Client, account: Credentials, server: LiveServer) -> None:
    configuration = http.get("/v1/Configuration", headers=on(FLEX_API))
    assert configuration.status_code == 200
    assert configuration.json()["url"] == "https://flex-api.twilio.com/v1/Configuration"
    assert_valid("FetchConfiguration", 200, configuration.json(), CONFIGURATION_SPEC)

    created = http.post(
        "/v1/Services", data={"UniqueName": "default", "FriendlyName": "x"}, headers=on(SERVERLESS)
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert service["url"] == f"https://serverless.twilio.com/v1/Services/{service['sid']}"
    assert service["links"]["builds"] == f"{service['url']}/Builds"
    listed = http.get("/v1/Services", params={"PageSize": 1}, headers=on(SERVERLESS)).json()
    assert listed["meta"]["url"] == "https://serverless.twilio.com/v1/Services?PageSize=1&Page=0"
    assert_valid("ListService", 200, listed, SERVERLESS_SPEC)

    asset = http.post(
        f"/v1/Services/{service['sid']}/Assets", data={"FriendlyName": "a"}, headers=on(SERVERLESS)
    )
    version = upload(http, service["sid"], asset.json()["sid"], "/a.js", b"1")
    assert version.status_code == 201
    assert version.json()["url"].startswith(f"https://{UPLOAD}/v1/Services/{service['sid']}/Assets/")

    fetched = http.get(f"/2010-04-01/Accounts/{account.sid}.json", headers=on(API))
    assert fetched.json()["uri"] == f"/2010-04-01/Accounts/{account.sid}.json"

    plugins = http.get("/v1/PluginService/Plugins", headers=on(FLEX_API)).json()
    assert plugins["meta"]["url"].startswith("https://flex-api.twilio.com/v1/PluginService/Plugins?")

    # Directly (any other Host): the internal paths, on this server's own base.
    direct = http.get(f"/serverless/v1/Services/{service['sid']}").json()
    assert direct["url"] == f"{server.url}/serverless/v1/Services/{service['sid']}"
    assert http.get("/v1/Configuration").json()["url"] == f"{server.url}/v1/Configuration"
    # A vendor path is only an API on its own host: /v1/Services is not the Plugin Service's.
    assert_error(http.get("/v1/Services"), 404, 20404)
    assert_error(http.get("/v1/PluginService/Plugins", headers=on(SERVERLESS)), 404, 20404)


def test_vendor_host_urls_win_over_the_public_url(server: LiveServer, account: Credentials) -> None:
    """--public-url names this server for direct clients; on a vendor host the vendor's URL stands."""
    from dataclasses import replace

    serving = start_server(replace(server.settings, public_url="https://plugins.example.com"))
    public = next(serving)
    try:
        with httpx.Client(base_url=public.url, auth=(account.sid, account.token)) as client:
            plugins = client.get("/v1/PluginService/Plugins", headers=on(FLEX_API)).json()
            assert plugins["meta"]["first_page_url"].startswith(
                "https://flex-api.twilio.com/v1/PluginService/"
            )
            services = client.get("/v1/Services", headers=on(SERVERLESS)).json()
            assert services["meta"]["first_page_url"].startswith("https://serverless.twilio.com/v1/Services?")
            direct = client.get("/serverless/v1/Services").json()
            assert direct["meta"]["first_page_url"].startswith(
                "https://plugins.example.com/serverless/v1/Services?"
            )
            plain = client.get("/v1/PluginService/Plugins").json()
            assert plain["meta"]["first_page_url"].startswith("https://plugins.example.com/v1/PluginService/")
    finally:
        for _ in serving:
            pass
