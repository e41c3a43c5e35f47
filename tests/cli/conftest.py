"""Run the real `flexplugins` command line against the real test server, over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from flexplugins.cli.main import main
from tests.conftest import Credentials, LiveServer

CREDENTIAL_VARS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET")


@dataclass
class Cli:
    """The CLI in-process (Click's runner: the real command, the real HTTP) with an isolated environment."""

    url: str
    config_home: Path
    env: dict[str, str | None] = field(default_factory=dict)

    def environment(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
        env: dict[str, str | None] = {name: None for name in CREDENTIAL_VARS}
        env.update(
            FLEXPLUGINS_URL=self.url,
            FLEXPLUGINS_PROFILE=None,
            XDG_CONFIG_HOME=str(self.config_home),
            COLUMNS="200",
        )
        env.update(self.env)
        env.update(extra or {})
        return env

    def run(
        self, *args: str, env: Mapping[str, str | None] | None = None, input: str | None = None
    ) -> Result:
        return CliRunner().invoke(main, list(args), env=self.environment(env), input=input)

    def ok(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        result = self.run(*args, env=env)
        assert result.exit_code == 0, f"{args}: {result.stderr}{result.stdout}"
        return result

    def json(self, *args: str, env: Mapping[str, str | None] | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", env=env).stdout)

    def fails(self, *args: str, fragment: str = "", env: Mapping[str, str | None] | None = None) -> str:
        """Run a command that must fail: exit 1 and one clear line on stderr, no traceback."""
        result = self.run(*args, env=env)
        assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.stdout}{result.stderr}"
        assert isinstance(result.exception, SystemExit), result.exception
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        assert "Traceback" not in result.output
        assert fragment.lower() in lines[0].lower(), lines[0]
        return lines[0]

    def subprocess(
        self, *args: str, env: Mapping[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The installed command as its own process, for what only a real process shows."""
        merged = {**os.environ}
        for key, value in self.environment(env).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        command = [sys.executable, "-m", "flexplugins.cli.main", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=merged)


@pytest.fixture
def cli(server: LiveServer, account: Credentials, tmp_path: Path) -> Cli:
    env: dict[str, str | None] = {"TWILIO_ACCOUNT_SID": account.sid, "TWILIO_AUTH_TOKEN": account.token}
    return Cli(server.url, tmp_path / "config", env)


def write_bundle(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path
