"""The console's lists page through everything: Newer/Older links over a real server, both backends.

Rows are created through the HTTP API; the page size (api/console.py PAGE_SIZE, read at each
request by the server running in this process) is made small so that a few dozen rows span pages.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from flexplugins.api import console
from tests.conftest import Credentials, LiveServer

API = "/v1/PluginService"
SIZE = 7
ROW_SID = re.compile(r'data-sid="([A-Z]{2}[0-9a-f]{32})"')


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "PAGE_SIZE", SIZE)


def _sign_in(server: LiveServer, who: Credentials) -> httpx.Client:
    browser = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    login = browser.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert token, login.text
    answer = browser.post(
        "/console/login", data={"csrf": token.group(1), "sid": who.sid, "secret": who.token}
    )
    assert answer.status_code == 303, answer.text
    return browser


@contextlib.contextmanager
def signed_in(server: LiveServer, who: Credentials) -> Iterator[httpx.Client]:
    with contextlib.closing(_sign_in(server, who)) as browser:
        yield browser


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def _get(browser: httpx.Client, url: str) -> str:
    page = browser.get(url)
    assert page.status_code == 200, (url, page.status_code, page.text[:500])
    return page.text


def walk(browser: httpx.Client, start: str) -> list[list[str]]:
    """Follow Older links from start to the end, then Newer links back; the pages, newest first."""
    pages, texts = [], []
    url: str | None = start
    while url is not None:
        assert len(pages) < 100, "the Older links do not end"
        text = _get(browser, url)
        pages.append(ROW_SID.findall(text))
        texts.append(text)
        url = _link(text, "next")
    assert _link(texts[0], "prev") is None and _link(texts[0], "first") is None
    for text in texts[1:]:
        assert _link(text, "first") == start.split("?")[0]
    # Back from the oldest page with the Newer links: the same pages, in reverse.
    back = [pages[-1]]
    url = _link(texts[-1], "prev")
    while url is not None:
        assert len(back) <= len(pages), "the Newer links do not end"
        text = _get(browser, url)
        back.append(ROW_SID.findall(text))
        url = _link(text, "prev")
    assert back == list(reversed(pages))
    return pages


def assert_pages_cover(pages: list[list[str]], newest_first: list[str]) -> None:
    assert all(len(page) == SIZE for page in pages[:-1]), [len(page) for page in pages]
    assert 1 <= len(pages[-1]) <= SIZE
    seen = [sid for page in pages for sid in page]
    assert seen == newest_first  # every item exactly once, newest first


def _plugin(http: httpx.Client, name: str) -> str:
    made = http.post(f"{API}/Plugins", data={"UniqueName": name})
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _version(http: httpx.Client, plugin: str, version: str) -> str:
    made = http.post(
        f"{API}/Plugins/{plugin}/Versions",
        data={"Version": version, "PluginUrl": f"https://cdn.example.com/{plugin}/{version}.js"},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _configuration(http: httpx.Client, name: str, version: str) -> str:
    plugins = [json.dumps({"plugin_version": version, "phase": 3})]
    made = http.post(f"{API}/Configurations", data={"Name": name, "Plugins": plugins})
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def _release(http: httpx.Client, configuration: str) -> str:
    made = http.post(f"{API}/Releases", data={"ConfigurationId": configuration})
    assert made.status_code == 201, made.text
    return str(made.json()["sid"])


def test_plugins_versions_and_configurations_page_through_everything(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    plugins = [_plugin(http, f"paged-{n:02d}") for n in range(3 * SIZE + 2)]
    versions = [_version(http, plugins[0], f"1.{n}.0") for n in range(2 * SIZE + 3)]
    configurations = [_configuration(http, f"c{n}", versions[n % 3]) for n in range(2 * SIZE)]
    with signed_in(server, account) as browser:
        assert_pages_cover(walk(browser, "/console/plugins"), plugins[::-1])
        assert_pages_cover(walk(browser, f"/console/plugins/{plugins[0]}"), versions[::-1])
        # Exactly two full pages: the second has no Older link.
        pages = walk(browser, "/console/configurations")
        assert len(pages) == 2
        assert_pages_cover(pages, configurations[::-1])
        # A plugin's versions page keeps the plugin in its links, even when reached by unique name.
        first = _get(browser, "/console/plugins/paged-00")
        assert (_link(first, "next") or "").startswith(f"/console/plugins/{plugins[0]}?after=")
        # A plugin with fewer versions than a page has no links at all.
        single = _get(browser, f"/console/plugins/{plugins[1]}")
        assert 'class="pager"' not in single and "No versions yet." in single


def test_release_timeline_pages_and_knows_the_active_release_on_every_page(
    server: LiveServer, http: httpx.Client, account: Credentials
) -> None:
    version = _version(http, _plugin(http, "timeline"), "1.0.0")
    configurations = [_configuration(http, f"c{n}", version) for n in range(3)]
    releases = [_release(http, configurations[n % 3]) for n in range(2 * SIZE + 4)]
    active = releases[-1]
    with signed_in(server, account) as browser:
        pages = walk(browser, "/console/releases")
        assert len(pages) == 3
        assert_pages_cover(pages, releases[::-1])

        # Page by page: the active release is marked (or named, when on another page), every
        # other release can be rolled back to, and each release's "Details" link compares it
        # with the release before it, across page boundaries too.
        url: str | None = "/console/releases"
        number = 0
        newest_first = releases[::-1]
        while url is not None:
            text = _get(browser, url)
            items = re.findall(r'<li class="release( is-active)?" data-sid="([^"]+)">(.*?)</li>', text, re.S)
            for marked, sid, body in items:
                assert bool(marked) == (sid == active)
                assert (f"/console/actions/rollback/{sid}" in body) == (sid != active)
                older = newest_first.index(sid) + 1
                if older < len(newest_first):
                    assert f"/console/diff?from={newest_first[older]}&amp;to={sid}" in body
                else:
                    assert "/console/diff" not in body
            if number == 0:
                assert items[0][0] and "Recent changes" in text and "active-release" not in text
            else:
                assert "Recent changes" not in text
                assert re.search(
                    rf'class="meta active-release">The active release is <code>{active}</code>', text
                )
            number += 1
            url = _link(text, "next")
        assert number == 3

        # Rolling back from page 2 works and makes a new release at the top.
        target = pages[1][0]
        confirm = _get(browser, f"/console/actions/rollback/{target}")
        token = re.search(r'name="csrf" value="([^"]+)"', confirm)
        assert token
        done = browser.post(f"/console/actions/rollback/{target}", data={"csrf": token.group(1)})
        assert done.status_code == 303, done.text
        newest = http.get(f"{API}/Releases/Active").json()
        assert newest["sid"] not in releases
        assert newest["configuration_sid"] == http.get(f"{API}/Releases/{target}").json()["configuration_sid"]
        assert ROW_SID.findall(_get(browser, "/console/releases"))[0] == newest["sid"]


BAD_QUERIES = [
    "after=abc",
    "before=abc",
    "after=",
    "before=-1",
    "after=-5",
    "after=1.5",
    "after=0x10",
    "after=1e3",
    "after=%2B12",
    "after=%201",
    "after=\uff11\uff12",  # full-width digits
    "after=\u0661",  # Arabic-Indic digit one
    "after=9223372036854775808",  # one beyond BIGINT
    "after=" + "9" * 40,
    "after=" + "1" * 5000,
    "after=1&before=2",
    "after=1&after=2",
    "before=3&before=3",
    "after=' OR 1=1 --",
    "after=%00",
]


@pytest.mark.parametrize(
    "path", ["/console/plugins", "/console/configurations", "/console/releases", "plugin"]
)
def test_a_forged_or_garbage_cursor_gets_the_error_page_with_400(
    server: LiveServer, http: httpx.Client, account: Credentials, path: str
) -> None:
    if path == "plugin":
        plugin = _plugin(http, "cursor-target")
        _version(http, plugin, "1.0.0")
        path = f"/console/plugins/{plugin}"
    with signed_in(server, account) as browser:
        for query in BAD_QUERIES:
            page = browser.get(f"{path}?{query}")
            assert page.status_code == 400, (path, query, page.status_code, page.text[:300])
            assert "vendor-error" in page.text and "20001" in page.text, (path, query)
            assert page.headers["cache-control"] == "no-store"
        # Well-formed positions are only positions: past either end there is simply nothing,
        # with a way back to the newest page; never a server error.
        for query in ("after=0", "before=0", "after=9223372036854775807", "before=9223372036854775807"):
            page = browser.get(f"{path}?{query}")
            assert page.status_code == 200, (path, query, page.status_code, page.text[:300])
            if not ROW_SID.findall(page.text):
                assert _link(page.text, "first") == path
    # Signed out, a cursor leads to the sign-in page like any other console URL.
    with httpx.Client(base_url=server.url, follow_redirects=False) as stranger:
        moved = stranger.get(f"{path}?after=abc")
        assert moved.status_code == 303 and moved.headers["location"].startswith("/console/login")


def test_a_cursor_from_one_account_shows_nothing_of_another(
    server: LiveServer, http: httpx.Client, account: Credentials, other_account: Credentials
) -> None:
    with httpx.Client(
        base_url=server.url, auth=(other_account.sid, other_account.token), timeout=30
    ) as other_http:
        # Interleaved, so that each account's keys fall between the other's.
        mine: list[str] = []
        theirs: list[str] = []
        for n in range(2 * SIZE + 1):
            mine.append(_plugin(http, f"mine-{n}"))
            theirs.append(_plugin(other_http, f"theirs-{n}"))
        my_version = _version(http, mine[0], "1.0.0")
        my_configuration = _configuration(http, "mine", my_version)
        my_release = _release(http, my_configuration)
        their_version = _version(other_http, theirs[0], "1.0.0")
        their_configuration = _configuration(other_http, "theirs", their_version)
        their_release = _release(other_http, their_configuration)
    mine_all = {*mine, my_version, my_configuration, my_release}
    theirs_all = {*theirs, their_version, their_configuration, their_release}

    with signed_in(server, account) as browser, signed_in(server, other_account) as other:
        assert_pages_cover(walk(browser, "/console/plugins"), mine[::-1])
        assert_pages_cover(walk(other, "/console/plugins"), theirs[::-1])
        # Every cursor the first account's pages hand out, used by the second account, shows
        # only the second account's rows (and the other way round).
        for me, them, own, foreign in (
            (browser, other, mine_all, theirs_all),
            (other, browser, theirs_all, mine_all),
        ):
            cursors: set[str] = set()
            for path in ("/console/plugins", "/console/configurations", "/console/releases"):
                url: str | None = path
                while url is not None:
                    text = _get(me, url)
                    assert not set(ROW_SID.findall(text)) & foreign
                    for rel in ("next", "prev"):
                        link = _link(text, rel)
                        if link:
                            cursors.add(link.split("?", 1)[1])
                    url = _link(text, "next")
            assert cursors
            for cursor in cursors:
                for path in ("/console/plugins", "/console/configurations", "/console/releases"):
                    text = _get(them, f"{path}?{cursor}")
                    shown = set(ROW_SID.findall(text))
                    assert shown <= foreign and not shown & own, (path, cursor)
                    assert not any(sid in text for sid in own), (path, cursor)
        # Another account's plugin is not found, cursor or not.
        for query in ("", "?after=1", "?before=9223372036854775807"):
            refused = other.get(f"/console/plugins/{mine[0]}{query}")
            assert refused.status_code == 404, (query, refused.status_code)
            assert mine[0] in refused.text  # named in the refusal only, nothing of its versions
            assert my_version not in refused.text
