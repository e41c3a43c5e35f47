"""Bad and hostile input to the vendor APIs: the vendor's error JSON, never a 500, nothing half-written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_error
from tests.vendor.conftest import FLEX_API, SERVERLESS, UPLOAD, VALIDATION, on, upload


@pytest.fixture
def service(http: httpx.Client) -> dict[str, Any]:
    created = http.post(
        "/v1/Services", data={"UniqueName": "default", "FriendlyName": "x"}, headers=on(SERVERLESS)
    )
    assert created.status_code == 201
    return created.json()  # type: ignore[no-any-return]


def counts(http: httpx.Client, service_sid: str) -> tuple[int, ...]:
    """How many of each resource the service has (to show a refused write left nothing behind)."""
    sizes = []
    for kind, key in (("Environments", "environments"), ("Assets", "assets"), ("Builds", "builds")):
        sizes.append(len(http.get(f"/v1/Services/{service_sid}/{kind}", headers=on(SERVERLESS)).json()[key]))
    return tuple(sizes)


def test_configuration_updates_are_checked(
    http: httpx.Client, account: Credentials, service: dict[str, Any], other_account: Credentials
) -> None:
    def post(**kwargs: Any) -> httpx.Response:
        headers = {**on(FLEX_API), **kwargs.pop("headers", {})}
        return http.post("/v1/Configuration", headers=headers, **kwargs)

    # The deploy script's own form body (lowercase names, repeated SIDs) and JSON both work.
    form = post(data={"account_sid": account.sid, "serverless_service_sids": [service["sid"]]})
    assert form.status_code == 200 and form.json()["serverless_service_sids"] == [service["sid"]]
    cleared = post(json={"serverless_service_sids": []})
    assert cleared.json()["serverless_service_sids"] == []
    pinned = post(json={"ui_version": "2.13.0"})
    assert pinned.json()["ui_version"] == "2.13.0" and pinned.json()["serverless_service_sids"] == []

    assert_error(post(json={"account_sid": other_account.sid}), 400, 20001)
    assert_error(post(json={"serverless_service_sids": ["ZS" + "0" * 32]}), 400, 20001)
    assert_error(post(json={"serverless_service_sids": ["not-a-sid"]}), 400, 20001)
    assert_error(post(json={"serverless_service_sids": [{"sid": 1}]}), 400, 20001)
    assert_error(post(json={"ui_version": 2}), 400, 20001)
    assert_error(post(json=["a list"]), 400, 20001)
    assert_error(post(content=b"{not json", headers={"Content-Type": "application/json"}), 400, 20001)
    assert_error(post(content=b"[" * 5000, headers={"Content-Type": "application/json"}), 400, 20001)
    assert_error(post(content=b"\xff\xfe", headers={"Content-Type": "application/json"}), 400, 20001)
    # Another account's service is unknown to this one.
    theirs = httpx.post(
        f"{str(http.base_url).rstrip('/')}/v1/Services",
        data={"UniqueName": "default", "FriendlyName": "x"},
        headers=on(SERVERLESS),
        auth=(other_account.sid, other_account.token),
    ).json()
    assert_error(post(json={"serverless_service_sids": [theirs["sid"]]}), 400, 20001)
    assert http.get("/v1/Configuration", headers=on(FLEX_API)).json()["ui_version"] == "2.13.0"


def test_bad_serverless_input(http: httpx.Client, service: dict[str, Any]) -> None:
    sid = service["sid"]
    S = on(SERVERLESS)
    assert_error(
        http.post("/v1/Services", data={"UniqueName": "default", "FriendlyName": "x"}, headers=S), 409, 20409
    )
    assert_error(http.post("/v1/Services", data={"FriendlyName": "x"}, headers=S), 400, 20001)
    assert_error(
        http.post("/v1/Services", data={"UniqueName": "a b", "FriendlyName": "x"}, headers=S), 400, 20001
    )
    assert_error(
        http.post(
            "/v1/Services", data={"UniqueName": "n", "FriendlyName": "x", "UiEditable": "maybe"}, headers=S
        ),
        400,
        20001,
    )
    assert_error(http.get("/v1/Services/%00", headers=S), 400, 20001)
    for bad in ("ZS123", "ZE" + "0" * 32, "ZS" + "0" * 32, "%2e%2e", "ZS" + "g" * 32, "x" * 5000):
        assert_error(http.get(f"/v1/Services/{bad}", headers=S), 404, 20404)
        assert_error(http.get(f"/v1/Services/{bad}/Environments", headers=S), 404, 20404)
    for suffix in ("-bad", "bad-", "under_score", "x" * 17, "dot.ted"):
        refused = http.post(
            f"/v1/Services/{sid}/Environments", data={"UniqueName": "e", "DomainSuffix": suffix}, headers=S
        )
        assert_error(refused, 400, 20001)
    env = http.post(
        f"/v1/Services/{sid}/Environments", data={"UniqueName": "e", "DomainSuffix": "abc"}, headers=S
    )
    assert env.status_code == 201
    assert_error(
        http.post(
            f"/v1/Services/{sid}/Environments", data={"UniqueName": "e", "DomainSuffix": "xyz"}, headers=S
        ),
        409,
        20409,
    )
    assert_error(
        http.post(
            f"/v1/Services/{sid}/Environments", data={"UniqueName": "f", "DomainSuffix": "ABC"}, headers=S
        ),
        409,
        20409,
    )
    for key in ("ZE123", "ZE" + "0" * 32, "ZB" + "0" * 32):
        assert_error(http.get(f"/v1/Services/{sid}/Environments/{key}", headers=S), 404, 20404)
        assert_error(http.delete(f"/v1/Services/{sid}/Environments/{key}", headers=S), 404, 20404)
        assert_error(http.get(f"/v1/Services/{sid}/Builds/{key}", headers=S), 404, 20404)
        assert_error(http.get(f"/v1/Services/{sid}/Assets/{key}", headers=S), 404, 20404)
    assert_error(http.post(f"/v1/Services/{sid}/Assets", data={}, headers=S), 400, 20001)
    before = counts(http, sid)
    builds = f"/v1/Services/{sid}/Builds"
    assert_error(http.post(builds, data={"AssetVersions": "ZN" + "0" * 32}, headers=S), 404, 20404)
    assert_error(http.post(builds, data={"AssetVersions": "not-a-sid"}, headers=S), 400, 20001)
    assert_error(http.post(builds, data={"FunctionVersions": "ZN" + "0" * 32}, headers=S), 404, 20404)
    assert_error(http.post(builds, data={"Dependencies": "{oops"}, headers=S), 400, 20001)
    assert_error(http.post(builds, data={"Dependencies": '[{"name": 1}]'}, headers=S), 400, 20001)
    assert_error(http.post(builds, data={"Dependencies": "[" * 5000}, headers=S), 400, 20001)
    assert_error(http.post(builds, data={"Runtime": "python3"}, headers=S), 400, 20001)
    deployments = f"/v1/Services/{sid}/Environments/{env.json()['sid']}/Deployments"
    assert_error(http.post(deployments, data={}, headers=S), 400, 20001)
    assert_error(http.post(deployments, data={"BuildSid": "ZB" + "0" * 32}, headers=S), 404, 20404)
    assert_error(http.post(deployments, data={"BuildSid": "nope"}, headers=S), 400, 20001)
    assert counts(http, sid) == before
    assert_error(http.get("/v1/Services", params={"PageSize": "0"}, headers=S), 400, 20001)
    assert_error(http.get("/v1/Services", params={"PageToken": "forged.token"}, headers=S), 400, 20001)
    assert_error(httpx.get(f"{str(http.base_url).rstrip('/')}/v1/Services", headers=S), 401, 20003)


def test_two_paths_alike_in_one_build_are_refused(http: httpx.Client, service: dict[str, Any]) -> None:
    sid = service["sid"]
    asset = http.post(f"/v1/Services/{sid}/Assets", data={"FriendlyName": "a"}, headers=on(SERVERLESS)).json()
    first = upload(http, sid, asset["sid"], "/same.js", b"1").json()["sid"]
    second = upload(http, sid, asset["sid"], "/same.js", b"2").json()["sid"]
    refused = http.post(
        f"/v1/Services/{sid}/Builds", data={"AssetVersions": [first, second]}, headers=on(SERVERLESS)
    )
    assert_error(refused, 400, 20001)


def test_hostile_uploads(server: LiveServer, http: httpx.Client, service: dict[str, Any]) -> None:
    sid = service["sid"]
    asset = http.post(
        f"/v1/Services/{sid}/Assets", data={"FriendlyName": "a"}, headers=on(SERVERLESS)
    ).json()["sid"]
    url = f"/v1/Services/{sid}/Assets/{asset}/Versions"
    U = on(UPLOAD)
    limit = server.settings.max_bundle_bytes
    # Too large, declared or streamed; the limit is the bundle store's.
    assert_error(upload(http, sid, asset, "/big.js", b"x" * (limit + 1)), 413, 20413)
    chunks = iter([b"--b\r\n", b"x" * (limit + 128 * 1024)])
    streamed = http.post(
        url, content=chunks, headers={**U, "Content-Type": "multipart/form-data; boundary=b"}
    )
    assert_error(streamed, 413, 20413)
    # Not multipart, a missing boundary, broken framing, a missing part, bad fields.
    assert_error(http.post(url, data={"Path": "/a.js", "Visibility": "Public"}, headers=U), 415, 20415)
    assert_error(
        http.post(url, content=b"x", headers={**U, "Content-Type": "multipart/form-data"}), 400, 20001
    )
    broken = b'--b\r\nContent-Disposition: form-data; name="Path"\r\n\r\n/a.js\r\n--b\r\nnonsense\r\n\r\n'
    response = http.post(
        url, content=broken, headers={**U, "Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400, response.text
    garbage = http.post(
        url, content=b"\x00" * 100, headers={**U, "Content-Type": "multipart/form-data; boundary=zz"}
    )
    assert garbage.status_code == 400, garbage.text
    no_content = http.post(url, files={"Path": (None, "/a.js"), "Visibility": (None, "Public")}, headers=U)
    assert_error(no_content, 400, 20001)
    assert_error(upload(http, sid, asset, "no-slash.js", b"1"), 400, 20001)
    assert_error(upload(http, sid, asset, "/a/../b.js", b"1"), 400, 20001)
    assert_error(upload(http, sid, asset, "/a.js", b"1", visibility="Secret"), 400, 20001)
    assert_error(upload(http, sid, "ZH" + "0" * 32, "/a.js", b"1"), 404, 20404)
    many = {f"f{i}": (None, "x") for i in range(100)}
    assert_error(http.post(url, files={**many, "Content": ("a.js", b"1")}, headers=U), 400, 20001)
    listed = http.get(url, headers=on(SERVERLESS)).json()["asset_versions"]
    assert listed == []


def test_another_accounts_resources_are_not_found(
    http: httpx.Client, service: dict[str, Any], other_account: Credentials
) -> None:
    sid = service["sid"]
    env = http.post(
        f"/v1/Services/{sid}/Environments", data={"UniqueName": "e"}, headers=on(SERVERLESS)
    ).json()
    asset = http.post(f"/v1/Services/{sid}/Assets", data={"FriendlyName": "a"}, headers=on(SERVERLESS)).json()
    version = upload(http, sid, asset["sid"], "/a.js", b"1").json()
    build = http.post(
        f"/v1/Services/{sid}/Builds", data={"AssetVersions": version["sid"]}, headers=on(SERVERLESS)
    ).json()
    with httpx.Client(base_url=str(http.base_url), auth=(other_account.sid, other_account.token)) as them:
        S = on(SERVERLESS)
        for path in (
            f"/v1/Services/{sid}",
            "/v1/Services/default",
            f"/v1/Services/{sid}/Environments/{env['sid']}",
            f"/v1/Services/{sid}/Assets/{asset['sid']}",
            f"/v1/Services/{sid}/Assets/{asset['sid']}/Versions/{version['sid']}",
            f"/v1/Services/{sid}/Builds/{build['sid']}",
            f"/v1/Services/{sid}/Environments/{env['sid']}/Deployments",
        ):
            assert_error(them.get(path, headers=S), 404, 20404)
        assert_error(them.delete(f"/v1/Services/{sid}/Environments/{env['sid']}", headers=S), 404, 20404)
        assert_error(them.post(f"/v1/Services/{sid}", data={"FriendlyName": "mine"}, headers=S), 404, 20404)
        assert_error(upload(them, sid, asset["sid"], "/b.js", b"2"), 404, 20404)
        # Their own service cannot take our versions into a build, nor deploy our build.
        theirs = them.post(
            "/v1/Services", data={"UniqueName": "default", "FriendlyName": "x"}, headers=S
        ).json()
        refused = them.post(
            f"/v1/Services/{theirs['sid']}/Builds", data={"AssetVersions": version["sid"]}, headers=S
        )
        assert_error(refused, 404, 20404)
        their_env = them.post(
            f"/v1/Services/{theirs['sid']}/Environments", data={"UniqueName": "e"}, headers=S
        ).json()
        deploy = them.post(
            f"/v1/Services/{theirs['sid']}/Environments/{their_env['sid']}/Deployments",
            data={"BuildSid": build["sid"]},
            headers=S,
        )
        assert_error(deploy, 404, 20404)
    assert http.get(f"/v1/Services/{sid}", headers=on(SERVERLESS)).json()["friendly_name"] == "x"


def test_plugin_validation(http: httpx.Client) -> None:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("plugin-hello/src/index.js", "export default 1;\n")
    url = "/v1/Plugin/Validate"
    V = on(VALIDATION)
    fields = {"flex_ui_version": (None, "2.17.1"), "plugin_name": (None, "plugin-hello")}
    report = http.post(url, files={**fields, "plugin_zip": ("p.zip", archive.getvalue())}, headers=V)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (
        body["api_compatibility"]
        == body["version_compatibility"]
        == body["dom_manipulation"]
        == body["errors"]
        == []
    )
    assert body["request_id"]
    assert_error(
        http.post(url, files={**fields, "plugin_zip": ("p.zip", b"not a zip")}, headers=V), 400, 20001
    )
    assert_error(http.post(url, files={"plugin_zip": ("p.zip", archive.getvalue())}, headers=V), 400, 20001)
    assert_error(http.post(url, files=fields, headers=V), 400, 20001)
    assert_error(http.post(url, data={"flex_ui_version": "2"}, headers=V), 415, 20415)
    assert_error(
        httpx.post(f"{str(http.base_url).rstrip('/')}/v1/Plugin/Validate", files=fields, headers=V),
        401,
        20003,
    )
    assert (
        http.post(
            "/flex-plugin-upload" + url, files={**fields, "plugin_zip": ("p.zip", archive.getvalue())}
        ).status_code
        == 200
    )
