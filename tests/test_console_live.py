"""The console shows what is live: the live version of each plugin, the actions the server would
refuse shown disabled with the reason, and each release's change on the timeline, in words.

Over a real server and plain HTTP, on both databases; the pages are read as HTML text. The browser
test (tests/browser/test_console.py) checks the same in Chromium.
"""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from flexplugins.api import console
from tests.conftest import Credentials, LiveServer
from tests.test_console_paging import signed_in

API = "/v1/PluginService"
REFUSED = "is part of the active release and cannot be archived"


def _plugin(http: httpx.Client, name: str, **extra: str) -> str:
    made = http.post(f"{API}/Plugins", data={"UniqueName": name, **extra})
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _version(http: httpx.Client, plugin: str, version: str, changelog: str | None = None) -> str:
    data = {"Version": version, "PluginUrl": f"https://cdn.example.com/{plugin}/{version}.js"}
    if changelog is not None:
        data["Changelog"] = changelog
    made = http.post(f"{API}/Plugins/{plugin}/Versions", data=data)
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _configuration(http: httpx.Client, name: str, *versions: tuple[str, int]) -> str:
    plugins = [json.dumps({"plugin_version": sid, "phase": phase}) for sid, phase in versions]
    made = http.post(f"{API}/Configurations", data={"Name": name, "Plugins": plugins})
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _release(http: httpx.Client, configuration: str, **headers: str) -> str:
    made = http.post(f"{API}/Releases", data={"ConfigurationId": configuration}, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _row(page: str, sid: str) -> str:
    """The table row (or timeline entry) of this SID, as HTML."""
    found = re.search(rf'<(tr|li)[^>]*data-sid="{sid}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, (sid, page)
    return found.group(2)


def _text(fragment: str) -> str:
    """What a person reads: the fragment without tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _change(page: str, release: str) -> str:
    found = re.search(r'<p class="change">(.*?)</p>', _row(page, release), re.S)
    assert found, release
    return _text(found.group(1))


def _get(browser: httpx.Client, path: str) -> str:
    page = browser.get(path)
    assert page.status_code == 200, (path, page.status_code, page.text[:500])
    return page.text


def _csrf(browser: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', _get(browser, "/console/plugins"))
    assert found
    return found.group(1)


def test_plugins_show_their_live_version_and_refused_archives_are_disabled_with_the_reason(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    crm = _plugin(http, "crm-panel")
    crm_old, crm_new = _version(http, crm, "1.0.0"), _version(http, crm, "1.1.0")
    theme = _plugin(http, "theme")
    theme_v = _version(http, theme, "2.0.0")
    spare = _plugin(http, "spare")
    spare_v = _version(http, spare, "0.1.0")
    gone = _plugin(http, "gone")
    assert http.post(f"{API}/Plugins/{gone}/Archive").status_code == 200
    _release(http, _configuration(http, "live", (crm_new, 1), (theme_v, 2)))

    with signed_in(server, account) as browser:
        page = _get(browser, "/console/plugins")
        assert "<th>Live</th>" in page
        rows = {sid: _row(page, sid) for sid in (crm, theme, spare, gone)}
        assert "1.1.0" in _text(rows[crm]) and "1.0.0" not in _text(rows[crm])
        assert "2.0.0" in _text(rows[theme])
        assert "not live" in _text(rows[spare]) and "not live" in _text(rows[gone])
        # Live plugins: no link to the archive action, a disabled button and the rule's own words.
        for sid, name in ((crm, "crm-panel"), (theme, "theme")):
            assert f"/console/actions/archive-plugin/{sid}" not in rows[sid]
            assert re.search(r"<button[^>]*disabled[^>]*>Archive…</button>", rows[sid])
            assert f"Plugin {name} ({sid}) {REFUSED}" in _text(rows[sid])
        assert f'href="/console/actions/archive-plugin/{spare}"' in rows[spare]
        assert "disabled" not in rows[spare]
        assert "Already archived" in _text(rows[gone]) and "/console/actions/" not in rows[gone]

        # The plugin page marks the live version; only that one's archive is refused.
        versions = _get(browser, f"/console/plugins/{crm}")
        assert "Live: version 1.1.0" in _text(versions)
        live_row, old_row = _row(versions, crm_new), _row(versions, crm_old)
        assert "live" in _text(live_row).split() and "live" not in _text(old_row).split()
        assert f"Plugin version 1.1.0 ({crm_new}) {REFUSED}" in _text(live_row)
        assert f"/console/actions/archive-version/{crm_new}" not in live_row
        assert f'href="/console/actions/archive-version/{crm_old}?plugin={crm}"' in old_row
        assert "Not live" in _text(_get(browser, f"/console/plugins/{spare}"))

        # A crafted POST is refused all the same, by the server's own check.
        token = _csrf(browser)
        for path in (f"archive-plugin/{crm}", f"archive-version/{crm_new}"):
            refused = browser.post(f"/console/actions/{path}", data={"csrf": token, "plugin": crm})
            assert refused.status_code == 409, refused.text
            assert "20409" in refused.text and REFUSED in html.unescape(refused.text)
        assert http.get(f"{API}/Plugins/{crm}").json()["archived"] is False
        assert http.get(f"{API}/Plugins/{crm}/Versions/{crm_new}").json()["archived"] is False
        # What the page offers, the server does.
        done = browser.post(
            f"/console/actions/archive-version/{spare_v}", data={"csrf": token, "plugin": spare}
        )
        assert done.status_code == 303, done.text
        assert "Already archived" in _text(_row(_get(browser, f"/console/plugins/{spare}"), spare_v))


def test_the_timeline_says_what_each_release_changed_and_refused_rollbacks_are_disabled(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    crm = _plugin(http, "crm-panel")
    crm_1, crm_11 = _version(http, crm, "1.0.0"), _version(http, crm, "1.1.0")
    theme_v = _version(http, _plugin(http, "theme"), "2.0.0")
    widget_v = _version(http, _plugin(http, "old-widget"), "0.9.0")
    first = _configuration(http, "first", (crm_1, 1), (widget_v, 2))
    second = _configuration(http, "second", (crm_11, 1), (theme_v, 2))
    r1 = _release(http, first)
    r2 = _release(http, second)
    r3 = _release(http, first)  # the rollback
    r4 = _release(http, first)  # the same configuration again
    empty = _release(http, _configuration(http, "nothing"))
    # second is no longer live: its theme version can be archived, and then it cannot be released.
    assert http.post(f"{API}/Plugins/theme/Versions/{theme_v}/Archive").status_code == 200

    with signed_in(server, account) as browser:
        page = _get(browser, "/console/releases")
        change = {sid: _change(page, sid) for sid in (r1, r2, r3, r4, empty)}
        assert change[r1] == "crm-panel 1.0.0 added, old-widget 0.9.0 added"
        assert change[r2] == "crm-panel 1.0.0 → 1.1.0, theme 2.0.0 added, old-widget removed"
        assert change[r3] == "crm-panel 1.1.0 → 1.0.0, old-widget 0.9.0 added, theme removed"
        assert change[r4] == "no change to the plugins"
        assert change[empty] == "crm-panel removed, old-widget removed"
        # Each entry names its configuration.
        assert "configuration second" in _text(_row(page, r2))

        # Rolling back to r2 would release a configuration holding an archived version: refused.
        r2_row = _row(page, r2)
        assert f"/console/actions/rollback/{r2}" not in r2_row
        assert "holds plugin version theme@2.0.0, which is archived; it cannot be released" in _text(r2_row)
        assert f'href="/console/actions/rollback/{r1}"' in _row(page, r1)
        token = _csrf(browser)
        refused = browser.post(f"/console/actions/rollback/{r2}", data={"csrf": token})
        assert refused.status_code == 400 and "which is archived" in html.unescape(refused.text)
        assert http.get(f"{API}/Releases/Active").json()["sid"] == empty

        # The configurations page and the configuration's own page say the same.
        listed = _row(_get(browser, "/console/configurations"), second)
        assert f"/console/actions/release/{second}" not in listed and "which is archived" in _text(listed)
        own = _get(browser, f"/console/configurations/{second}")
        assert f"/console/actions/release/{second}" not in own and "which is archived" in _text(own)
        assert f'href="/console/actions/release/{first}"' in _get(browser, f"/console/configurations/{first}")


def test_user_text_renders_literally(server: LiveServer, http: httpx.Client, account: Credentials) -> None:
    hostile = "<b>x</b>[red]x[/red]&amp;"
    plugin = _plugin(http, "plain", FriendlyName=hostile, Description=hostile)
    version = _version(http, plugin, "1.0.0", changelog=hostile)
    configuration = _configuration(http, hostile, (version, 1))
    release = _release(http, configuration, **{"Flex-Metadata": hostile})
    escaped = html.escape(hostile, quote=False)
    with signed_in(server, account) as browser:
        pages = {
            "plugins": _get(browser, "/console/plugins"),
            "plugin": _get(browser, f"/console/plugins/{plugin}"),
            "configurations": _get(browser, "/console/configurations"),
            "configuration": _get(browser, f"/console/configurations/{configuration}"),
            "releases": _get(browser, "/console/releases"),
        }
        for name, page in pages.items():
            assert "<b>x</b>" not in page, name
            assert escaped in page, name
        timeline = _text(_row(pages["releases"], release))
        assert f"configuration {hostile}" in timeline and f"via {hostile}" in timeline
        assert "plain 1.0.0 added" in timeline


def test_a_change_in_words_names_versions_phases_and_order() -> None:
    from flexplugins.domain.release_changes import Slot, between, describe

    def slot(name: str, version: str, phase: int = 3) -> Slot:
        return Slot(name, f"FP-{name}", f"FV-{name}-{version}", version, phase)

    before = [slot("a", "1.0.0"), slot("b", "1.0.0"), slot("c", "1.0.0"), slot("d", "2.0.0")]
    after = [slot("e", "0.1.0", 0), slot("c", "1.0.0", 1), slot("a", "1.1.0", 5), slot("d", "2.0.0")]
    # Other versions first, then added, then moved, then removed; each in load order.
    assert (
        describe(between(before, after))
        == "a 1.0.0 → 1.1.0 (phase 3 → 5), e 0.1.0 added, c phase 3 → 1, b removed"
    )
    assert describe(between(after, after)) == "no change to the plugins"
    assert describe(between([], [])) == "no change to the plugins"
    assert describe(between([], before[:2])) == "a 1.0.0 added, b 1.0.0 added"


def test_the_change_of_the_last_entry_on_a_page_is_against_the_release_on_the_next_page(
    server: LiveServer, http: httpx.Client, account: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "PAGE_SIZE", 2)
    plugin = _plugin(http, "paged")
    releases = [
        _release(http, _configuration(http, f"c{n}", (_version(http, plugin, f"1.{n}.0"), 1)))
        for n in range(3)
    ]
    with signed_in(server, account) as browser:
        first = _get(browser, "/console/releases")
        assert _change(first, releases[2]) == "paged 1.1.0 → 1.2.0"
        assert _change(first, releases[1]) == "paged 1.0.0 → 1.1.0"
        older = re.search(r'href="([^"]+)" rel="next"', first)
        assert older
        assert _change(_get(browser, html.unescape(older.group(1))), releases[0]) == "paged 1.0.0 added"
