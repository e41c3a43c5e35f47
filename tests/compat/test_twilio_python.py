"""The official `twilio` Python package drives every operation against the running server.

Every raw response the package receives is validated against the vendor's OpenAPI schema with all
documented properties required.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_valid_response


class RecordingHttpClient(TwilioHttpClient):
    """The package's own HTTP client, keeping every exchange for schema validation."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[str, str, int, Any, dict[str, Any]]] = []

    def request(
        self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        response = super().request(method, url, params=params, data=data, headers=headers, **kwargs)
        body = orjson.loads(response.text) if response.text else None
        self.exchanges.append((method, urlsplit(url).path, response.status_code, body, dict(headers or {})))
        return response


@pytest.fixture
def recorded(server: LiveServer, account: Credentials) -> tuple[Client, RecordingHttpClient]:
    http = RecordingHttpClient()
    client = Client(account.sid, account.token, http_client=http)
    client.flex_api.base_url = server.url
    return client, http


def test_every_operation_through_the_twilio_package(
    recorded: tuple[Client, RecordingHttpClient], account: Credentials, server: LiveServer
) -> None:
    client, http = recorded
    api = client.flex_api.v1

    # Plugins: create, fetch by SID and by unique name, update.
    created = api.plugins.create(
        unique_name="plugin-sample",
        friendly_name="Sample",
        description="first",
        flex_metadata='{"tool":"pytest"}',
    )
    assert created.sid.startswith("FP") and len(created.sid) == 34
    assert created.account_sid == account.sid
    assert created.unique_name == "plugin-sample" and created.archived is False
    assert created.url == f"{server.url}/v1/PluginService/Plugins/{created.sid}"
    assert created.links["plugin_versions"] == f"{created.url}/Versions"
    assert api.plugins(created.sid).fetch().unique_name == "plugin-sample"
    assert api.plugins("plugin-sample").fetch().sid == created.sid
    updated = api.plugins(created.sid).update(friendly_name="Sample 2", description="second")
    assert (updated.friendly_name, updated.description) == ("Sample 2", "second")
    assert api.plugins(created.sid).fetch().friendly_name == "Sample 2"

    # Versions: create five, fetch by SID and by version string, list across pages of 2.
    versions = []
    for n in range(5):
        versions.append(
            api.plugins(created.sid).plugin_versions.create(
                resource_version=f"1.{n}.0",
                plugin_url=f"https://cdn.example.com/sample/1.{n}.0/bundle.js",
                changelog=f"change {n}",
                private=(n == 4),
                cli_version="7.0.0",
                validate_status="validated",
            )
        )
    assert versions[0].sid.startswith("FV") and versions[0].plugin_sid == created.sid
    assert versions[4].private is True and versions[0].private is False and versions[0].validated is True
    assert api.plugins("plugin-sample").plugin_versions("1.2.0").fetch().sid == versions[2].sid
    assert api.plugins(created.sid).plugin_versions(versions[3].sid).fetch().version == "1.3.0"
    streamed = [v.version for v in api.plugins(created.sid).plugin_versions.stream(page_size=2)]
    assert streamed == ["1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]  # newest first, over three pages

    # More plugins so the plugin list spans pages too.
    others = [api.plugins.create(unique_name=f"plugin-{n}") for n in range(4)]
    listed = [p.unique_name for p in api.plugins.stream(page_size=2)]
    assert listed == ["plugin-3", "plugin-2", "plugin-1", "plugin-0", "plugin-sample"]
    other_version = api.plugins(others[0].sid).plugin_versions.create(
        resource_version="0.1.0", plugin_url="https://cdn.example.com/zero/0.1.0/bundle.js"
    )

    # Configurations: the package sends each plugin as JSON with spaces, phase optional.
    first = api.plugin_configurations.create(
        name="first",
        description="two plugins",
        plugins=[{"plugin_version": versions[1].sid, "phase": 3}, {"plugin_version": other_version.sid}],
    )
    assert first.sid.startswith("FJ") and first.archived is False
    assert first.links["plugins"] == f"{server.url}/v1/PluginService/Configurations/{first.sid}/Plugins"
    assert api.plugin_configurations(first.sid).fetch().name == "first"
    configured = api.plugin_configurations(first.sid).plugins.list()
    assert [(c.unique_name, c.version, c.phase) for c in configured] == [
        ("plugin-0", "0.1.0", 0),
        ("plugin-sample", "1.1.0", 3),
    ]
    one = api.plugin_configurations(first.sid).plugins(created.sid).fetch()
    assert (one.plugin_version_sid, one.plugin_url, one.private) == (
        versions[1].sid,
        versions[1].plugin_url,
        False,
    )
    assert api.plugin_configurations(first.sid).plugins("plugin-sample").fetch().version == "1.1.0"
    second = api.plugin_configurations.create(
        name="second", plugins=[{"plugin_version": versions[2].sid, "phase": 3}]
    )
    assert [c.name for c in api.plugin_configurations.stream(page_size=1)] == ["second", "first"]

    # Releases: release, Active, a second release, rollback as a new release of the first.
    with pytest.raises(TwilioRestException) as none_yet:
        api.plugin_releases("Active").fetch()
    assert (none_yet.value.status, none_yet.value.code) == (404, 20404)
    r1 = api.plugin_releases.create(configuration_id=first.sid)
    assert r1.sid.startswith("FK") and r1.configuration_sid == first.sid
    assert api.plugin_releases("Active").fetch().sid == r1.sid
    r2 = api.plugin_releases.create(configuration_id=second.sid)
    assert api.plugin_releases("Active").fetch().sid == r2.sid
    rollback = api.plugin_releases.create(configuration_id=first.sid)
    active = api.plugin_releases("Active").fetch()
    assert (active.sid, active.configuration_sid) == (rollback.sid, first.sid)
    assert api.plugin_releases(r2.sid).fetch().configuration_sid == second.sid
    assert [r.sid for r in api.plugin_releases.stream(page_size=2)] == [rollback.sid, r2.sid, r1.sid]

    # Archive: versions, plugins and configurations outside the active release; idempotent.
    archived_version = api.plugin_version_archive(created.sid, versions[0].sid).update()
    assert archived_version.archived is True
    assert api.plugin_version_archive(created.sid, versions[0].sid).update().archived is True
    assert api.plugins(created.sid).plugin_versions(versions[0].sid).fetch().archived is True
    archived_configuration = api.plugin_configuration_archive(second.sid).update()
    assert archived_configuration.archived is True
    assert api.plugin_configurations(second.sid).fetch().archived is True
    archived_plugin = api.plugin_archive(others[3].sid).update()
    assert archived_plugin.archived is True
    assert api.plugins(others[3].sid).fetch().archived is True
    # The active release holds plugin-sample@1.1.0: archiving it is refused.
    with pytest.raises(TwilioRestException) as refused:
        api.plugin_version_archive(created.sid, versions[1].sid).update()
    assert (refused.value.status, refused.value.code) == (409, 20409)

    # Every raw body the package received matches its schema; Flex-Metadata was sent as a header.
    operations = set()
    for method, path, status, body, _headers in http.exchanges:
        operations.add(assert_valid_response(method, path, status, body))
    assert len(operations) == 18, sorted(operations)
    assert any(h.get("Flex-Metadata") == '{"tool":"pytest"}' for *_, h in http.exchanges)


def test_api_key_credentials(server: LiveServer, account: Credentials) -> None:
    from flexplugins.service import accounts

    key = accounts.create_key(server.db, account.sid, "ci")
    client = Client(key.sid, key.secret, account.sid)
    client.flex_api.base_url = server.url
    plugin = client.flex_api.v1.plugins.create(unique_name="via-key")
    assert plugin.account_sid == account.sid
    events = server.db  # the write is attributed to the key in the audit trail
    from flexplugins.domain.model import Principal
    from flexplugins.service import audit

    page = audit.list_page(events, Principal(account.sid, account.sid), 10, None)
    assert [(e.action, e.credential_sid, e.resource_sid) for e in page.items] == [
        ("plugin.create", key.sid, plugin.sid)
    ]


def test_errors_become_twilio_rest_exceptions(twilio_client: Client) -> None:
    api = twilio_client.flex_api.v1
    with pytest.raises(TwilioRestException) as missing:
        api.plugins("no-such-plugin").fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    api.plugins.create(unique_name="dup")
    with pytest.raises(TwilioRestException) as duplicate:
        api.plugins.create(unique_name="dup")
    assert (duplicate.value.status, duplicate.value.code) == (409, 20409)
    with pytest.raises(TwilioRestException) as bad:
        api.plugins.create(unique_name="bad name with spaces")
    assert (bad.value.status, bad.value.code) == (400, 20001)
