"""`flexplugins --help` and the client commands load nothing of the server (issue 12, item 7).

Each command runs as the installed console script in its own process, which writes the names of
every module it imported when it exits; none may belong to the server's stack. Not timed: the
CPU figures are bench/cli_startup.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from flexplugins.cli.lazy import LazyGroup
from flexplugins.cli.main import COMMANDS, main
from tests.cli.conftest import Cli, write_bundle

SERVER_PACKAGES = (
    "sqlalchemy",
    "starlette",
    "alembic",
    "uvicorn",
    "psycopg",
    "jinja2",
    "cryptography",
    "prometheus_client",
)
SERVER_MODULES = ("flexplugins.storage", "flexplugins.service", "flexplugins.api", "flexplugins.server")

# The console script `flexplugins` as pip installed it (its entry point), and the modules loaded
# by the time the process exits.
WRAPPER = """
import atexit, json, os, sys
from importlib.metadata import entry_points

def report():
    with open(os.environ["MODULES_FILE"], "w") as out:
        json.dump(sorted(sys.modules), out)

atexit.register(report)
(script,) = entry_points(group="console_scripts", name="flexplugins")
sys.argv[0] = "flexplugins"
sys.exit(script.load()())
"""


def server_modules(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name.split(".")[0] in SERVER_PACKAGES
        or any(name == prefix or name.startswith(prefix + ".") for prefix in SERVER_MODULES)
    ]


def run_script(cli: Cli, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """Run `flexplugins ARGS`; its modules at exit. The command must succeed."""
    report = tmp_path / "modules.json"
    merged = {**os.environ}
    for key, value in cli.environment().items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    merged.update(MODULES_FILE=str(report), **(env or {}))
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, timeout=60, env=merged
    )
    assert done.returncode == 0, f"{args}: {done.stderr}{done.stdout}"
    modules: list[str] = json.loads(report.read_text())
    report.unlink()
    return modules


def test_help_and_client_commands_import_nothing_of_the_server(cli: Cli, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "build", "hello.js", "console.log('hello');\n")
    runs = [
        ("--help",),
        ("list", "--help"),
        ("deploy", "plugin-hello", str(bundle), "--version", "1.0.0"),
        ("release", "plugin-hello@1.0.0"),
        ("list", "plugins"),
        ("list", "releases", "--json"),
        ("describe", "release", "active"),
        ("export", "--output", str(tmp_path / "export.jsonl")),
    ]
    for args in runs:
        modules = run_script(cli, tmp_path, *args)
        assert "flexplugins.cli.main" in modules  # the real command ran
        assert server_modules(modules) == [], args
    # --help imports no command at all: their summaries are known without them.
    help_modules = run_script(cli, tmp_path, "--help")
    assert [name for name in help_modules if name.startswith("flexplugins.")] == [
        "flexplugins.cli",
        "flexplugins.cli.lazy",
        "flexplugins.cli.main",
    ]


def test_shell_completion_of_command_names_imports_no_command(tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    env = {**os.environ, "_FLEXPLUGINS_COMPLETE": "bash_complete", "MODULES_FILE": str(report)}

    def complete(*words: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "COMP_WORDS": " ".join(("flexplugins", *words)), "COMP_CWORD": str(len(words))},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert complete("l") == ["plain,list", "plain,login"]
    assert [name for name in json.loads(report.read_text()) if name.startswith("flexplugins.cli.")] == [
        "flexplugins.cli.lazy",
        "flexplugins.cli.main",
    ]
    # Below a command, that command is imported and completes as Click always did.
    assert complete("list", "p") == ["plain,plugins"]
    assert server_modules(json.loads(report.read_text())) == []
    assert complete("db", "u") == ["plain,upgrade"]


@pytest.mark.parametrize("limit", [30, 45, 70, 200])
def test_each_summary_is_the_first_paragraph_of_the_commands_help(limit: int) -> None:
    """What --help lists without importing a command is what the command itself would say; when
    this fails, update the summary in cli/main.py to the command's new help."""
    assert isinstance(main, LazyGroup) and set(main.list_commands(click.Context(main))) == set(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = lazy.load()
        assert command.name == name
        stand_in = click.Command(name, help=lazy.summary)
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), name
