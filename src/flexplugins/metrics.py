"""The server's Prometheus metrics: what is counted, and the text `GET /metrics` answers.

`prometheus_client` decides once, when it is first imported, whether values live in this process
or in files shared by the worker processes of one server (PROMETHEUS_MULTIPROC_DIR, which `serve
--workers N` sets to a directory of its own before it starts them). So nothing here imports it
until `start()`, which the application calls when it is created, in the process that serves; until
then every counter is a no-op. Other layers count through the module attributes below (looked up at
each call, so they see what `start()` put there): the read cache, the database handle.

prometheus-client takes a lock (and, with several workers, writes a memory-mapped file) for every
increment, a few microseconds per request for the counters and the histogram. So the hot counts
(requests, latencies, read-cache lookups, bundle bytes) are first added up in plain Python values
(`TALLY`) and handed to prometheus-client at most a second later, by a timer on the event loop, and
before every scrape: a scrape is at most a second behind the other workers, never behind its own.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import tempfile
from bisect import bisect_left
from pathlib import Path
from typing import Any, Protocol

ENV_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
_DIR_PREFIX = "flexplugins-metrics-"

# Latency buckets in seconds: a cached read takes tens of microseconds, a write a few milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Increment(Protocol):
    def inc(self, amount: float = 1) -> None: ...


FLUSH_SECONDS = 1.0
_BOUNDS = (*LATENCY_BUCKETS, math.inf)


class _Nothing:
    def inc(self, amount: float = 1) -> None:
        return None


_NOTHING = _Nothing()


class _Pending:
    """A count not yet handed to its prometheus-client counter."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0.0

    def inc(self, amount: float = 1) -> None:
        self.n += amount


class Tally:
    """This process's request counts and latencies since the last flush, in plain dicts."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        # Per (route, method): the count of each latency bucket, then the sum of the latencies.
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.pending: list[tuple[_Pending, Any]] = []
        self._armed = False

    def request(self, route: str, method: str, status: int, elapsed: float) -> None:
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get((route, method))
        if histogram is None:
            histogram = self.latency[(route, method)] = [0.0] * (len(_BOUNDS) + 1)
        histogram[bisect_left(_BOUNDS, elapsed)] += 1
        histogram[-1] += elapsed
        if not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        self._armed = False
        if not _families:
            return
        requests, self.requests = self.requests, {}
        latency, self.latency = self.latency, {}
        for (route, method, status), count in requests.items():
            _families["requests"].labels(route, method, str(status)).inc(count)
        for (route, method), histogram in latency.items():
            child = _families["latency"].labels(route, method)
            # prometheus-client has no "add n observations to a bucket": its bucket values take inc().
            for index, observed in enumerate(histogram[:-1]):
                if observed:
                    child._buckets[index].inc(observed)
            child._sum.inc(histogram[-1])
        for pending, counter in self.pending:
            if pending.n:
                amount, pending.n = pending.n, 0.0
                counter.inc(amount)


TALLY = Tally()

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
    hits, misses, sent = _Pending(), _Pending(), _Pending()
    TALLY.pending.extend([(hits, cache.labels("hit")), (misses, cache.labels("miss")), (sent, bundles)])
    READ_CACHE_HIT, READ_CACHE_MISS, BUNDLE_BYTES = hits, misses, sent


def family(name: str) -> Any:
    """One of the request metrics start() made (requests, latency, unavailable, refused)."""
    return _families[name]


def database_error(operation: str, unavailable: bool) -> None:
    if _database_errors is not None:
        _database_errors.labels(operation, "unavailable" if unavailable else "other").inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: this process's metrics, or every worker's.

    Call `TALLY.flush()` first, on the event loop's thread."""
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
