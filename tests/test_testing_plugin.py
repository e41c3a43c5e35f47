"""The pytest plugin for other projects (`flexplugins.testing`, entry point pytest11), used as they would."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from flexplugins.testing import FlexPluginsServer, start


def _scratch_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("flexplugins-ephemeral-*"))


def test_fixture_serves_the_vendor_client(flexplugins_server: FlexPluginsServer) -> None:
    client = flexplugins_server.twilio_client()
    plugin = client.flex_api.v1.plugins.create(unique_name="from-the-fixture")
    assert plugin.account_sid == flexplugins_server.account_sid
    assert "from-the-fixture" in [p.unique_name for p in client.flex_api.v1.plugins.list()]
    service = client.serverless.v1.services.create(unique_name="from-the-fixture", friendly_name="f")
    assert [s.sid for s in client.serverless.v1.services.list()] == [service.sid]


def test_ephemeral_server_is_thrown_away() -> None:
    before = _scratch_dirs()
    server = start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert len(_scratch_dirs() - before) == 1, (
            "the ephemeral server keeps its database in one scratch folder"
        )
        auth = (server.account_sid, server.auth_token)
        assert httpx.get(server.url + "/v1/PluginService/Plugins", auth=auth).json()["plugins"] == []
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert _scratch_dirs() - before == set(), "the scratch database was left behind"


def test_ephemeral_server_takes_chosen_credentials() -> None:
    sid, token = "AC" + "e1" * 16, "ephemeral-token-0123456789abcdefghij"
    server = start(env={"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token})
    try:
        assert (server.account_sid, server.auth_token) == (sid, token)
        answer = httpx.get(server.url + "/v1/PluginService/Plugins", auth=(sid, token))
        assert answer.status_code == 200
    finally:
        server.stop()


def test_ephemeral_refuses_a_database_or_several_workers(tmp_path: Path) -> None:
    import subprocess

    from tests.serving import flexplugins_exe

    for extra in (
        ["--database", f"sqlite:///{tmp_path / 'x.db'}"],
        ["--data-dir", str(tmp_path)],
        ["--workers", "2"],
    ):
        done = subprocess.run(
            [flexplugins_exe(), "serve", "--ephemeral", "--port", "0", *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "--ephemeral" in done.stderr, (extra, done.stderr)
        assert done.stdout == ""


def test_readme_example_passes(tmp_path: Path) -> None:
    """The five-line test in README.md, run by pytest as a user's project would run it."""
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## In your own test suite", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    (tmp_path / "test_example.py").write_text(code.group(1))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_example.py")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
