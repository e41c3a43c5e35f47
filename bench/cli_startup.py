"""The command line's start-up cost: CPU seconds per run of `flexplugins --help`, `list --help` and
`list` against a running server, beside `python -c pass` and `python -c "import click"`.

    python bench/cli_startup.py [--runs 20] [--target 0.15] [--json FILE] [--check]

It starts a real `flexplugins serve --ephemeral --port 0`, deploys and releases two plugins with
the command line (so `list plugins` shows rows and reads the active release), then runs each
command as the installed console script `--runs` times, after one unmeasured run. CPU is the
user + system time of each finished child (resource.getrusage(RUSAGE_CHILDREN) before and after);
wall is the elapsed time. Prints the median and the largest of each, and each median against the
target (issue 12, item 7). `--check` exits 1 when a flexplugins command's median misses the
target. Not part of the test suite (tests/cli/test_lazy_imports.py checks what is imported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PYTHON = sys.executable
FLEXPLUGINS = str(Path(sys.executable).with_name("flexplugins"))  # the console script pip installed


def measure(command: Sequence[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    """CPU and wall seconds of `runs` runs of `command`, after one run that warms the caches."""
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {
        "cpu_median": statistics.median(cpu),
        "cpu_max": max(cpu),
        "wall_median": statistics.median(wall),
        "wall_max": max(wall),
        "runs": runs,
    }


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`flexplugins serve --ephemeral --port 0` and the JSON line it prints once it answers."""
    server = subprocess.Popen(
        [FLEXPLUGINS, "serve", "--ephemeral", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.kill()
        raise SystemExit("flexplugins serve --ephemeral did not start")
    found: dict[str, str] = json.loads(line)
    return server, found


def seed(env: dict[str, str], folder: Path) -> None:
    """Two plugins deployed and released, through the command line itself."""
    for name in ("plugin-hello", "plugin-bye"):
        bundle = folder / f"{name}.js"
        bundle.write_text(f"console.log('{name}');\n")
        subprocess.run(
            [FLEXPLUGINS, "deploy", name, str(bundle), "--version", "1.0.0"],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
    subprocess.run(
        [FLEXPLUGINS, "release", "plugin-hello@1.0.0", "plugin-bye@1.0.0"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each command (default 20)")
    parser.add_argument("--target", type=float, default=0.15, help="CPU seconds per run (default 0.15)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses the target")
    args = parser.parse_args()
    if not Path(FLEXPLUGINS).exists():
        raise SystemExit(f"no console script at {FLEXPLUGINS}: run this with the venv's python")

    with tempfile.TemporaryDirectory(prefix="flexplugins-cli-bench-") as scratch:
        # Bytecode caching on, as in an installed package (pip writes the .pyc files; the run
        # that warms up each command writes any that are missing or stale).
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FLEXPLUGINS_", "TWILIO_")) and key != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(XDG_CONFIG_HOME=str(Path(scratch) / "config"), COLUMNS="160")
        server, found = start_server(env)
        try:
            env.update(
                FLEXPLUGINS_URL=found["url"],
                TWILIO_ACCOUNT_SID=found["account_sid"],
                TWILIO_AUTH_TOKEN=found["auth_token"],
            )
            seed(env, Path(scratch))
            commands: list[tuple[str, list[str], bool]] = [
                ("python -c pass", [PYTHON, "-c", "pass"], False),
                ('python -c "import click"', [PYTHON, "-c", "import click"], False),
                ("flexplugins --help", [FLEXPLUGINS, "--help"], True),
                ("flexplugins list --help", [FLEXPLUGINS, "list", "--help"], True),
                ("flexplugins list plugins", [FLEXPLUGINS, "list", "plugins"], True),
                ("flexplugins list plugins --json", [FLEXPLUGINS, "list", "plugins", "--json"], True),
            ]
            results = []
            for label, command, targeted in commands:
                figures = measure(command, args.runs, env)
                results.append({"command": label, "targeted": targeted, **figures})
        finally:
            server.terminate()
            server.wait(timeout=20)

    print(
        f"{args.runs} runs each; {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; target {args.target:.2f} s CPU"
    )
    # CPU time grows when other processes share the cores: the ratio to `import click`, measured in
    # the same run, moves less than the seconds do.
    click_median = results[1]["cpu_median"]
    print(
        f"{'command':34} {'CPU median':>10} {'CPU max':>8} {'x click':>7} "
        f"{'wall median':>11} {'wall max':>8}  target"
    )
    missed = []
    for row in results:
        verdict = ""
        if row["targeted"]:
            verdict = "met" if row["cpu_median"] <= args.target else "MISSED"
            if verdict == "MISSED":
                missed.append(row["command"])
        row["vs_import_click"] = row["cpu_median"] / click_median
        print(
            f"{row['command']:34} {row['cpu_median']:10.3f} {row['cpu_max']:8.3f} "
            f"{row['vs_import_click']:7.2f} {row['wall_median']:11.3f} {row['wall_max']:8.3f}  {verdict}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"target": args.target, "results": results}, indent=2) + "\n")
    if args.check and missed:
        raise SystemExit(f"over {args.target} s of CPU: {', '.join(missed)}")


if __name__ == "__main__":
    main()
