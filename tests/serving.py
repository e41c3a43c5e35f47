"""`flexplugins serve` as a real subprocess, for tests that need several processes or a kill -9."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port


@dataclass
class ServeProcess:
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        """SIGKILL the server and every worker it started (they share its process group)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)


def flexplugins_exe() -> str:
    return shutil.which("flexplugins", path=str(Path(sys.executable).parent)) or "flexplugins"


def spawn(
    database_url: str,
    log_dir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    env: dict[str, str] | None = None,
    vendor_proxy: str | None = None,
    args: list[str] | None = None,
) -> ServeProcess:
    """Start `flexplugins serve` in its own process group; returns without waiting for it."""
    port = port or free_port()
    log = log_dir / f"serve-{port}-{time.monotonic_ns()}.log"
    full_env = dict(os.environ, FLEXPLUGINS_DATA_DIR=str(log_dir / "data"), **(env or {}))
    # A known account is bootstrapped by the tests themselves; never print a generated token here.
    full_env.setdefault("TWILIO_ACCOUNT_SID", "")
    full_env.setdefault("TWILIO_AUTH_TOKEN", "")
    cmd = [
        flexplugins_exe(),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database",
        database_url,
        "--log-level",
        "warning",
    ]
    if vendor_proxy:
        cmd += ["--vendor-proxy", vendor_proxy]
    cmd += args or []
    popen = subprocess.Popen(
        cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=full_env, start_new_session=True
    )
    return ServeProcess(popen, f"http://127.0.0.1:{port}", log)


def wait_healthy(proc: ServeProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"flexplugins serve exited ({proc.popen.returncode}): {proc.output()[-3000:]}")
        try:
            if httpx.get(proc.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"flexplugins serve did not become healthy: {proc.output()[-3000:]}")


def serve(database_url: str, log_dir: Path, **kwargs: object) -> ServeProcess:
    proc = spawn(database_url, log_dir, **kwargs)  # type: ignore[arg-type]
    wait_healthy(proc)
    return proc
