"""The benchmark: the real `flexplugins serve` on a large seeded account, driven by wrk over loopback.

    python bench/run.py --workers 1 --duration 10 --db sqlite,postgresql [--scale 1.0] [--soak 60]

For each database it seeds a fresh database (bench/seed.py), starts `flexplugins serve` on it,
runs wrk against every read and write endpoint, and in the same run the bare Starlette baseline
(bench/baseline.py: uvicorn + uvloop + httptools, same workers, same load). Every figure is also
printed as a ratio to that in-run baseline, so results mean something on a noisy shared machine.
See bench/README.md for the figures and what they mean.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed as seeding  # noqa: E402

PG_ADMIN_URL = os.environ.get("FLEXPLUGINS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
API = "/v1/PluginService"
FORM = "application/x-www-form-urlencoded"

DONE_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""

POST_LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
request = function()
  counter = counter + 1
  local body = [[%(prefix)s]] .. tid .. "-" .. counter .. [[%(suffix)s]]
  return wrk.format("POST", [[%(path)s]], nil, body)
end
"""


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in task.read_text().split()]
    return found


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        pending += _children(current)
    return total


class RssSampler:
    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), tree_rss_kib(self.pid)))
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return max((kib for _, kib in self.samples), default=0) / 1024

    def between(self, start: float, end: float) -> list[int]:
        return [kib for when, kib in self.samples if start <= when <= end]


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def wait_ready(url: str, popen: subprocess.Popen[bytes], log: Path, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready: {log.read_text()[-2000:]}")


def start_flexplugins(database_url: str, workers: int, workdir: Path) -> Process:
    port = free_port()
    log = workdir / f"server-{port}.log"
    exe = shutil.which("flexplugins", path=str(Path(sys.executable).parent)) or "flexplugins"
    env = dict(os.environ, FLEXPLUGINS_DATA_DIR=str(workdir / "data"))
    env.pop("TWILIO_ACCOUNT_SID", None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    cmd = [
        exe,
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
    popen = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, popen, log)
    return Process(popen, url, log)


def start_baseline(workers: int, workdir: Path, http: str = "httptools") -> Process:
    port = free_port()
    log = workdir / f"baseline-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "baseline:app",
        "--app-dir",
        str(HERE),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        http,
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-server-header",
    ]
    popen = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, popen, log, "/v1/PluginService/Plugins/x")
    return Process(popen, url, log)


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Load:
    threads: int
    connections: int
    duration: float


def run_wrk(
    name: str, url: str, auth: str | None, load: Load, workdir: Path, script: str = "", duration: float = 0
) -> Result:
    lua = workdir / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    lua.write_text(script + DONE_LUA)
    cmd = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{int(duration or load.duration)}s",
        "--timeout",
        "5s",
        "-s",
        str(lua),
    ]
    if auth:
        cmd += ["-H", f"Authorization: {auth}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=(duration or load.duration) + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed for {name}: {out.stdout}\n{out.stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    errors = sum(
        data[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return Result(
        name=name,
        rps=data["requests"] / data["duration_us"] * 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        requests=data["requests"],
    )


def post_script(path: str, prefix: str, suffix: str) -> str:
    return POST_LUA % {"path": path, "prefix": prefix, "suffix": suffix}


# --- one database -----------------------------------------------------------------------------


def basic(sid: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


def page_token_url(client: httpx.Client, path: str, page_index: int, size: int) -> str:
    """The URL of page `page_index` (0-based) as the API hands it out: next_page_url, with a PageToken."""
    body = client.get(path, params={"PageSize": size, "Page": page_index - 1}).raise_for_status().json()
    next_url = body["meta"]["next_page_url"]
    assert next_url and "PageToken=" in next_url, body["meta"]
    check = client.get(next_url).raise_for_status().json()
    assert check["meta"]["page"] == page_index and len(check[body["meta"]["key"]]) == size, check["meta"]
    return str(next_url)


def release_cost(server: str, seeded: seeding.Seeded, rounds: int) -> dict[str, Any]:
    """Sequential release creates, alternating a 10-release account and the 10,000-release account."""
    few = httpx.Client(base_url=server, auth=(seeded.small_account_sid, seeded.small_token), timeout=30)
    many = httpx.Client(base_url=server, auth=(seeded.account_sid, seeded.token), timeout=30)
    times: dict[str, list[float]] = {"few": [], "many": []}
    with few, many:
        count_many = many.get(f"{API}/Releases", params={"PageSize": 1}).json()
        for _ in range(5):  # warm both paths
            few.post(f"{API}/Releases", data={"ConfigurationId": seeded.small_configuration_sid})
            many.post(f"{API}/Releases", data={"ConfigurationId": seeded.configuration_sid})
        for _ in range(rounds):
            for label, client, config in (
                ("few", few, seeded.small_configuration_sid),
                ("many", many, seeded.configuration_sid),
            ):
                started = time.perf_counter()
                response = client.post(f"{API}/Releases", data={"ConfigurationId": config})
                times[label].append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
    del count_many
    few_ms = statistics.median(times["few"]) * 1000
    many_ms = statistics.median(times["many"]) * 1000
    return {"few_p50_ms": few_ms, "many_p50_ms": many_ms, "ratio": many_ms / few_ms, "rounds": rounds}


def query_cost(database_url: str, seeded: seeding.Seeded, rounds: int = 2000) -> dict[str, Any]:
    """Page 1 against page 1,000 of the list queries themselves (the service layer, no cache).

    Over HTTP both pages are served from the read cache after their first request, so this is
    where keyset pagination shows: the query behind page 1,000 (after a key) costs what page 1 does.
    """
    from flexplugins.domain.model import Principal
    from flexplugins.service import configurations, releases
    from flexplugins.storage.db import Database
    from flexplugins.storage.paging import Cursor

    db = Database(database_url)
    who = Principal(seeded.account_sid, seeded.account_sid)
    out: dict[str, Any] = {}
    try:
        for which, service in (("configurations", configurations), ("releases", releases)):
            last = seeded.counts[which] // 10 - 1  # page 1,000 of 10 at full scale
            before = service.list_page(db, who, 10, Cursor("offset", (last - 1) * 10))
            cursor = Cursor("after", before.last_key) if before.last_key is not None else None

            def median_us(cursor: Cursor | None, service: Any = service) -> float:
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    service.list_page(db, who, 10, cursor)
                    times.append(time.perf_counter() - started)
                return statistics.median(times) * 1e6

            first, deep = median_us(None), median_us(cursor)
            out[which] = {"page1_us": first, "page1000_us": deep, "ratio": deep / first}
    finally:
        db.dispose()
    return out


def bench_database(kind: str, args: argparse.Namespace, load: Load, workdir: Path) -> dict[str, Any]:
    database_url, drop = make_database(kind, workdir)
    report: dict[str, Any] = {"database": kind}
    try:
        print(f"[{kind}] seeding (scale {args.scale}) ...", flush=True)
        seeded = seeding.seed(database_url, args.scale)
        report["seeded"] = seeded.counts
        print(f"[{kind}] seeded {seeded.counts}", flush=True)
        report["query_cost"] = query_cost(database_url, seeded)
        print(f"[{kind}] list queries, page 1 vs page 1000: {report['query_cost']}", flush=True)

        baseline = start_baseline(args.workers, workdir)
        try:
            run_wrk("warm-up", baseline.url + "/x", None, load, workdir, duration=2)
            base = run_wrk(
                "baseline (bare Starlette)", baseline.url + "/v1/PluginService/Plugins/x", None, load, workdir
            )
        finally:
            baseline.stop()
        print(f"[{kind}] baseline {base.rps:,.0f} req/s p99 {base.p99_ms:.1f} ms", flush=True)
        # The same bare endpoint behind flexplugins' bounded HTTP protocol (server.py): its own cost.
        bounded_server = start_baseline(args.workers, workdir, http="flexplugins.server:HttpProtocol")
        try:
            run_wrk("warm-up", bounded_server.url + "/x", None, load, workdir, duration=2)
            bounded = run_wrk(
                "baseline, bounded protocol",
                bounded_server.url + "/v1/PluginService/Plugins/x",
                None,
                load,
                workdir,
            )
        finally:
            bounded_server.stop()
        report["protocol"] = {**bounded.__dict__, "ratio": bounded.rps / base.rps}
        print(
            f"[{kind}] bounded protocol {bounded.rps:,.0f} req/s ({bounded.rps / base.rps:.2f}x)", flush=True
        )

        server = start_flexplugins(database_url, args.workers, workdir)
        sampler = RssSampler(server.popen.pid)
        try:
            report.update(drive(server.url, seeded, base, args, load, workdir, sampler, kind))
        finally:
            sampler.stop()
            server.stop()
        report["baseline"] = base.__dict__
        report["rss_peak_mib"] = sampler.peak_mib
    finally:
        drop()
    return report


def drive(
    url: str,
    seeded: seeding.Seeded,
    base: Result,
    args: argparse.Namespace,
    load: Load,
    workdir: Path,
    sampler: RssSampler,
    kind: str,
) -> dict[str, Any]:
    auth = basic(seeded.account_sid, seeded.token)
    client = httpx.Client(base_url=url, auth=(seeded.account_sid, seeded.token), timeout=30)
    plugin = seeded.plugin_sid
    with client:
        active = client.get(f"{API}/Releases/Active")
        assert active.status_code == 200, active.text
        pages = {
            # page 1,000 of 10 (the last at full scale); the deepest page there is at a smaller scale
            which: page_token_url(
                client, f"{API}/{which.title()}", min(999, seeded.counts[which] // 10 - 1), 10
            )
            for which in ("configurations", "releases")
        }
        manifest = None
        for candidate in ("/flexplugins/v1/Runtime/Manifest", "/v1/PluginService/Runtime/Manifest"):
            if client.get(candidate).status_code == 200:
                manifest = candidate
    reads: list[tuple[str, str]] = [
        ("fetch plugin by SID", f"{API}/Plugins/{plugin}"),
        ("fetch plugin by name", f"{API}/Plugins/{seeded.plugin_name}"),
        ("fetch version by version string", f"{API}/Plugins/{plugin}/Versions/{seeded.version_string}"),
        ("list configurations page 1", f"{API}/Configurations?PageSize=10"),
        ("list configurations page 1000", pages["configurations"].replace(url, "")),
        ("list releases page 1", f"{API}/Releases?PageSize=10"),
        ("list releases page 1000", pages["releases"].replace(url, "")),
        ("list configured plugins (20)", f"{API}/Configurations/{seeded.configuration_sid}/Plugins"),
        ("Releases/Active", f"{API}/Releases/Active"),
    ]
    if manifest:
        reads.append(("runtime manifest", manifest))
    nonce = uuid.uuid4().hex[:6]
    plugins_field = "&".join(
        "Plugins=" + quote(json.dumps({"plugin_version": sid, "phase": 3}), safe="")
        for sid in seeded.version_sids
    )
    writes: list[tuple[str, str]] = [
        (
            "create version",
            post_script(
                f"{API}/Plugins/{plugin}/Versions",
                f"Version=9.{nonce}.",
                "&" + urlencode({"PluginUrl": "https://assets.example.com/b.js"}),
            ),
        ),
        (
            "create configuration (20 plugins)",
            post_script(f"{API}/Configurations", f"Name=bench-{nonce}-", "&" + plugins_field),
        ),
        (
            "create release",
            post_script(f"{API}/Releases", f"ConfigurationId={seeded.configuration_sid}&x=", ""),
        ),
    ]
    results: list[Result] = []
    run_wrk("warm-up", url + reads[0][1], auth, load, workdir, duration=2)
    for name, path in reads:
        result = run_wrk(name, url + path, auth, load, workdir)
        result.ratio = result.rps / base.rps
        results.append(result)
        print(f"[{kind}] {fmt(result)}", flush=True)
    soak: dict[str, Any] = {}
    if args.soak:
        started = time.monotonic()
        result = run_wrk(
            f"soak: Releases/Active for {args.soak:g} s",
            url + f"{API}/Releases/Active",
            auth,
            load,
            workdir,
            duration=args.soak,
        )
        ended = time.monotonic()
        window = sampler.between(started, ended)
        third = max(1, len(window) // 3)
        soak = {
            "seconds": args.soak,
            "rps": result.rps,
            "rss_first_third_mib": max(window[:third]) / 1024 if window else 0,
            "rss_last_third_mib": max(window[-third:]) / 1024 if window else 0,
        }
        print(f"[{kind}] soak {soak}", flush=True)
    for name, script in writes:
        result = run_wrk(name, url + "/", auth, load, workdir, script=script)
        result.ratio = result.rps / base.rps
        results.append(result)
        print(f"[{kind}] {fmt(result)}", flush=True)
    cost = release_cost(url, seeded, args.release_rounds)
    print(
        f"[{kind}] release create p50: {cost['few_p50_ms']:.2f} ms with few earlier releases, "
        f"{cost['many_p50_ms']:.2f} ms with many ({cost['ratio']:.2f}x)",
        flush=True,
    )
    by_name = {r.name: r for r in results}
    paging = {
        which: {
            "page1_p50_ms": by_name[f"list {which} page 1"].p50_ms,
            "page1000_p50_ms": by_name[f"list {which} page 1000"].p50_ms,
            "cost_ratio": by_name[f"list {which} page 1"].rps / by_name[f"list {which} page 1000"].rps,
        }
        for which in ("configurations", "releases")
    }
    return {
        "results": [r.__dict__ for r in results],
        "paging": paging,
        "release_cost": cost,
        "soak": soak,
        "manifest": bool(manifest),
    }


def fmt(r: Result) -> str:
    ratio = f"{r.ratio:5.2f}x" if r.ratio is not None else "   -  "
    latency = f"p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms"
    return f"{r.name:36s} {r.rps:9,.0f} req/s  {latency}  {ratio}  errors {r.errors}"


def make_database(kind: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{path}", lambda: None
    if kind == "postgresql":
        import psycopg

        name = "fpbench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop
    raise SystemExit(f"unknown database {kind!r} (sqlite or postgresql)")


def print_table(reports: list[dict[str, Any]], args: argparse.Namespace, load: Load) -> None:
    print()
    print(
        f"flexplugins benchmark: {args.workers} worker(s), wrk -t{load.threads} -c{load.connections} "
        f"-d{load.duration:g}s, scale {args.scale}"
    )
    for report in reports:
        base = report["baseline"]
        print(f"\n== {report['database']}  (seeded {report['seeded']})")
        print(f"{'endpoint':36s} {'req/s':>9s}  {'p50 ms':>7s} {'p99 ms':>7s}  {'vs base':>7s}  errors")
        print(
            f"{'baseline (bare Starlette)':36s} {base['rps']:9,.0f}  "
            f"{base['p50_ms']:7.2f} {base['p99_ms']:7.2f}"
            f"  {1:6.2f}x  {base['errors']}"
        )
        b = report["protocol"]
        print(
            f"{'baseline, bounded HTTP protocol':36s} {b['rps']:9,.0f}  {b['p50_ms']:7.2f} {b['p99_ms']:7.2f}"
            f"  {b['ratio']:6.2f}x  {b['errors']}"
        )
        for r in report["results"]:
            print(
                f"{r['name']:36s} {r['rps']:9,.0f}  {r['p50_ms']:7.2f} {r['p99_ms']:7.2f}  {r['ratio']:6.2f}x"
                f"  {r['errors']}"
            )
        for which, p in report["paging"].items():
            q = report["query_cost"][which]
            print(
                f"page 1000 vs page 1 ({which}): over HTTP {p['cost_ratio']:.2f}x the cost "
                f"(p50 {p['page1_p50_ms']:.2f} -> {p['page1000_p50_ms']:.2f} ms); the list query alone "
                f"{q['ratio']:.2f}x ({q['page1_us']:.0f} -> {q['page1000_us']:.0f} us)"
            )
        c = report["release_cost"]
        print(
            f"create release, few vs ~10,000 earlier releases: p50 {c['few_p50_ms']:.2f} vs "
            f"{c['many_p50_ms']:.2f} ms ({c['ratio']:.2f}x)"
        )
        print(f"peak server RSS (all processes): {report['rss_peak_mib']:.0f} MiB")
        if report["soak"]:
            s = report["soak"]
            print(
                f"memory over a {s['seconds']:g} s soak: {s['rss_first_third_mib']:.0f} MiB (first third) -> "
                f"{s['rss_last_third_mib']:.0f} MiB (last third)"
            )
        if not report["manifest"]:
            print("runtime manifest: no such endpoint in this build (not measured)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (and baseline's)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per endpoint")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the seeded account (e.g. 0.05)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--soak", type=float, default=0, help="also run Releases/Active this long, watching RSS"
    )
    parser.add_argument(
        "--release-rounds", type=int, default=200, help="sequential creates per release-cost side"
    )
    parser.add_argument("--json", type=Path, help="also write the full results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    load = Load(args.threads, args.connections, args.duration)
    reports = []
    with tempfile.TemporaryDirectory(prefix="fpbench-") as tmp:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            reports.append(bench_database(kind, args, load, Path(tmp)))
    print_table(reports, args, load)
    if args.json:
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": platform.uname()._asdict(),
            "cpus": os.cpu_count(),
            "args": {k: str(v) for k, v in vars(args).items()},
        }
        args.json.write_text(json.dumps({"meta": meta, "reports": reports}, indent=2))


if __name__ == "__main__":
    main()
