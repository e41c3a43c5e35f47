"""The README's set-up lines as a new user pastes them: the first start's JSON exported as the
credentials, `flexplugins` on PATH from the venv, shell completion, and the Python client example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import CREDENTIAL_VARS
from tests.conftest import Credentials, LiveServer

README = Path(__file__).parents[2] / "README.md"
VENV_BIN = Path(sys.executable).parent


def blocks(heading: str, language: str) -> list[str]:
    section = README.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS and k != "FLEXPLUGINS_URL"}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    # PATH without the venv: activating it must be what puts `flexplugins` there.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN)
    return env


def test_the_first_start_json_exports_the_credentials(tmp_path: Path) -> None:
    start, session = blocks("Set-up", "sh")[:2]
    assert start.strip().endswith(".venv/bin/flexplugins serve")
    assert ". .venv/bin/activate" in session and "TWILIO_AUTH_TOKEN" in session
    assert (VENV_BIN / "activate").is_file(), "the suite runs from the README's venv"
    served = subprocess.Popen(
        [str(VENV_BIN / "flexplugins"), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert served.stdout is not None and served.stderr is not None
        first = served.stdout.readline().strip()
        account = json.loads(first)
        url = ""
        while not url:
            line = served.stderr.readline()
            assert line, "serve exited before it was serving"
            found = re.search(r"serving on (http://\S+)", line)
            url = found.group(1) if found else ""
        pasted = re.sub(r"'\{\"account_sid\": \"AC…\", \"auth_token\": \"…\"\}'", f"'{first}'", session)
        assert pasted != session, "the README's line holds the placeholder JSON to paste over"
        # The venv is activated from the folder it was made in (the checkout's, as the README's).
        script = "set -euo pipefail\n" + pasted.replace(". .venv/bin/activate", f". {VENV_BIN}/activate")
        script += '\necho "sid=$TWILIO_ACCOUNT_SID token=$TWILIO_AUTH_TOKEN"'
        script += '\necho "which=$(command -v flexplugins)"\n'
        env = clean_env(tmp_path) | {"FLEXPLUGINS_URL": url}
        done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr + done.stdout
        assert f"sid={account['account_sid']} token={account['auth_token']}" in done.stdout
        assert f"which={VENV_BIN / 'flexplugins'}" in done.stdout
        assert "Traceback" not in done.stderr
    finally:
        served.terminate()
        served.wait(timeout=30)


def test_shell_completion_lines_work(tmp_path: Path) -> None:
    text = "\n".join(blocks("Set-up", "sh"))
    assert '_FLEXPLUGINS_COMPLETE=bash_source flexplugins' in text
    env = clean_env(tmp_path) | {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    source = subprocess.run(
        ["flexplugins"], env=env | {"_FLEXPLUGINS_COMPLETE": "bash_source"}, capture_output=True, text=True
    )
    assert source.returncode == 0 and "complete " in source.stdout, source.stderr
    # What bash asks when the user types `flexplugins de<TAB>` and `flexplugins deploy --pa<TAB>`.
    asks = (("flexplugins de", "1", "deploy"), ("flexplugins deploy --pa", "2", "--patch"))
    for words, cword, expected in asks:
        asked = env | {"_FLEXPLUGINS_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
        done = subprocess.run(["flexplugins"], env=asked, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"plain,{expected}" in done.stdout.splitlines(), done.stdout


@pytest.mark.parametrize("block", range(len(blocks("Pointing the vendor's clients at it", "python"))))
def test_the_python_client_example_runs_as_written(
    server: LiveServer, account: Credentials, tmp_path: Path, block: int
) -> None:
    code = blocks("Pointing the vendor's clients at it", "python")[block]
    assert '"http://127.0.0.1:8080"' in code
    code = code.replace('"http://127.0.0.1:8080"', repr(server.url))
    env = clean_env(tmp_path) | {"TWILIO_ACCOUNT_SID": account.sid, "TWILIO_AUTH_TOKEN": account.token}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"FP[0-9a-f]{32} plugin-hello\n", done.stdout), done.stdout
