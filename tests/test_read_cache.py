"""The read cache (api/cache.py) never serves a response older than the last committed write.

Two servers share one database, each with its own cache. Every read is first made on the second
server (so its cache holds it), then something changes through the first, and the very next read
on the second must show the change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Credentials, LiveServer, start_server

API = "/v1/PluginService"


@pytest.fixture
def elsewhere(server: LiveServer, account: Credentials) -> Iterator[httpx.Client]:
    """A client of a second server process on the same database."""
    other = start_server(server.settings)
    second = next(other)
    try:
        with httpx.Client(base_url=second.url, auth=(account.sid, account.token)) as client:
            yield client
    finally:
        with contextlib.suppress(StopIteration):
            next(other)


def test_every_write_shows_at_once_on_another_process(http: httpx.Client, elsewhere: httpx.Client) -> None:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "cached", "FriendlyName": "Before"}).json()
    path = f"{API}/Plugins/{plugin['sid']}"
    for _ in range(2):  # the second read is a cache hit
        assert elsewhere.get(path).json()["friendly_name"] == "Before"
        assert [p["friendly_name"] for p in elsewhere.get(f"{API}/Plugins").json()["plugins"]] == ["Before"]

    http.post(path, data={"FriendlyName": "After"})
    assert elsewhere.get(path).json()["friendly_name"] == "After"
    assert elsewhere.get(f"{API}/Plugins/cached").json()["friendly_name"] == "After"
    assert [p["friendly_name"] for p in elsewhere.get(f"{API}/Plugins").json()["plugins"]] == ["After"]

    versions = f"{path}/Versions"
    assert elsewhere.get(versions).json()["plugin_versions"] == []
    version = http.post(versions, data={"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/a.js"}).json()
    assert [v["sid"] for v in elsewhere.get(versions).json()["plugin_versions"]] == [version["sid"]]

    assert elsewhere.get(f"{API}/Releases/Active").status_code == 404
    entry = json.dumps({"plugin_version": version["sid"], "phase": 3})
    configuration = http.post(f"{API}/Configurations", data={"Name": "c", "Plugins": entry}).json()
    configured = f"{API}/Configurations/{configuration['sid']}/Plugins"
    assert elsewhere.get(configured).json()["plugins"][0]["plugin_version_archived"] is False
    release = http.post(f"{API}/Releases", data={"ConfigurationId": configuration["sid"]}).json()
    assert elsewhere.get(f"{API}/Releases/Active").json()["sid"] == release["sid"]
    assert [r["sid"] for r in elsewhere.get(f"{API}/Releases").json()["releases"]] == [release["sid"]]

    # A second configuration frees the first version for archiving (the active release uses it).
    other = http.post(versions, data={"Version": "1.0.1", "PluginUrl": "https://cdn.example.com/b.js"}).json()
    entry2 = json.dumps({"plugin_version": other["sid"]})
    second = http.post(f"{API}/Configurations", data={"Name": "c2", "Plugins": entry2}).json()
    http.post(f"{API}/Releases", data={"ConfigurationId": second["sid"]})
    assert http.post(f"{versions}/{version['sid']}/Archive").status_code == 200
    assert elsewhere.get(f"{versions}/1.0.0").json()["archived"] is True
    assert elsewhere.get(configured).json()["plugins"][0]["plugin_version_archived"] is True
    assert elsewhere.get(f"{API}/Configurations/{configuration['sid']}").json()["archived"] is False
    http.post(f"{API}/Configurations/{configuration['sid']}/Archive")
    assert elsewhere.get(f"{API}/Configurations/{configuration['sid']}").json()["archived"] is True


def test_cached_responses_keep_their_own_host_and_account(
    server: LiveServer, http: httpx.Client, other_account: Credentials
) -> None:
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "hosted"}).json()
    path = f"{API}/Plugins/{plugin['sid']}"
    assert http.get(path).json()["url"].startswith(server.url)
    renamed = http.get(path, headers={"Host": "plugins.example.com"}).json()
    assert renamed["url"] == f"http://plugins.example.com{path}"
    assert http.get(path).json()["url"].startswith(server.url)
    with httpx.Client(base_url=server.url, auth=(other_account.sid, other_account.token)) as stranger:
        assert stranger.get(path).status_code == 404
        assert stranger.get(f"{API}/Plugins").json()["plugins"] == []


def test_a_bundle_uploaded_after_its_release_completes_the_manifest_everywhere(
    server: LiveServer, http: httpx.Client, elsewhere: httpx.Client, account: Credentials
) -> None:
    """The manifest carries the integrity of bundles hosted here, even ones uploaded late."""
    source = b"console.log('late bundle');\n"
    url = f"{server.url}/flexplugins/v1/Bundles/{account.sid}/{hashlib.sha256(source).hexdigest()}.js"
    plugin = http.post(f"{API}/Plugins", data={"UniqueName": "late"}).json()
    version = http.post(
        f"{API}/Plugins/{plugin['sid']}/Versions", data={"Version": "1.0.0", "PluginUrl": url}
    ).json()
    entry = json.dumps({"plugin_version": version["sid"]})
    configuration = http.post(f"{API}/Configurations", data={"Name": "late", "Plugins": entry}).json()
    http.post(f"{API}/Releases", data={"ConfigurationId": configuration["sid"]})
    before = elsewhere.get("/flexplugins/v1/Runtime/Manifest")
    assert before.json()["plugins"][0]["integrity"] is None

    uploaded = http.post(
        "/flexplugins/v1/Bundles", content=source, headers={"Content-Type": "application/javascript"}
    ).json()
    after = elsewhere.get("/flexplugins/v1/Runtime/Manifest")
    assert after.json()["plugins"][0]["integrity"] == uploaded["integrity"]
    assert after.headers["etag"] != before.headers["etag"]


def test_the_cache_keeps_the_newest_counter_and_stays_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flexplugins.api import cache

    monkeypatch.setattr(cache, "MAX_BYTES", 1000)
    monkeypatch.setattr(cache, "MAX_BODY", 400)
    monkeypatch.setattr(cache, "PER_ACCOUNT", 3)
    monkeypatch.setattr(cache, "ACCOUNTS", 2)
    responses = cache.ResponseCache()
    responses.put("AC1", 5, "a", "five", 100)
    assert responses.get("AC1", 5, "a") == "five"
    assert responses.get("AC1", 6, "a") is None  # another counter value is another table
    responses.put("AC1", 4, "a", "four", 100)  # built before a write that is already cached past
    assert responses.get("AC1", 5, "a") == "five" and responses.get("AC1", 4, "a") is None
    responses.put("AC1", 6, "b", "six", 100)  # a newer counter retires the older table
    assert responses.get("AC1", 5, "a") is None and responses.get("AC1", 6, "b") == "six"
    responses.put("AC1", 6, "big", "x", 401)  # too large to keep
    assert responses.get("AC1", 6, "big") is None
    for key in ("c", "d", "e"):  # the fourth response of a table starts it afresh
        responses.put("AC1", 6, key, key, 100)
    assert responses.get("AC1", 6, "b") is None and responses.get("AC1", 6, "e") == "e"
    responses.put("AC2", 1, "a", "two", 300)
    responses.put("AC3", 1, "a", "three", 300)  # a third account clears everything
    assert responses.get("AC1", 6, "e") is None and responses.get("AC2", 1, "a") is None
    assert responses.get("AC3", 1, "a") == "three"
    responses.put("AC3", 1, "b", "b", 400)
    responses.put("AC3", 1, "c", "c", 400)  # 1,100 bytes would pass the budget: cleared first
    assert responses.get("AC3", 1, "a") is None and responses.get("AC3", 1, "c") == "c"
