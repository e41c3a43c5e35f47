"""The bundle store over plain HTTP: upload, content addressing, serving, caching, privacy and limits."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from flexplugins.service import bundles
from tests.conftest import Credentials, LiveServer, start_server

BUNDLES = "/flexplugins/v1/Bundles"
JS = {"Content-Type": "application/javascript"}
SOURCE = b"(function(){ console.log('hello \xe2\x9c\x93'); })();\n"


def upload(http: httpx.Client, data: bytes, content_type: str = "application/javascript") -> httpx.Response:
    return http.post(BUNDLES, content=data, headers={"Content-Type": content_type})


def assert_error(response: httpx.Response, status: int, code: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert fragment in body["message"]
    assert body["more_info"].endswith(str(code))


def test_upload_answers_url_size_and_integrity(
    server: LiveServer, account: Credentials, http: httpx.Client
) -> None:
    response = upload(http, SOURCE)
    assert response.status_code == 201, response.text
    body = response.json()
    sha256 = hashlib.sha256(SOURCE).hexdigest()
    assert body["sha256"] == sha256
    assert body["size"] == len(SOURCE)
    assert body["content_type"] == "application/javascript"
    assert body["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(SOURCE).digest()).decode()
    assert body["url"] == f"{server.url}{BUNDLES}/{account.sid}/{sha256}.js"

    again = upload(http, SOURCE, "text/javascript; charset=utf-8")
    assert again.status_code == 200
    assert again.json()["url"] == body["url"]
    assert again.json()["content_type"] == "application/javascript"  # the first upload's


def test_bundle_url_serves_exact_bytes_with_caching_headers(http: httpx.Client) -> None:
    url = upload(http, SOURCE).json()["url"]
    anonymous = httpx.get(url)
    assert anonymous.status_code == 200
    assert anonymous.content == SOURCE
    assert anonymous.headers["content-type"] == "application/javascript; charset=utf-8"
    etag = anonymous.headers["etag"]
    assert etag == f'"{hashlib.sha256(SOURCE).hexdigest()}"'
    # Public for now, but a private version may still claim it: kept by caches, asked again each use.
    assert anonymous.headers["cache-control"] == "public, no-cache"
    assert int(anonymous.headers["content-length"]) == len(SOURCE)
    assert anonymous.headers["access-control-allow-origin"] == "*"

    cached = httpx.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    assert httpx.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert httpx.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    head = httpx.head(url)
    assert head.status_code == 200 and head.headers["etag"] == etag
    assert head.content == b"" and int(head.headers["content-length"]) == len(SOURCE)
    preflight = httpx.options(url)
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


def test_unknown_bundle_is_404(server: LiveServer, account: Credentials) -> None:
    missing = httpx.get(f"{server.url}{BUNDLES}/{account.sid}/{'0' * 64}.js")
    assert_error(missing, 404, 20404, "was not found")
    malformed = httpx.get(f"{server.url}{BUNDLES}/{account.sid}/not-a-digest.js")
    assert_error(malformed, 404, 20404, "was not found")


def test_private_version_bundle_needs_its_accounts_credentials(
    server: LiveServer, account: Credentials, other_account: Credentials, http: httpx.Client
) -> None:
    data = b"export default 'private plugin';\n"
    public_data = b"export default 'public plugin';\n"
    url = upload(http, data).json()["url"]
    public_url = upload(http, public_data).json()["url"]
    plugin = http.post("/v1/PluginService/Plugins", data={"UniqueName": "secret-plugin"}).json()["sid"]
    # The version may name the bundle on another host (a proxy): the path is what counts.
    proxied = "https://plugins.example.com" + url.removeprefix(server.url)
    for version, plugin_url, private in (("1.0.0", proxied, "true"), ("1.0.1", public_url, "false")):
        created = http.post(
            f"/v1/PluginService/Plugins/{plugin}/Versions",
            data={"Version": version, "PluginUrl": plugin_url, "Private": private},
        )
        assert created.status_code == 201, created.text

    assert_error(httpx.get(url), 401, 20003, "Authentication")
    assert_error(httpx.get(url, auth=(other_account.sid, other_account.token)), 404, 20404, "not found")
    mine = httpx.get(url, auth=(account.sid, account.token))
    assert mine.status_code == 200 and mine.content == data
    assert mine.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert httpx.get(public_url).content == public_data


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "fragment"),
    [
        (b"", "application/javascript", 400, 20001, "empty"),
        (b"  \n", "application/javascript", 400, 20001, "empty"),
        (b"var a = 1;\x00\x01", "application/javascript", 400, 20001, "NUL"),
        (b"var a = '\xff\xfe';", "application/javascript", 400, 20001, "UTF-8"),
        (b"var a = 1;", "application/octet-stream", 415, 20415, "application/javascript"),
        (b"var a = 1;", "application/x-www-form-urlencoded", 415, 20415, "application/javascript"),
    ],
)
def test_upload_refuses_what_is_not_javascript(
    http: httpx.Client, data: bytes, content_type: str, status: int, code: int, fragment: str
) -> None:
    assert_error(upload(http, data, content_type), status, code, fragment)


def test_upload_needs_credentials(server: LiveServer) -> None:
    response = httpx.post(server.url + BUNDLES, content=SOURCE, headers=JS)
    assert_error(response, 401, 20003, "Authentication")
    wrong = httpx.post(server.url + BUNDLES, content=SOURCE, headers=JS, auth=("AC" + "0" * 32, "nope"))
    assert_error(wrong, 401, 20003, "Authentication")


@pytest.fixture(scope="module")
def small_server(server: LiveServer) -> Iterator[LiveServer]:
    """A second server process on the same database, with a 1 KiB bundle limit."""
    yield from start_server(replace(server.settings, max_bundle_bytes=1024))


def test_bundle_larger_than_the_limit_is_413(
    small_server: LiveServer, server: LiveServer, account: Credentials
) -> None:
    with httpx.Client(base_url=small_server.url, auth=(account.sid, account.token)) as client:
        fits = b"//" + b"a" * 1022
        assert upload(client, fits).status_code == 201
        refused = upload(client, fits + b"a")
        assert_error(refused, 413, 20413, "1024 bytes")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            for _ in range(4):
                yield b"a" * 512

        streamed = client.post(BUNDLES, content=chunks(), headers=JS)
        assert_error(streamed, 413, 20413, "1024 bytes")
        # Stored in the database: the other server process serves what this one took.
        url = upload(client, fits).json()["url"].replace(small_server.url, server.url)
        assert httpx.get(url).content == fits


def test_integrity_for_url_knows_only_bundles_hosted_here(
    server: LiveServer, account: Credentials, other_account: Credentials, http: httpx.Client
) -> None:
    body = upload(http, SOURCE).json()
    elsewhere = "https://cdn.example.com" + body["url"].removeprefix(server.url)
    assert bundles.integrity_for_url(server.db, account.sid, body["url"]) == body["integrity"]
    assert bundles.integrity_for_url(server.db, account.sid, elsewhere) == body["integrity"]
    assert bundles.integrity_for_url(server.db, other_account.sid, body["url"]) is None
    assert bundles.integrity_for_url(server.db, account.sid, "https://cdn.example.com/x.js") is None
    unknown = body["url"].replace(body["sha256"], "f" * 64)
    found = bundles.integrities_for_urls(server.db, account.sid, [body["url"], unknown, "not a url"])
    assert found == {body["url"]: body["integrity"]}
    # Several at once (the runtime manifest asks for all of a release's in one query).
    many = [upload(http, f"var n = {n};".encode()).json() for n in range(5)]
    urls = [item["url"] for item in many] + [unknown]
    assert bundles.integrities_for_urls(server.db, account.sid, urls) == {
        item["url"]: item["integrity"] for item in many
    }
