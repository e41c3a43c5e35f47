"""Where a request's time goes: the ASGI app called in-process, without HTTP parsing or sockets.

    python bench/inprocess.py [--scale 0.02] [--requests 20000] [--only NAME] [--cprofile NAME] [--cold]
                              [--rounds 1] [--metrics] [--access-log] [--observe] [--cpu]

Seeds a small SQLite account (bench/seed.py), then calls the app directly with a synthetic ASGI
scope for each hot read and prints microseconds per request beside the bare Starlette baseline
(bench/baseline.py) called the same way. `--cprofile NAME` prints the top functions of one
endpoint; `--cold` empties the read cache (api/cache.py) before every request, to time misses.
`--metrics` and `--access-log` turn on FLEXPLUGINS_METRICS and the access log (api/observe.py),
to time what they add (send stderr to /dev/null with the access log on). `--observe` times only
that layer: the bare baseline alone and wrapped in it, with metrics off, on, and the access log too,
interleaved in one process (the difference is what the layer costs a request). `--cpu` times the
process's CPU instead of the clock, which other processes on a busy machine disturb less.
This isolates the application's own cost; bench/run.py measures the whole server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import seed as seeding  # noqa: E402

from flexplugins.api.app import create_app  # noqa: E402
from flexplugins.config import Settings  # noqa: E402

API = "/v1/PluginService"
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope_for(path_and_query: str, auth: bytes) -> dict[str, Any]:
    parts = urlsplit(path_and_query)
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"user-agent", b"wrk"),
            (b"authorization", auth),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def call(app: App, scope: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


CLOCK = time.perf_counter


async def per_request_us(app: App, scope: dict[str, Any], count: int, cold: bool = False) -> float:
    """Microseconds per request; `cold` empties the read cache before each (every read is a miss)."""
    status = await call(app, scope)
    if status != 200:
        raise SystemExit(f"{scope['path']} answered {status}")
    responses = getattr(getattr(app, "state", None), "responses", None)
    started = CLOCK()
    for _ in range(count):
        if cold and responses is not None:
            responses.clear()
        await call(app, scope)
    return (CLOCK() - started) / count * 1e6


async def lifespan(app: App) -> Callable[[], Awaitable[None]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        if message["type"].startswith("lifespan.shutdown"):
            stopped.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive, send))
    await queue.put({"type": "lifespan.startup"})
    await started.wait()

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task

    return stop


def endpoints(seeded: seeding.Seeded, page_url: str) -> list[tuple[str, str]]:
    plugin = seeded.plugin_sid
    return [
        ("fetch plugin by SID", f"{API}/Plugins/{plugin}"),
        ("fetch plugin by name", f"{API}/Plugins/{seeded.plugin_name}"),
        ("fetch version by version string", f"{API}/Plugins/{plugin}/Versions/{seeded.version_string}"),
        ("list configurations page 1", f"{API}/Configurations?PageSize=10"),
        ("list configurations by PageToken", page_url),
        ("list releases page 1", f"{API}/Releases?PageSize=10"),
        ("list configured plugins (20)", f"{API}/Configurations/{seeded.configuration_sid}/Plugins"),
        ("Releases/Active", f"{API}/Releases/Active"),
        ("runtime manifest", "/flexplugins/v1/Runtime/Manifest"),
    ]


async def observe_layer(args: argparse.Namespace) -> None:
    from flexplugins.api.observe import MetricsAccess, Observe

    auth = b"Basic " + base64.b64encode(b"AC00000000000000000000000000000001:x")
    scope = scope_for("/x", auth)
    off, on = MetricsAccess("off"), MetricsAccess("on")
    apps: dict[str, App] = {
        "bare Starlette baseline": baseline.app,
        "+ request ID (metrics off)": Observe(baseline.app, metrics=off, access_log=False),
        "+ request ID, metrics on": Observe(baseline.app, metrics=on, access_log=False),
        "+ request ID, metrics, access log": Observe(baseline.app, metrics=on, access_log=True),
    }
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, app in apps.items():
            us = await per_request_us(app, scope, args.requests)
            best[name] = min(us, best.get(name, us))
    base_us = best["bare Starlette baseline"]
    for name, us in best.items():
        print(f"{name:40} {us:8.2f} us  (+{us - base_us:5.2f} us)")


async def main_async(args: argparse.Namespace) -> None:
    if args.observe:
        await observe_layer(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/profile.db"
        seeded = seeding.seed(url, args.scale)
        observe: dict[str, Any] = {}
        if args.metrics:
            observe["metrics"] = "on"
        if args.access_log:
            observe["access_log"] = True
        app = create_app(Settings(database_url=url, data_dir=Path(tmp), **observe))
        stop = await lifespan(app)
        auth = b"Basic " + base64.b64encode(f"{seeded.account_sid}:{seeded.token}".encode())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8080", auth=(seeded.account_sid, seeded.token)
        ) as client:
            first = (await client.get(f"{API}/Configurations", params={"PageSize": 10})).json()
            page_url = first["meta"]["next_page_url"].replace("http://127.0.0.1:8080", "")
        chosen = [(name, path) for name, path in endpoints(seeded, page_url) if args.only in name]
        # On a busy machine one run is noise: each figure is the best of `rounds` runs, interleaved.
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            us = await per_request_us(baseline.app, scope_for("/x", auth), args.requests)
            best["baseline"] = min(us, best.get("baseline", us))
            for name, path in chosen:
                scope = scope_for(path, auth)
                if args.cprofile and args.cprofile in name:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    us = await per_request_us(app, scope, args.requests, args.cold)
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
                else:
                    us = await per_request_us(app, scope, args.requests, args.cold)
                best[name] = min(us, best.get(name, us))
        base_us = best["baseline"]
        print(f"{'baseline (bare Starlette)':40} {base_us:8.1f} us")
        for name, _path in chosen:
            us = best[name]
            print(f"{name:40} {us:8.1f} us  ({us / base_us:4.1f}x the baseline)")
        await stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--only", default="", help="only endpoints whose name contains this")
    parser.add_argument("--rounds", type=int, default=1, help="report the best of this many runs")
    parser.add_argument("--cprofile", help="profile the endpoint whose name contains this")
    parser.add_argument("--cold", action="store_true", help="empty the read cache before every request")
    parser.add_argument("--metrics", action="store_true", help="FLEXPLUGINS_METRICS=on")
    parser.add_argument("--access-log", action="store_true", help="one JSON line per request on stderr")
    parser.add_argument("--observe", action="store_true", help="time the request-ID/metrics/log layer alone")
    parser.add_argument(
        "--cpu", action="store_true", help="time this process's CPU, not the clock (steadier when shared)"
    )
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
