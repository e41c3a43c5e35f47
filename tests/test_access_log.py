"""The access log and multi-process metrics of a real `flexplugins serve` (tests/serving.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from flexplugins.service import accounts
from tests.conftest import LiveServer
from tests.serving import ServeProcess, serve

API = "/v1/PluginService"
FIELDS = {
    "time",
    "request_id",
    "client",
    "account_sid",
    "credential_sid",
    "method",
    "route",
    "status",
    "duration_ms",
    "bytes",
}


def log_lines(proc: ServeProcess) -> list[dict[str, Any]]:
    lines = []
    for raw in proc.output().splitlines():
        if raw.startswith("{") and '"request_id"' in raw:
            lines.append(json.loads(raw))
    return lines


def test_access_log_has_one_line_per_request_and_no_secret(
    server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    account, token = accounts.create_account(server.db)
    key = accounts.create_key(server.db, account.sid, "ci", kind="api")
    wrong = "not-the-token-" + "9" * 20
    proc = serve(database_url, tmp_path, args=["--access-log"])
    try:
        sent: list[tuple[httpx.Response, str, str | None, str | None]] = []  # response, route, account, cred
        with httpx.Client(base_url=proc.url, timeout=30) as http:
            created = http.post(f"{API}/Plugins", data={"UniqueName": "logged"}, auth=(account.sid, token))
            sent.append((created, f"{API}/Plugins", account.sid, account.sid))
            fetched = http.get(f"{API}/Plugins/{created.json()['sid']}", auth=(key.sid, key.secret))
            sent.append((fetched, f"{API}/Plugins/{{sid}}", account.sid, key.sid))
            refused = http.get(f"{API}/Plugins", auth=(account.sid, wrong))
            sent.append((refused, f"{API}/Plugins", None, None))
            missing = http.get("/no/such/thing", auth=(account.sid, token))
            sent.append((missing, "unmatched", None, None))
            health = http.get("/healthz")
            sent.append((health, "/healthz", None, None))
            vendor = http.get(
                "/v1/Services", headers={"Host": "serverless.twilio.com"}, auth=(key.sid, key.secret)
            )
            sent.append((vendor, "/serverless/v1/Services", account.sid, key.sid))
    finally:
        proc.stop()
    assert [r.status_code for r, *_ in sent] == [201, 200, 401, 404, 200, 200]
    lines = log_lines(proc)
    by_id = {line["request_id"]: line for line in lines}
    assert len(by_id) == len(lines), "a request ID was logged twice"
    ours = {response.headers["Twilio-Request-Id"] for response, *_ in sent}
    # Besides ours, only the health checks tests/serving.py made while waiting for the server.
    assert {line["route"] for line in lines if line["request_id"] not in ours} <= {"/healthz"}
    for response, route, account_sid, credential_sid in sent:
        line = by_id[response.headers["Twilio-Request-Id"]]
        assert set(line) == FIELDS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]), line
        assert line["method"] == response.request.method
        assert line["route"] == route
        assert line["status"] == response.status_code
        assert line["bytes"] == len(response.content)
        assert line["account_sid"] == account_sid and line["credential_sid"] == credential_sid
        assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 30_000
        assert line["client"] == "127.0.0.1"
    log = proc.output()
    for secret in (token, key.secret, wrong):
        assert secret not in log


def test_access_log_from_the_environment_and_off_by_default(
    server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "quiet").mkdir()
    (tmp_path / "env").mkdir()
    quiet = serve(database_url, tmp_path / "quiet")
    try:
        assert httpx.get(quiet.url + "/healthz").status_code == 200
    finally:
        quiet.stop()
    assert log_lines(quiet) == []
    logged = serve(database_url, tmp_path / "env", env={"FLEXPLUGINS_ACCESS_LOG": "on"})
    try:
        response = httpx.get(logged.url + "/healthz")
    finally:
        logged.stop()
    lines = log_lines(logged)
    assert response.headers["Twilio-Request-Id"] in {line["request_id"] for line in lines}
    assert {line["route"] for line in lines} == {"/healthz"}


def _total(text: str, route: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "flexplugins_http_requests_total" and sample.labels.get("route") == route:
                total += sample.value
    return total


def _per_worker(directory: Path, scratch: Path, route: str) -> dict[str, float]:
    """Requests to `route` counted by each worker: its counter file read alone."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        alone = scratch / f"alone-{path.stem}-{time.monotonic_ns()}"
        alone.mkdir()
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts[path.stem] = _total(generate_latest(registry).decode(), route)
    return counts


def test_metrics_add_up_over_the_workers(server: LiveServer, database_url: str, tmp_path: Path) -> None:
    account, token = accounts.create_account(server.db)
    stale = Path(tempfile.gettempdir()) / "flexplugins-metrics-999999999-left"  # a run killed earlier
    stale.mkdir(exist_ok=True)
    (stale / "counter_1.db").write_bytes(b"old")
    proc = serve(database_url, tmp_path, workers=2, env={"FLEXPLUGINS_METRICS": "on"})
    try:
        assert not stale.exists(), "a directory left by a dead server was not removed"
        [directory] = Path(tempfile.gettempdir()).glob(f"flexplugins-metrics-{proc.popen.pid}-*")
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        route = f"{API}/Plugins"
        sent = 0
        deadline = time.monotonic() + 30
        # New connections until both workers have answered some (each counts in its own file,
        # which it brings up to date at most a second after a request).
        while len([n for n in _per_worker(directory, tmp_path, route).values() if n > 0]) < 2:
            assert time.monotonic() < deadline, "the requests never reached the second worker"
            with httpx.Client(base_url=proc.url, auth=(account.sid, token)) as http:
                assert http.get(route).status_code == 200
            sent += 1
            time.sleep(0.05)
        time.sleep(1.5)
        assert sum(_per_worker(directory, tmp_path, route).values()) == sent
        # Whichever worker answers a scrape, it counts the requests of both.
        for _ in range(6):
            with httpx.Client(base_url=proc.url) as http:
                text = http.get("/metrics").text
            assert _total(text, route) == sent
    finally:
        proc.stop()
    assert not directory.exists(), "the metrics directory outlived its server"
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None
