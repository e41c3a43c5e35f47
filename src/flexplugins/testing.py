"""A pytest plugin: a throw-away flexplugins server for other projects' test suites.

Registered with the `pytest11` entry point, so installing flexplugins is enough:

    def test_my_pipeline(flexplugins_server):
        client = flexplugins_server.twilio_client()
        client.flex_api.v1.plugins.create(unique_name="plugin-hello")
        assert [p.unique_name for p in client.flex_api.v1.plugins.list()] == ["plugin-hello"]

`flexplugins_server` (session scope) runs `flexplugins serve --ephemeral --port 0` in its own
process: a fresh database, removed when the session ends. This module imports nothing of the server,
so loading the plugin costs a test run nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 60.0


@dataclass
class FlexPluginsServer:
    """A running throw-away server: where it is and the credentials of its account."""

    url: str
    account_sid: str
    auth_token: str
    process: subprocess.Popen[str] = field(repr=False)

    def twilio_client(self) -> Any:
        """A `twilio.rest.Client` of this account, its Flex and Serverless APIs pointed at this server."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token)
        client.flex_api.base_url = self.url
        client.serverless.base_url = self.url + "/serverless"
        return client

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _command() -> list[str]:
    installed = shutil.which("flexplugins", path=str(Path(sys.executable).parent))
    if installed:
        return [installed]
    return [sys.executable, "-m", "flexplugins.cli.main"]


def start(*, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT) -> FlexPluginsServer:
    """Start a throw-away server and wait for its ready line; raises RuntimeError if it does not come."""
    environment = dict(os.environ)
    # Its own account unless the caller chose one; the caller's FLEXPLUGINS_* do not leak in.
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "FLEXPLUGINS_DATABASE_URL",
        "FLEXPLUGINS_DATA_DIR",
    ):
        environment.pop(name, None)
    environment.update(env or {})
    process = subprocess.Popen(
        [*_command(), "serve", "--ephemeral", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0].strip():
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise RuntimeError(f"flexplugins serve --ephemeral did not start: {errors[-2000:]}")
    ready = json.loads(lines[0])
    # Keep draining stderr so the server never blocks on a full pipe.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return FlexPluginsServer(ready["url"], ready["account_sid"], ready["auth_token"], process)


@pytest.fixture(scope="session")
def flexplugins_server() -> Iterator[FlexPluginsServer]:
    """A flexplugins server on a fresh database for the whole test session."""
    server = start()
    try:
        yield server
    finally:
        server.stop()
