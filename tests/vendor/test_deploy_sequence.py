"""`twilio flex:plugins:deploy`, call by call as the vendor's CLI makes it (read from
the vendor's code), over plain HTTP with the vendor's Hosts as the vendor proxy hands them over:
a first deploy, a second (`--minor`) that carries the first build's assets, and the PluginUrl of
each version serving exactly the bytes that were uploaded. Ends with `archive:plugin`'s removal
of the environment."""

from __future__ import annotations

import io
import ssl
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.conftest import Credentials, free_port
from tests.openapi import ACCOUNTS_SPEC, CONFIGURATION_SPEC, SERVERLESS_SPEC, assert_error, assert_valid
from tests.serving import serve
from tests.vendor.conftest import API, FLEX_API, SERVERLESS, UPLOAD, VALIDATION, on

NAME = "plugin-sample"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Cli:
    """The requests the deploy script makes, each checked against the vendor's schema."""

    def __init__(self, http: httpx.Client, *, via_proxy: bool = False) -> None:
        """`http` is a client of the server's own port (requests carry the vendor's Host, as the
        vendor proxy hands them over) or, `via_proxy`, a client of the real vendor proxy."""
        self.http = http
        self.via_proxy = via_proxy

    def request(self, method: str, host: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.via_proxy:
            return self.http.request(method, f"https://{host}{path}", **kwargs)
        headers = {**on(host), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get_url(self, url: str, auth: tuple[str, str] | None) -> httpx.Response:
        """GET an absolute `https://<vendor host>/...` URL (a PluginUrl), with these credentials."""
        host, _, path = url.removeprefix("https://").partition("/")
        return self.request("GET", host, "/" + path, auth=auth)

    def call(
        self,
        method: str,
        host: str,
        path: str,
        status: int,
        operation: str | None = None,
        spec: str = SERVERLESS_SPEC,
        **kwargs: Any,
    ) -> Any:
        response = self.request(method, host, path, **kwargs)
        assert response.status_code == status, (method, host, path, response.text)
        if status == 204:
            return None
        body = response.json()
        if operation is not None:
            assert_valid(operation, status, body, spec)
        return body

    def configuration(self) -> Any:
        return self.call("GET", FLEX_API, "/v1/Configuration", 200, "FetchConfiguration", CONFIGURATION_SPEC)

    def runtime(self) -> dict[str, Any]:
        """utils/runtime: the service (registered or `default`), the plugin's environment, its build."""
        service_sids = self.configuration()["serverless_service_sids"]
        if service_sids:
            service = self.call("GET", SERVERLESS, f"/v1/Services/{service_sids[0]}", 200, "FetchService")
        else:
            listed = self.call("GET", SERVERLESS, "/v1/Services?", 200, "ListService")
            found = [s for s in listed["services"] if s["unique_name"] == "default"]
            service = (
                found[0]
                if found
                else self.call(
                    "POST",
                    SERVERLESS,
                    "/v1/Services",
                    201,
                    "CreateService",
                    data={"UniqueName": "default", "FriendlyName": "Flex Plugins Default Service"},
                )
            )
        environments_path = f"/v1/Services/{service['sid']}/Environments"
        listed = self.call("GET", SERVERLESS, environments_path + "?", 200, "ListEnvironment")
        found = [e for e in listed["environments"] if e["unique_name"] == NAME]
        if found:
            environment = found[0]
        else:
            existing = self.call("GET", SERVERLESS, environments_path + "?", 200, "ListEnvironment")
            assert all(e["domain_suffix"] != "k3x9q" for e in existing["environments"])
            environment = self.call(
                "POST",
                SERVERLESS,
                environments_path,
                201,
                "CreateEnvironment",
                data={"UniqueName": NAME, "DomainSuffix": "k3x9q"},
            )
        build = None
        if environment["build_sid"]:
            path = f"/v1/Services/{service['sid']}/Builds/{environment['build_sid']}"
            build = self.call("GET", SERVERLESS, path, 200, "FetchBuild")
        return {"service": service, "environment": environment, "build": build}

    def upload(self, service_sid: str, path: str, data: bytes, media: str) -> Any:
        asset = self.call(
            "POST",
            SERVERLESS,
            f"/v1/Services/{service_sid}/Assets",
            201,
            "CreateAsset",
            data={"FriendlyName": NAME},
        )
        created = self.call(
            "POST",
            UPLOAD,
            f"/v1/Services/{service_sid}/Assets/{asset['sid']}/Versions",
            201,
            data={"Path": path, "Visibility": "Protected"},
            files={"Content": (path.rsplit("/", 1)[-1], data, media)},
        )
        # The upload is not in the vendor's OpenAPI file; its answer is an asset version.
        assert_valid("FetchAssetVersion", 200, created, SERVERLESS_SPEC)
        return created

    def deploy(self, account: Credentials, version: str, bundle: bytes, source_map: bytes) -> str:
        self.configuration()  # plugin-flex reads the Flex UI version first (`ui_version.replace`)
        assert isinstance(self.configuration()["ui_version"], str)
        runtime = self.runtime()
        service, environment, build = runtime["service"], runtime["environment"], runtime["build"]
        plugin_url = f"https://{environment['domain_name']}/plugins/{NAME}/{version}/bundle.js"
        plugin = self.request("GET", FLEX_API, f"/v1/PluginService/Plugins/{NAME}")
        new_plugin = plugin.status_code == 404 and "more_info" in plugin.json()

        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr(f"{NAME}/src/index.js", "export default 1;\n")
        report = self.call(
            "POST",
            VALIDATION,
            "/v1/Plugin/Validate",
            200,
            files={
                "flex_ui_version": (None, "2.17.1"),
                "plugin_name": (None, NAME),
                "plugin_zip": ("p.zip", archive.getvalue()),
            },
        )
        validate_status = "success" if report["errors"] == [] else "failure"

        carried = build["asset_versions"] if build else []
        bundle_path = f"/plugins/{NAME}/{version}/bundle.js"
        assert all(v["path"] not in (bundle_path, bundle_path + ".map") for v in carried)  # _verifyPath
        bundle_version = self.upload(
            service["sid"], f"/plugins/{NAME}/{version}/bundle.js", bundle, "application/javascript"
        )
        map_version = self.upload(
            service["sid"], f"/plugins/{NAME}/{version}/bundle.js.map", source_map, "application/json"
        )

        # configurationClient.registerSid: the deploy script's own form body (qs, encode: false).
        configuration = self.configuration()
        if service["sid"] not in configuration["serverless_service_sids"]:
            sids = [*configuration["serverless_service_sids"], service["sid"]]
            body = "&".join(
                [
                    f"account_sid={configuration['account_sid']}",
                    *[f"serverless_service_sids={s}" for s in sids],
                ]
            )
            updated = self.call(
                "POST",
                FLEX_API,
                "/v1/Configuration",
                200,
                "UpdateConfiguration",
                CONFIGURATION_SPEC,
                content=body,
                headers=FORM,
            )
            assert updated["serverless_service_sids"] == sids

        # BuildClient: querystring.stringify of the data, Runtime "latest"; polled until completed.
        data: list[tuple[str, str]] = [("AssetVersions", v["sid"]) for v in carried]
        data += [("AssetVersions", bundle_version["sid"]), ("AssetVersions", map_version["sid"])]
        data += [("Dependencies", "") for _ in (build["dependencies"] if build else [])]
        data += [("Runtime", "latest")]
        created = self.call(
            "POST",
            SERVERLESS,
            f"/v1/Services/{service['sid']}/Builds",
            201,
            "CreateBuild",
            content=urlencode(data),
            headers=FORM,
        )
        polled = self.call(
            "GET", SERVERLESS, f"/v1/Services/{service['sid']}/Builds/{created['sid']}", 200, "FetchBuild"
        )
        assert polled["status"] == "completed"
        assert [v["sid"] for v in polled["asset_versions"]] == [
            sid for key, sid in data if key == "AssetVersions"
        ]
        deployments = f"/v1/Services/{service['sid']}/Environments/{environment['sid']}/Deployments"
        self.call("POST", SERVERLESS, deployments, 201, "CreateDeployment", data={"BuildSid": created["sid"]})
        account_body = self.call(
            "GET", API, f"/2010-04-01/Accounts/{account.sid}.json", 200, "FetchAccount", ACCOUNTS_SPEC
        )
        assert account_body["friendly_name"]

        if new_plugin:
            self.call(
                "POST",
                FLEX_API,
                "/v1/PluginService/Plugins",
                201,
                data={"UniqueName": NAME, "FriendlyName": NAME},
            )
        version_body = self.call(
            "POST",
            FLEX_API,
            f"/v1/PluginService/Plugins/{NAME}/Versions",
            201,
            data={
                "Version": version,
                "PluginUrl": plugin_url,
                "Private": "true",
                "Changelog": "deployed",
                "CliVersion": "7.0.0",
                "ValidateStatus": validate_status,
            },
        )
        assert version_body["plugin_url"] == plugin_url and validate_status == "success"
        return plugin_url


def deploy_twice_and_archive(cli: Cli, account: Credentials) -> None:
    first_bundle = b"(()=>{Twilio.Flex.Plugins.init({name:'plugin-sample',init(){}})})();\n" * 50
    first_url = cli.deploy(account, "0.0.1", first_bundle, b'{"version":3,"mappings":"AAAA"}')
    second_bundle = first_bundle.replace(b"init(){}", b"init(){console.log(2)}")
    second_url = cli.deploy(account, "0.1.0", second_bundle, b'{"version":3,"mappings":"BBBB"}')

    credentials = (account.sid, account.token)
    assert cli.get_url(second_url, credentials).content == second_bundle
    assert cli.get_url(first_url, credentials).content == first_bundle  # carried into the new build
    assert cli.get_url(second_url + ".map", credentials).content == b'{"version":3,"mappings":"BBBB"}'
    assert_error(cli.get_url(second_url, None), 401, 20003)  # Protected: the account's credentials only

    # Exactly one service, registered once; one environment for the plugin.
    configuration = cli.configuration()
    [service_sid] = configuration["serverless_service_sids"]
    environments = cli.call(
        "GET", SERVERLESS, f"/v1/Services/{service_sid}/Environments", 200, "ListEnvironment"
    )
    [environment] = environments["environments"]
    versions = cli.call("GET", FLEX_API, f"/v1/PluginService/Plugins/{NAME}/Versions", 200)["plugin_versions"]
    assert [v["plugin_url"] for v in versions] == [second_url, first_url]

    # archive:plugin removes the plugin's environment, and with it what its domain serves.
    cli.call("DELETE", SERVERLESS, f"/v1/Services/{service_sid}/Environments/{environment['sid']}", 204)
    assert_error(cli.get_url(second_url, credentials), 404, 20404)


def test_the_deploy_sequence(http: httpx.Client, account: Credentials) -> None:
    deploy_twice_and_archive(Cli(http), account)


def test_the_deploy_sequence_through_the_vendor_proxy(database_url: str, tmp_path: Path) -> None:
    """The same calls through the real vendor proxy (`serve --vendor-proxy`), TLS checked with its CA."""
    sid, token = "AC" + "7d" * 16, "vendor-apis-test-token-0123456789abcdef"
    address = f"127.0.0.1:{free_port()}"
    proc = serve(
        database_url,
        tmp_path,
        vendor_proxy=address,
        env={"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token},
    )
    try:
        ca = tmp_path / "data" / "vendor-ca.pem"
        verify = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(proxy=f"http://{address}", verify=verify, auth=(sid, token), timeout=30) as client:
            deploy_twice_and_archive(Cli(client, via_proxy=True), Credentials(sid, token))
    finally:
        proc.stop()
