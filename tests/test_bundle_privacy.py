"""Bundle privacy is decided by the bundle's identity (account + SHA-256), never by a string match.

The attack: a private version whose PluginUrl names a hosted bundle with a cache-buster, a
fragment, an encoding or another spelling of the same path left the bundle public; and a bundle
uploaded for a private version was public (and cached for a year) until the version existed.
"""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Credentials, LiveServer

BUNDLES = "/flexplugins/v1/Bundles"
API = "/v1/PluginService"
JS = {"Content-Type": "application/javascript"}


def spellings(url: str) -> list[str]:
    """Other ways to write the URL of one hosted bundle (each names the same bundle)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path
    head, _, name = path.rpartition("/")
    account = head.rpartition("/")[2]
    sha = name.removesuffix(".js")
    return [
        url + "?v=1",
        url + "#x",
        url + "?v=1&cache=2#frag",
        url + "?",
        origin + path.replace(f"/{sha}.js", f"%2F{sha}.js"),
        origin + path.replace(f"/{account}/", f"%2F{account}%2f"),
        origin + path.replace(".js", "%2Ejs"),
        origin + path.replace(account, "%41C" + account[2:]),
        origin.upper() + path,
        origin + path.replace(sha, sha.upper()),
        origin + path.replace(account, "AC" + account[2:].upper()),
        origin + path.replace("/flexplugins/v1/Bundles", "/FLEXPLUGINS/v1/bundles"),
        origin + "/" + path,
        origin + path.replace(f"/{sha}.js", f"//{sha}.js"),
        origin + path.replace("/v1/", "/v1//"),
        origin + path + ".",
        origin + path + "/",
        origin + path.replace("/v1/", "/v1/./"),
        origin + path.replace("/v1/", "/v1/x/../"),
        origin + path.replace("/v1/", "/v1/%2e/"),
        origin + path.replace("/v1/", "/v1/x/%2E%2E/"),
        "https://cdn.example.com/prefix" + path,
        parts.scheme + "://localhost.:" + str(parts.port) + path,
        origin + path.replace("/", "\\").replace("\\", "/", 1),
    ]


def request_spellings(url: str) -> list[str]:
    """Other ways to ask this server for the bundle (the server must refuse them all anonymously)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path
    sha = path.rpartition("/")[2].removesuffix(".js")
    return [
        url,
        url + "?v=1",
        url + "?v=1&x=%00",
        origin + path.replace(f"/{sha}.js", f"%2F{sha}.js"),
        origin + path.replace(".js", "%2Ejs"),
        origin + path.replace(sha, sha.upper()),
        origin + "/" + path,
        origin + path.replace(f"/{sha}.js", f"//{sha}.js"),
        origin + path + ".",
        origin + path + "/",
        origin + path.replace("/v1/", "/v1/%2e/"),
    ]


def refused_anonymously(target: str, why: str = "") -> None:
    # Raw paths as written: httpx must not normalise them away before they reach the server.
    parts = urlsplit(target)
    raw = parts.path + ("?" + parts.query if parts.query else "")
    origin = f"{parts.scheme}://{parts.netloc}"
    with httpx.Client(base_url=origin, follow_redirects=True, timeout=10) as anonymous:
        request = anonymous.build_request("GET", origin)
        request.url = request.url.copy_with(raw_path=raw.encode())
        response = anonymous.send(request)
    assert response.status_code in (401, 404), (target, why, response.status_code)
    assert "console.log" not in response.text, (target, why)


def _upload(http: httpx.Client, data: bytes, **params: str) -> dict[str, object]:
    response = http.post(BUNDLES, content=data, headers=JS, params=params)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def _private_version(http: httpx.Client, plugin_url: str) -> httpx.Response:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "p-" + uuid.uuid4().hex[:10]}).json()
    return http.post(
        f"{API}/Plugins/{plugin['sid']}/Versions",
        data={"Version": "1.0.0", "PluginUrl": plugin_url, "Private": "true"},
    )


def test_a_private_version_makes_its_bundle_private_for_every_spelling_of_its_url(
    server: LiveServer, account: Credentials, http: httpx.Client
) -> None:
    probe = _upload(http, b"console.log('probe');")
    for index, spelling in enumerate(spellings(str(probe["url"]))):
        data = f"console.log('secret {index}');".encode()
        bundle = _upload(http, data)
        url = str(bundle["url"])
        assert httpx.get(url).status_code == 200  # public until a private version names it
        written = spelling.replace(str(probe["sha256"]), str(bundle["sha256"])).replace(
            str(probe["sha256"]).upper(), str(bundle["sha256"]).upper()
        )
        created = _private_version(http, written)
        if created.status_code != 201:
            # Refusing the spelling as a PluginUrl is also safe; it must be the vendor's 400.
            assert created.status_code == 400, (written, created.text)
            continue
        for target in request_spellings(url):
            refused_anonymously(target, f"PluginUrl {written}")
        owner = http.get(url)
        assert owner.status_code == 200, written
        assert owner.content == data
        assert owner.headers["cache-control"].startswith("private")


def test_the_manifest_gives_integrity_for_any_spelling_of_a_hosted_bundle(
    server: LiveServer, account: Credentials, http: httpx.Client
) -> None:
    data = b"console.log('manifest spelling');"
    bundle = _upload(http, data)
    url = str(bundle["url"]) + "?v=3#top"
    created = _private_version(http, url)
    assert created.status_code == 201
    configuration = http.post(
        f"{API}/Configurations",
        data={"Name": "c", "Plugins": f'{{"plugin_version": "{created.json()["sid"]}"}}'},
    ).json()
    assert http.post(f"{API}/Releases", data={"ConfigurationId": configuration["sid"]}).status_code == 201
    manifest = http.get("/flexplugins/v1/Runtime/Manifest").json()
    assert manifest["plugins"][0]["integrity"] == bundle["integrity"]
    assert manifest["plugins"][0]["private"] is True
    refused_anonymously(str(bundle["url"]))


def test_an_upload_marked_private_is_private_from_the_start(
    server: LiveServer, account: Credentials, other_account: Credentials, http: httpx.Client
) -> None:
    data = b"console.log('private from the start');"
    bundle = _upload(http, data, Private="true")
    assert bundle["private"] is True
    url = str(bundle["url"])
    for target in request_spellings(url):
        refused_anonymously(target)
    with httpx.Client(auth=(other_account.sid, other_account.token)) as other:
        assert other.get(url).status_code == 404
    owner = http.get(url)
    assert owner.status_code == 200 and owner.content == data
    assert owner.headers["cache-control"] == "private, max-age=31536000, immutable"
    # Uploading the same bytes again without the flag does not make them public.
    again = http.post(BUNDLES, content=data, headers=JS)
    assert again.status_code == 200 and again.json()["private"] is True
    refused_anonymously(url)
    # A bad flag is the vendor's 400, and stores nothing.
    fresh = b"console.log('never stored');"
    refused = http.post(BUNDLES, content=fresh, headers=JS, params={"Private": "maybe"})
    assert refused.status_code == 400 and refused.json()["code"] == 20001
    missing = httpx.get(f"{server.url}{BUNDLES}/{account.sid}/{hashlib.sha256(fresh).hexdigest()}.js")
    assert missing.status_code == 404


def test_a_bundle_that_can_still_become_private_is_never_cached_as_immutable(
    server: LiveServer, http: httpx.Client
) -> None:
    data = b"console.log('public for now');"
    bundle = _upload(http, data)
    assert bundle["private"] is False
    public = httpx.get(str(bundle["url"]))
    assert public.status_code == 200
    assert "immutable" not in public.headers["cache-control"]
    assert public.headers["cache-control"] == "public, no-cache"
    # Revalidation is cheap (304, no body) and tells a cache at once when the bundle turned private.
    etag = public.headers["etag"]
    assert httpx.get(str(bundle["url"]), headers={"If-None-Match": etag}).status_code == 304
    assert _private_version(http, str(bundle["url"])).status_code == 201
    assert httpx.get(str(bundle["url"]), headers={"If-None-Match": etag}).status_code == 401


@pytest.mark.parametrize("flag", ["true", "True", " TRUE "])
def test_the_private_flag_is_read_like_the_apis_booleans(http: httpx.Client, flag: str) -> None:
    data = f"console.log('flag {flag.strip()} {uuid.uuid4().hex}');".encode()
    assert _upload(http, data, Private=flag)["private"] is True


def test_the_privacy_lookup_is_an_indexed_equality(server: LiveServer, account: Credentials) -> None:
    """Serving asks one primary-key lookup of the bundle and an index equality on the versions
    (plugin_versions.bundle_sha256), never a scan of the account's versions by URL."""
    from flexplugins.storage import bundles as store

    # The statement serving runs to locate a bundle and its privacy, with this account's values.
    statement = store._info.params(account=account.sid, sha256="0" * 64)
    dialect = server.db.read_engine.dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    assert " like " not in sql.lower()
    with server.db.read_engine.connect() as conn:
        if server.db.is_sqlite:
            plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX ix_plugin_versions_bundle (account_sid=? AND bundle_sha256=?)" in plan, plan
            assert "SCAN plugin_versions" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # what an index can answer, it then does
            try:
                plan = " | ".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql))
            finally:
                conn.exec_driver_sql("RESET enable_seqscan")
            assert "ix_plugin_versions_bundle" in plan, plan
            assert "Seq Scan on plugin_versions" not in plan, plan
