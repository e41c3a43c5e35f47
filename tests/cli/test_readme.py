"""Done means 3: the README's command-line example, pasted into a shell, works against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import CREDENTIAL_VARS
from tests.conftest import Credentials, LiveServer

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> list[str]:
    section = README.read_text().split("## Command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the Command line section has no sh example"
    return block.group(1).splitlines()


def test_readme_example_runs(server: LiveServer, account: Credentials, tmp_path: Path) -> None:
    # The server is the test's own (so its start and the variables naming it are left out).
    lines = [
        line for line in readme_example() if not line.startswith(("export ", "flexplugins serve", "sleep "))
    ]
    assert sum(line.startswith("flexplugins ") for line in lines) >= 10
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update(
        TWILIO_ACCOUNT_SID=account.sid,
        TWILIO_AUTH_TOKEN=account.token,
        FLEXPLUGINS_URL=server.url,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    script = "set -euo pipefail\n" + "\n".join(lines)
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "plugin-hello: 1.1.0 (phase 0) -> 1.0.0 (phase 0)" in done.stdout  # the rollback
    assert '"active_version": "1.0.0"' in done.stdout
