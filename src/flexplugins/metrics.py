"""The server's Prometheus metrics: what is counted, and the text `GET /metrics` answers.

`prometheus_client` decides once, when it is first imported, whether values live in this process
or in files shared by the worker processes of one server (PROMETHEUS_MULTIPROC_DIR, which `serve
--workers N` sets to a directory of its own before it starts them). So nothing here imports it
until `start()`, which the application calls when it is created, in the process that serves; until
then every counter is a no-op. Other layers count through the module attributes below (looked up at
each call, so they see what `start()` put there): the read cache, the database handle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

ENV_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
_DIR_PREFIX = "flexplugins-metrics-"

# Latency buckets in seconds: a cached read takes tens of microseconds, a write a few milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Increment(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Nothing:
    def inc(self, amount: float = 1) -> None:
        return None


_NOTHING = _Nothing()

# Counted by other layers; no-ops until start().
READ_CACHE_HIT: Increment = _NOTHING
READ_CACHE_MISS: Increment = _NOTHING
BUNDLE_BYTES: Increment = _NOTHING

_database_errors: Any = None
_families: dict[str, Any] = {}
_multiprocess = False


def start() -> None:
    """Create the metrics (once per process), in whatever mode the environment says now."""
    global READ_CACHE_HIT, READ_CACHE_MISS, BUNDLE_BYTES, _database_errors, _multiprocess
    if _families:
        return
    _multiprocess = bool(os.environ.get(ENV_MULTIPROC_DIR))
    from prometheus_client import Counter, Histogram, disable_created_metrics

    disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series double what is exposed and tell little
    requests = Counter(
        "flexplugins_http_requests",
        "HTTP requests answered, by route template, method and status.",
        ["route", "method", "status"],
    )
    latency = Histogram(
        "flexplugins_http_request_duration_seconds",
        "Time from a request's arrival at the application to the end of its response.",
        ["route", "method"],
        buckets=LATENCY_BUCKETS,
    )
    unavailable = Counter(
        "flexplugins_http_unavailable_responses",
        "503 responses (the database is down, read-only, full or busy), by route template.",
        ["route"],
    )
    refused = Counter(
        "flexplugins_http_rate_limited_responses",
        "429 responses (rate limit and sign-in throttling refusals), by route template.",
        ["route"],
    )
    cache = Counter(
        "flexplugins_read_cache_lookups",
        "Read-cache lookups (api/cache.py) by result: hit (served as rendered before) or miss.",
        ["result"],
    )
    bundles = Counter("flexplugins_bundle_bytes_served", "Bytes of bundle bodies sent (200 responses).")
    _database_errors = Counter(
        "flexplugins_database_errors",
        "Database driver failures, by operation (read, write, counters) and kind "
        "(unavailable: answered 503; other: an unexpected driver error).",
        ["operation", "kind"],
    )
    _families.update(requests=requests, latency=latency, unavailable=unavailable, refused=refused)
    READ_CACHE_HIT = cache.labels("hit")
    READ_CACHE_MISS = cache.labels("miss")
    BUNDLE_BYTES = bundles


def family(name: str) -> Any:
    """One of the request metrics start() made (requests, latency, unavailable, refused)."""
    return _families[name]


def database_error(operation: str, unavailable: bool) -> None:
    if _database_errors is not None:
        _database_errors.labels(operation, "unavailable" if unavailable else "other").inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: this process's metrics, or every worker's."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if _multiprocess:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def fresh_multiprocess_dir() -> Path:
    """A new empty directory (mode 0700) for the workers of one server run.

    Its name carries the server's process ID; directories left by runs whose process is gone
    (killed before they could remove theirs) are removed first.
    """
    base = Path(tempfile.gettempdir())
    for old in base.glob(_DIR_PREFIX + "*"):
        pid = old.name[len(_DIR_PREFIX) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or old.stat().st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
