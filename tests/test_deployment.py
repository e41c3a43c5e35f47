"""The deployment of deploy/, run for real: PostgreSQL, two `flexplugins serve`, haproxy in front.

The test starts the topology of deploy/compose.yaml with local processes (docker cannot run here):
the same haproxy.cfg (its addresses come from the environment), the servers with the command line
compose.yaml gives them. Under a mixed read/write load through haproxy it SIGKILLs one server, then
restarts it, and shows that every write answered 2xx is stored, that reads keep succeeding through
the survivor, and that the restarted server is taken back. The last tests check that compose.yaml,
the Dockerfile and the systemd unit describe that same topology.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import yaml

from flexplugins.cli.serve import serve as serve_command
from tests.conftest import free_port, make_database_url
from tests.serving import ServeProcess, spawn, wait_healthy

API = "/v1/PluginService"
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
HAPROXY_CFG = DEPLOY / "haproxy.cfg"
COMPOSE = DEPLOY / "compose.yaml"
SERVERS = ("app1", "app2")  # compose services, haproxy server names
SERVER_PORT = 8080  # what each server listens on in compose.yaml
HEALTH = "/healthz"
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
SECRET_KEY = secrets.token_hex(32)  # one server key for both servers, as compose.yaml gives them


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def server_args(command: list[str], port: int) -> list[str]:
    """compose.yaml's `serve` command line, on this machine: loopback and a free port."""
    assert command[0] == "serve"
    args = list(command[1:])
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        args[args.index(option) + 1] = value
    return args


def haproxy_exe() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("haproxy is not installed (scripts/test installs Debian's: apt-get install haproxy)")
    return found


@dataclass
class Topology:
    lb_url: str
    stats_url: str
    database_url: str
    ports: dict[str, int]
    args: dict[str, list[str]]
    root: Path
    servers: dict[str, ServeProcess] = field(default_factory=dict)
    haproxy: subprocess.Popen[bytes] | None = None

    def start_server(self, name: str) -> ServeProcess:
        env = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "FLEXPLUGINS_PUBLIC_URL": self.lb_url,
            "FLEXPLUGINS_SECRET_KEY": SECRET_KEY,
        }
        log_dir = self.root / name
        log_dir.mkdir(exist_ok=True)
        proc = spawn(self.database_url, log_dir, port=self.ports[name], env=env, args=self.args[name])
        self.servers[name] = proc
        return proc

    def states(self) -> dict[str, str]:
        """haproxy's view of each server (UP, DOWN, ...), from its status page."""
        assert self.haproxy is not None and self.haproxy.poll() is None, "haproxy exited"
        try:
            text = httpx.get(self.stats_url + "/;csv", timeout=5).text.lstrip("# ")
        except httpx.ConnectError:  # haproxy is still starting
            return {}
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "flexplugins_servers" and row["svname"] in SERVERS
        }

    def wait_state(self, name: str, prefix: str, timeout: float = 15) -> float:
        started = time.monotonic()
        while not self.states().get(name, "").startswith(prefix):
            assert time.monotonic() - started < timeout, f"haproxy never saw {name} {prefix}: {self.states()}"
            time.sleep(0.05)
        return time.monotonic() - started


@pytest.fixture
def topology(pg_available: bool, tmp_path: Path) -> Iterator[Topology]:
    exe = haproxy_exe()
    databases = make_database_url("postgresql", tmp_path, pg_available)
    database_url = next(databases)
    command = compose()["services"]["app1"]["command"]
    ports = {name: free_port() for name in SERVERS}
    lb, stats = free_port(), free_port()
    top = Topology(
        lb_url=f"http://127.0.0.1:{lb}",
        stats_url=f"http://127.0.0.1:{stats}",
        database_url=database_url,
        ports=ports,
        args={name: server_args(command, ports[name]) for name in SERVERS},
        root=tmp_path,
    )
    env = dict(
        os.environ,
        FLEXPLUGINS_LB_BIND=f"127.0.0.1:{lb}",
        FLEXPLUGINS_LB_STATS=f"127.0.0.1:{stats}",
        FLEXPLUGINS_APP1=f"127.0.0.1:{ports['app1']}",
        FLEXPLUGINS_APP2=f"127.0.0.1:{ports['app2']}",
    )
    try:
        # Both at once, as compose starts them: each migrates and bootstraps the same account.
        for name in SERVERS:
            top.start_server(name)
        for proc in top.servers.values():
            wait_healthy(proc)
        top.haproxy = subprocess.Popen(
            [exe, "-f", str(HAPROXY_CFG), "-db"],
            env=env,
            stdout=(tmp_path / "haproxy.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in SERVERS:
            top.wait_state(name, "UP")
        yield top
    finally:
        if top.haproxy is not None and top.haproxy.poll() is None:
            os.killpg(top.haproxy.pid, signal.SIGTERM)
            top.haproxy.wait(10)
        for proc in top.servers.values():
            proc.stop()
        with contextlib.suppress(StopIteration):
            next(databases)


@dataclass
class Load:
    written: list[str] = field(default_factory=list)  # plugin SIDs answered 2xx
    failed_writes: list[tuple[float, str]] = field(default_factory=list)
    reads: list[tuple[float, int | str]] = field(default_factory=list)  # (when, status or error)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def writer(url: str, n: int, load: Load) -> None:
    with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as http:
        i = 0
        while not load.stop.is_set():
            i += 1
            try:
                response = http.post(f"{API}/Plugins", data={"UniqueName": f"lb-{n}-{i}"})
                outcome: int | str = response.status_code
            except httpx.HTTPError as error:
                outcome = type(error).__name__
            with load.lock:
                if isinstance(outcome, int) and 200 <= outcome < 300:
                    load.written.append(response.json()["sid"])
                else:
                    load.failed_writes.append((time.monotonic(), str(outcome)))


def reader(url: str, load: Load) -> None:
    with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as http:
        i = 0
        while not load.stop.is_set():
            i += 1
            with load.lock:
                sid = load.written[-1 - i % len(load.written)] if load.written else None
            path = f"{API}/Plugins/{sid}" if sid and i % 3 else f"{API}/Plugins?PageSize=20"
            try:
                outcome: int | str = http.get(path).status_code
            except httpx.HTTPError as error:
                outcome = type(error).__name__
            with load.lock:
                load.reads.append((time.monotonic(), outcome))


def api_lines(proc: ServeProcess) -> list[dict[str, Any]]:
    lines = []
    for raw in proc.output().splitlines():
        if raw.startswith("{") and '"request_id"' in raw:
            line = json.loads(raw)
            if line["route"].startswith(API):
                lines.append(line)
    return lines


def test_two_servers_behind_haproxy_survive_a_sigkill(topology: Topology) -> None:
    started = time.monotonic()
    load = Load()
    threads = [threading.Thread(target=writer, args=(topology.lb_url, n, load)) for n in range(3)]
    threads += [threading.Thread(target=reader, args=(topology.lb_url, load)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        both_served = {name: len(api_lines(proc)) for name, proc in topology.servers.items()}
        killed_at = time.monotonic()
        topology.servers["app1"].kill9()
        down_after = topology.wait_state("app1", "DOWN")
        time.sleep(1.5)  # the survivor alone
        with load.lock:
            reads_alone = [o for when, o in load.reads if when > killed_at + down_after]
        restarted = topology.start_server("app1")
        wait_healthy(restarted)
        up_after = topology.wait_state("app1", "UP")
        time.sleep(1.5)  # both again
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(20)

    assert all(count > 0 for count in both_served.values()), both_served
    assert down_after < 5 and up_after < 5, (down_after, up_after)
    # Reads: through the kill, the survivor alone and the rejoin, every one succeeded (haproxy
    # sends a read that met a dead server again, to the other one).
    statuses = [outcome for _, outcome in load.reads]
    assert len(statuses) > 100 and reads_alone, (len(statuses), len(reads_alone))
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    # Writes: only those that met the dead server before haproxy took it out may fail (in flight,
    # or sent on one of haproxy's idle connections to it); they are never replayed, and none fails
    # once it is out. Each writer sends one at a time, and fails at most a few.
    assert len(load.written) > 50
    assert len(load.failed_writes) <= 3 * 3, load.failed_writes
    window = down_after + 0.5
    assert all(killed_at <= when <= killed_at + window for when, _ in load.failed_writes), (
        killed_at,
        window,
        load.failed_writes,
    )
    # The restarted server is back in rotation: it answers API requests again.
    assert api_lines(restarted), "the restarted server got no requests"

    # Every write answered 2xx is there, read through the load balancer.
    with httpx.Client(base_url=topology.lb_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as http:
        present: set[str] = set()
        page = http.get(f"{API}/Plugins", params={"PageSize": 1000}).json()
        present |= {plugin["sid"] for plugin in page["plugins"]}
        while page["meta"]["next_page_url"]:
            assert page["meta"]["next_page_url"].startswith(topology.lb_url)  # FLEXPLUGINS_PUBLIC_URL
            page = http.get(page["meta"]["next_page_url"]).json()
            present |= {plugin["sid"] for plugin in page["plugins"]}
        missing = set(load.written) - present
        assert not missing, f"{len(missing)} acknowledged writes are missing"

        # haproxy replaces a client's X-Forwarded-For: the servers log the real peer, and the
        # request ID they make reaches the client through haproxy.
        spoofed = http.get(f"{API}/Plugins", headers={"X-Forwarded-For": "203.0.113.9"})
        request_id = spoofed.headers["Twilio-Request-Id"]
    time.sleep(0.2)
    logged = [line for proc in topology.servers.values() for line in api_lines(proc)]
    [line] = [line for line in logged if line["request_id"] == request_id]
    assert line["client"] == "127.0.0.1"
    assert time.monotonic() - started < 45


# --- the shipped files describe the same topology ---------------------------------------------


def test_compose_file_is_the_tested_topology() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"postgres", *SERVERS, "haproxy"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]

    for name in SERVERS:
        app = services[name]
        assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY.parent / app["build"]["dockerfile"]).is_file()
        assert app["command"] == services["app1"]["command"]  # the servers are alike
        context = serve_command.make_context("serve", list(app["command"][1:]))  # real options only
        assert context.params["port"] == SERVER_PORT
        assert context.params["host"] == "0.0.0.0"
        assert context.params["access_log"] is True
        environment = app["environment"]
        assert "@postgres:5432/" in environment["FLEXPLUGINS_DATABASE_URL"]
        shared = {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "FLEXPLUGINS_PUBLIC_URL"}
        shared.add("FLEXPLUGINS_SECRET_KEY")
        assert shared <= set(environment)
        assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
        check = " ".join(app["healthcheck"]["test"])
        assert f"http://127.0.0.1:{SERVER_PORT}{HEALTH}" in check

    haproxy = services["haproxy"]
    assert haproxy["image"].startswith("haproxy:2.6")  # Debian 12's haproxy, which the test runs
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]
    environment = haproxy["environment"]
    for index, name in enumerate(SERVERS, start=1):
        assert environment[f"FLEXPLUGINS_APP{index}"] == f"{name}:{SERVER_PORT}"
        assert set(haproxy["depends_on"]) == set(SERVERS)
    bind_port = environment["FLEXPLUGINS_LB_BIND"].rsplit(":", 1)[1]
    assert f"{bind_port}:{bind_port}" in haproxy["ports"]
    stats_port = environment["FLEXPLUGINS_LB_STATS"].rsplit(":", 1)[1]
    assert f"127.0.0.1:{stats_port}:{stats_port}" in haproxy["ports"]  # the status page stays local
    assert not any("ports" in services[name] for name in SERVERS), "clients reach haproxy only"


def test_haproxy_config_names_the_servers_and_health_check_of_the_topology() -> None:
    text = HAPROXY_CFG.read_text()
    directives = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    for index, name in enumerate(SERVERS, start=1):
        assert f'server {name} "${{FLEXPLUGINS_APP{index}}}" check' in directives
    assert f"http-check send meth GET uri {HEALTH}" in directives
    assert "http-check expect status 200" in directives
    assert "http-request disable-l7-retry unless METH_GET" in directives
    env = dict(
        os.environ,
        FLEXPLUGINS_LB_BIND="127.0.0.1:1",
        FLEXPLUGINS_LB_STATS="127.0.0.1:2",
        FLEXPLUGINS_APP1="127.0.0.1:3",
        FLEXPLUGINS_APP2="127.0.0.1:4",
    )
    checked = subprocess.run(
        [haproxy_exe(), "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_dockerfile_and_systemd_unit_run_serve_with_real_options() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    [cmd] = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    command = json.loads(cmd[len("CMD ") :])
    assert command[0] == "serve"
    params = serve_command.make_context("serve", command[1:]).params
    assert params["port"] == SERVER_PORT and params["access_log"] is True
    assert '"flexplugins"' in next(line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT"))
    assert f"127.0.0.1:{SERVER_PORT}{HEALTH}" in dockerfile

    unit = (DEPLOY / "flexplugins.service").read_text()
    [exec_start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_start[len("ExecStart=") :])
    assert argv[0].endswith("/flexplugins") and argv[1] == "serve"
    params = serve_command.make_context("serve", argv[2:]).params
    assert params["port"] == SERVER_PORT
    for required in ("[Unit]", "[Service]", "[Install]", "EnvironmentFile=", "Restart=on-failure"):
        assert required in unit


def test_serve_refuses_an_unknown_option_so_the_checks_above_can_fail() -> None:
    with pytest.raises(click.NoSuchOption):
        serve_command.make_context("serve", ["--no-such-option"])
