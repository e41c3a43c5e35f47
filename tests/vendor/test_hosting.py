"""Deployed assets served at their environment's domain (`<label>.twil.io`) and at the internal path."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error
from tests.vendor.conftest import SERVERLESS, on, upload


def deploy(http: httpx.Client, files: dict[str, tuple[bytes, str, str]]) -> dict[str, Any]:
    """A service, an environment and a deployed build of these files (path -> bytes, type, visibility)."""
    service = http.post(
        "/v1/Services", data={"UniqueName": "default", "FriendlyName": "x"}, headers=on(SERVERLESS)
    )
    service_sid = service.json()["sid"]
    environment = http.post(
        f"/v1/Services/{service_sid}/Environments",
        data={"UniqueName": "plugin-hosted", "DomainSuffix": "h0st1"},
        headers=on(SERVERLESS),
    ).json()
    asset = http.post(
        f"/v1/Services/{service_sid}/Assets", data={"FriendlyName": "a"}, headers=on(SERVERLESS)
    )
    versions = []
    for path, (data, media, visibility) in files.items():
        uploaded = upload(
            http, service_sid, asset.json()["sid"], path, data, visibility=visibility, content_type=media
        )
        assert uploaded.status_code == 201, uploaded.text
        versions.append(uploaded.json()["sid"])
    build = http.post(
        f"/v1/Services/{service_sid}/Builds", data={"AssetVersions": versions}, headers=on(SERVERLESS)
    )
    deployed = http.post(
        f"/v1/Services/{service_sid}/Environments/{environment['sid']}/Deployments",
        data={"BuildSid": build.json()["sid"]},
        headers=on(SERVERLESS),
    )
    assert deployed.status_code == 201, deployed.text
    return {"service": service_sid, "environment": environment, "asset": asset.json()["sid"]}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


BUNDLE = b"(function(){ Twilio.Flex.Plugins.init(function Hello(){}); })();\n"
SOURCE_MAP = b'{"version":3,"sources":["index.js"],"mappings":""}'


@pytest.fixture
def hosted(http: httpx.Client) -> dict[str, Any]:
    return deploy(
        http,
        {
            "/plugins/plugin-hosted/1.0.0/bundle.js": (BUNDLE, "application/javascript", "Protected"),
            "/plugins/plugin-hosted/1.0.0/bundle.js.map": (SOURCE_MAP, "application/json", "Protected"),
            "/public/logo.png": (b"\x89PNG\r\n\x1a\n\x00binary", "image/png", "Public"),
        },
    )


def test_protected_assets_need_the_owner(
    server: LiveServer, http: httpx.Client, hosted: dict[str, Any], other_account: Credentials
) -> None:
    domain = hosted["environment"]["domain_name"]
    path = "/plugins/plugin-hosted/1.0.0/bundle.js"
    served = http.get(path, headers=on(domain))
    assert served.status_code == 200 and served.content == BUNDLE
    assert served.headers["content-type"] == "application/javascript; charset=utf-8"
    assert served.headers["etag"] == f'"{hashlib.sha256(BUNDLE).hexdigest()}"'
    assert sri(served.content) == sri(BUNDLE)
    source_map = http.get(path + ".map", headers=on(domain))
    assert source_map.content == SOURCE_MAP and source_map.headers["content-type"].startswith(
        "application/json"
    )

    # No credentials: asked for them. Another account's: not found, as if nothing were there.
    assert_error(httpx.get(server.url + path, headers=on(domain)), 401, 20003)
    stranger = httpx.get(server.url + path, headers=on(domain), auth=(other_account.sid, other_account.token))
    assert_error(stranger, 404, 20404)
    # The bytes of a protected asset are private in the bundle store too.
    account_sid = hosted["environment"]["account_sid"]
    digest = hashlib.sha256(BUNDLE).hexdigest()
    assert httpx.get(f"{server.url}/flexplugins/v1/Bundles/{account_sid}/{digest}.js").status_code == 401
    assert http.get(f"/flexplugins/v1/Bundles/{account_sid}/{digest}.js").content == BUNDLE


def test_public_assets_etag_head_and_the_direct_url(server: LiveServer, hosted: dict[str, Any]) -> None:
    domain = hosted["environment"]["domain_name"]
    logo = httpx.get(server.url + "/public/logo.png", headers=on(domain))
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png"
    assert logo.content == b"\x89PNG\r\n\x1a\n\x00binary"
    etag = logo.headers["etag"]
    again = httpx.get(server.url + "/public/logo.png", headers={**on(domain), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = httpx.head(server.url + "/public/logo.png", headers=on(domain))
    assert (
        head.status_code == 200
        and head.content == b""
        and head.headers["content-length"] == str(len(logo.content))
    )
    # The same bytes without the vendor proxy: the internal path names the domain.
    direct = httpx.get(f"{server.url}/serverless/assets/{domain}/public/logo.png")
    assert direct.content == logo.content and direct.headers["etag"] == etag
    # A path the build does not hold, a domain nobody has, a host of two labels: not found.
    assert_error(httpx.get(server.url + "/public/other.png", headers=on(domain)), 404, 20404)
    assert_error(httpx.get(server.url + "/public/logo.png", headers=on("nobody-0000.twil.io")), 404, 20404)
    assert_error(httpx.get(f"{server.url}/serverless/assets/a.b.twil.io/public/logo.png"), 404, 20404)


def test_a_new_deployment_changes_what_the_domain_serves(http: httpx.Client, hosted: dict[str, Any]) -> None:
    domain = hosted["environment"]["domain_name"]
    service, asset = hosted["service"], hosted["asset"]
    path = "/plugins/plugin-hosted/1.0.0/bundle.js"
    newer = upload(http, service, asset, path, b"console.log('v2')")
    build = http.post(
        f"/v1/Services/{service}/Builds", data={"AssetVersions": newer.json()["sid"]}, headers=on(SERVERLESS)
    )
    environment = hosted["environment"]["sid"]
    http.post(
        f"/v1/Services/{service}/Environments/{environment}/Deployments",
        data={"BuildSid": build.json()["sid"]},
        headers=on(SERVERLESS),
    )
    assert http.get(path, headers=on(domain)).content == b"console.log('v2')"
    assert_error(http.get("/public/logo.png", headers=on(domain)), 404, 20404)  # not in the new build
    # Deleting the environment takes its domain down.
    deleted = http.delete(f"/v1/Services/{service}/Environments/{environment}", headers=on(SERVERLESS))
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(http.get(path, headers=on(domain)), 404, 20404)


def test_the_runtime_manifest_gives_the_integrity_of_twil_io_bundles(
    http: httpx.Client, hosted: dict[str, Any]
) -> None:
    plugin_url = f"https://{hosted['environment']['domain_name']}/plugins/plugin-hosted/1.0.0/bundle.js"
    plugin = http.post("/v1/PluginService/Plugins", data={"UniqueName": "plugin-hosted"}).json()
    version = http.post(
        f"/v1/PluginService/Plugins/{plugin['sid']}/Versions",
        data={"Version": "1.0.0", "PluginUrl": plugin_url, "Private": "true"},
    ).json()
    configuration = http.post(
        "/v1/PluginService/Configurations",
        data={"Name": "c", "Plugins": f'{{"plugin_version": "{version["sid"]}"}}'},
    ).json()
    http.post("/v1/PluginService/Releases", data={"ConfigurationId": configuration["sid"]}).raise_for_status()
    manifest = http.get("/flexplugins/v1/Runtime/Manifest").json()
    [entry] = manifest["plugins"]
    assert entry["plugin_url"] == plugin_url and entry["integrity"] == sri(BUNDLE)


def test_a_deployment_retires_the_cached_manifest(http: httpx.Client, hosted: dict[str, Any]) -> None:
    """Deployments change what a twil.io PluginUrl serves, so they bump the account's write counter."""
    domain = hosted["environment"]["domain_name"]
    path = "/plugins/plugin-hosted/1.0.0/bundle.js"
    service, environment = hosted["service"], hosted["environment"]["sid"]
    # A build of other bytes at the same path, made (and its bytes stored) before the manifest is read.
    newer = upload(http, service, hosted["asset"], path, b"console.log('rebuilt')")
    build = http.post(
        f"/v1/Services/{service}/Builds", data={"AssetVersions": newer.json()["sid"]}, headers=on(SERVERLESS)
    )
    plugin = http.post("/v1/PluginService/Plugins", data={"UniqueName": "plugin-hosted"}).json()
    version = http.post(
        f"/v1/PluginService/Plugins/{plugin['sid']}/Versions",
        data={"Version": "1.0.0", "PluginUrl": f"https://{domain}{path}"},
    ).json()
    configuration = http.post(
        "/v1/PluginService/Configurations",
        data={"Name": "c", "Plugins": f'{{"plugin_version": "{version["sid"]}"}}'},
    ).json()
    http.post("/v1/PluginService/Releases", data={"ConfigurationId": configuration["sid"]}).raise_for_status()
    for _ in range(2):  # the second answer comes from the read cache
        assert http.get("/flexplugins/v1/Runtime/Manifest").json()["plugins"][0]["integrity"] == sri(BUNDLE)

    http.post(
        f"/v1/Services/{service}/Environments/{environment}/Deployments",
        data={"BuildSid": build.json()["sid"]},
        headers=on(SERVERLESS),
    ).raise_for_status()
    assert http.get("/flexplugins/v1/Runtime/Manifest").json()["plugins"][0]["integrity"] == sri(
        b"console.log('rebuilt')"
    )
