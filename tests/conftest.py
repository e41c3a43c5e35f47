"""Test fixtures: a real server (uvicorn, in a thread) on a real database, SQLite and PostgreSQL.

Every test gets a fresh account on the shared server, so tests are isolated without recreating
the database. The PostgreSQL database is created for the session and dropped afterwards; set
FLEXPLUGINS_TEST_PG=required (as .ci/run does) to fail rather than skip when it is unreachable,
and FLEXPLUGINS_TEST_PG_URL to use another server than postgresql://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from flexplugins.api.app import create_app
from flexplugins.config import Settings
from flexplugins.service import accounts
from flexplugins.storage.db import Database

PG_ADMIN_URL = os.environ.get("FLEXPLUGINS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("FLEXPLUGINS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
# Every server of the session (threads and `serve` subprocesses, each with its own data directory)
# shares one server key, as the processes of one deployment must; tests of the key file unset it.
os.environ.setdefault("FLEXPLUGINS_SECRET_KEY", secrets.token_hex(32))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    try:
        with _pg_admin():
            return True
    except Exception:
        if os.environ.get("FLEXPLUGINS_TEST_PG") == "required":
            raise
        return False


def make_database_url(backend: str, tmp: Path, pg_available: bool) -> Iterator[str]:
    """A brand-new empty database of this backend; dropped when the generator ends."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / ('fp-' + uuid.uuid4().hex[:8] + '.db')}"
        return
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = "fptest_" + uuid.uuid4().hex[:12]
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory, pg_available: bool) -> Iterator[str]:
    yield from make_database_url(backend, tmp_path_factory.mktemp(backend), pg_available)


@dataclass
class LiveServer:
    url: str
    db: Database
    settings: Settings


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test runner owns the signals
        pass


def start_server(
    settings: Settings, prepare: Callable[[Starlette], object] | None = None
) -> Iterator[LiveServer]:
    """A real server in a thread; `prepare` may change the application first (add a route)."""
    db = Database(settings.database_url)
    db.upgrade()
    app = create_app(settings, db, migrate=False)
    if prepare is not None:
        prepare(app)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = _ThreadServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The shared server takes thousands of deliberately refused credentials from one address, so
    # its failed-authentication back-off is off; tests/test_throttle.py runs servers with the defaults.
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        failed_auth_per_address=0,
        failed_auth_per_account=0,
    )
    yield from start_server(settings)


@dataclass
class Credentials:
    sid: str
    token: str


@pytest.fixture
def account(server: LiveServer) -> Credentials:
    created, token = accounts.create_account(server.db)
    return Credentials(created.sid, token)


@pytest.fixture
def other_account(server: LiveServer) -> Credentials:
    created, token = accounts.create_account(server.db)
    return Credentials(created.sid, token)


@pytest.fixture
def http(server: LiveServer, account: Credentials) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(account.sid, account.token), timeout=30) as client:
        yield client


@pytest.fixture
def twilio_client(server: LiveServer, account: Credentials):  # type: ignore[no-untyped-def]
    from twilio.rest import Client

    client = Client(account.sid, account.token)
    client.flex_api.base_url = server.url
    return client
