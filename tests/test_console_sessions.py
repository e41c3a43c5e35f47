"""Console sessions end on every server process: signing out revokes that session (and no other)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Credentials, LiveServer
from tests.serving import ServeProcess, serve


@pytest.fixture
def second_process(server: LiveServer, tmp_path: Path) -> Iterator[ServeProcess]:
    """Another `flexplugins serve` process on the shared server's database."""
    proc = serve(server.settings.database_url, tmp_path)
    try:
        yield proc
    finally:
        proc.stop()


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _sign_in(url: str, who: Credentials) -> httpx.Client:
    browser = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    login = browser.get("/console/login")
    answer = browser.post("/console/login", data={"csrf": _csrf(login), "sid": who.sid, "secret": who.token})
    assert answer.status_code == 303, answer.text
    return browser


def _replay(url: str, cookie: str) -> httpx.Response:
    with httpx.Client(base_url=url, follow_redirects=False) as replayer:
        replayer.cookies.set("flexplugins_console", cookie)
        return replayer.get("/console/plugins")


def test_signing_out_ends_the_session_on_every_process(
    server: LiveServer, second_process: ServeProcess, account: Credentials
) -> None:
    here, there = server.url, second_process.url
    with (
        contextlib.closing(_sign_in(here, account)) as browser,
        contextlib.closing(_sign_in(there, account)) as other,
    ):
        cookie = browser.cookies["flexplugins_console"]
        assert _replay(here, cookie).status_code == 200 and _replay(there, cookie).status_code == 200
        out = browser.post("/console/logout", data={"csrf": _csrf(browser.get("/console/plugins"))})
        assert out.status_code == 303 and out.headers["location"].startswith("/console/login")
        # The old cookie, kept by an attacker or a stale tab, is refused by both processes at once.
        for url in (here, there):
            moved = _replay(url, cookie)
            assert moved.status_code == 303 and moved.headers["location"].startswith("/console/login")
        # Only that session ended: the same account signed in elsewhere is still in.
        assert other.get("/console/plugins").status_code == 200


def test_signing_out_needs_the_sessions_form_token(server: LiveServer, account: Credentials) -> None:
    with contextlib.closing(_sign_in(server.url, account)) as browser:
        refused = browser.post("/console/logout", data={"csrf": "forged"})
        assert refused.status_code == 400
        assert browser.get("/console/plugins").status_code == 200  # a cross-site form cannot sign you out
