"""The Python client on its own: typed results, paging through next_page_url, one error type."""

from __future__ import annotations

import pytest

from flexplugins.client import Client, FlexPluginsError, Plugin, PluginRef
from tests.conftest import Credentials, LiveServer, free_port


def test_typed_results_and_paging(server: LiveServer, account: Credentials) -> None:
    seen: list[tuple[int, int]] = []
    with Client(server.url, account.sid, account.token, page_size=2) as client:
        for n in range(5):
            client.create_plugin(f"paged-{n}", friendly_name=f"Paged {n}")
        plugins = client.list_plugins()  # three pages of two
        assert [p.unique_name for p in plugins] == [f"paged-{n}" for n in range(4, -1, -1)]
        assert all(isinstance(p, Plugin) for p in plugins)
        assert plugins[0].date_created is not None and plugins[0].raw["unique_name"] == "paged-4"

        bundle = client.upload_bundle(
            b"console.log(1);", progress=lambda sent, total: seen.append((sent, total))
        )
        assert seen[-1] == (15, 15)
        version = client.create_version("paged-0", "1.0.0", bundle.url, changelog="c", private=True)
        assert version.private and client.fetch_version("paged-0", "1.0.0").sid == version.sid
        assert client.fetch_bundle(bundle.url) == b"console.log(1);"
        # The same server's URL, spelled otherwise, still gets the credentials a private bundle needs.
        named = server.url.replace("127.0.0.1", "LocalHost")
        with Client(named, account.sid, account.token) as by_name:
            respelled = by_name.upload_bundle(b"console.log(1);").url  # as the server wrote it
            assert respelled.startswith("http://localhost:")
            assert by_name.fetch_bundle(respelled + "?v=1") == b"console.log(1);"
        # Another host (here the same server under another name) gets no credentials.
        elsewhere = bundle.url.replace("127.0.0.1", "localhost")
        with pytest.raises(FlexPluginsError) as refused:
            client.fetch_bundle(elsewhere)
        assert refused.value.status == 401
        configuration = client.create_configuration("cfg", [PluginRef(version.sid, 3)])
        assert client.list_configured_plugins(configuration.sid)[0].phase == 3
        release = client.create_release(configuration.sid)
        assert client.active_release() == release
        events = list(client.iter_audit_events(release.sid))
        assert [event.action for event in events] == ["release.create"]
        assert events[0].flex_metadata is not None and events[0].flex_metadata.startswith(
            "flexplugins-client/"
        )


def test_one_error_type(server: LiveServer, account: Credentials) -> None:
    with Client(server.url, account.sid, account.token) as client:
        with pytest.raises(FlexPluginsError) as missing:
            client.fetch_plugin("no-such-plugin")
        assert (missing.value.code, missing.value.status) == (20404, 404)
        assert "no-such-plugin" in missing.value.message
        assert client.find_plugin("no-such-plugin") is None
        client.create_plugin("twice")
        with pytest.raises(FlexPluginsError) as duplicate:
            client.create_plugin("twice")
        assert (duplicate.value.code, duplicate.value.status) == (20409, 409)
        assert str(duplicate.value).endswith("(error 20409, HTTP 409)")
    with Client(server.url, account.sid, "wrong-token") as client, pytest.raises(FlexPluginsError) as refused:
        client.verify()
    assert (refused.value.code, refused.value.status) == (20003, 401)
    down_url = f"http://127.0.0.1:{free_port()}"
    with Client(down_url, account.sid, account.token) as client, pytest.raises(FlexPluginsError) as down:
        client.list_releases()
    assert down.value.status == 0 and down.value.code is None
    assert "Cannot reach the server" in down.value.message
