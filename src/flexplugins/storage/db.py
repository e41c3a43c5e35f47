"""The database handle: engines for reads and for writes, transactions, and migrations.

Reads run in autocommit mode (one statement, no BEGIN/COMMIT round trips); writes run in one
transaction each. On SQLite a write transaction starts with BEGIN IMMEDIATE, so writers queue
for the lock up front instead of failing when they upgrade; the file is in WAL mode with
synchronous=FULL, so every committed transaction survives a crash or a power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from .. import metrics
from ..domain.errors import unavailable
from . import tables
from .counters import BatchedCounters, SyncCounters
from .reader import Reader

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT = 3  # seconds: a PostgreSQL server that is down fails requests fast (503)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def normalise_url(url: str) -> str:
    """Accept the URLs people write (postgres://, postgresql://) and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for PostgreSQL, an in-memory database or a SQLite URI."""
    location = sa.engine.make_url(normalise_url(url))
    if not location.drivername.startswith("sqlite") or location.query.get("uri") == "true":
        return None
    if not location.database or location.database == ":memory:":
        return None
    return Path(location.database).absolute()


def make_sqlite_directory(url: str) -> None:
    """The directory of a SQLite database file, made (0700) when missing, as a first start does:
    the database, and in the data directory the server key, live there. For `serve` and `db upgrade`
    only; the other commands refuse a database that does not exist."""
    path = sqlite_file(url)
    if path is not None and not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def _private_sqlite_files(database: str) -> None:
    """The database file and its WAL/SHM files readable by their owner only (0600).

    The file is created here, empty (a valid empty database), before SQLite would make it 0644;
    SQLite gives the -wal and -shm files it makes later the database file's mode, and any made
    looser by an older release are tightened.
    """
    path = Path(database)
    # An existing file, or a directory we may not write to: SQLite says what is wrong when it opens.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in _SQLITE_FILES:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):  # not there, or not ours to change
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)


def _sqlite_engine(url: str, *, write: bool) -> Engine:
    database = sa.engine.make_url(url).database
    on_disk = bool(database) and database != ":memory:"
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=sa.pool.QueuePool,
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit transactions get in the way).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        if on_disk:
            _private_sqlite_files(str(database))

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if write:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: str, *, write: bool) -> Engine:
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": 10,
        "connect_args": {"connect_timeout": CONNECT_TIMEOUT},
    }
    if not write:
        options["isolation_level"] = "AUTOCOMMIT"
    return sa.create_engine(url, **options)


def _is_unavailable(error: exc.DBAPIError) -> bool:
    if error.connection_invalidated or isinstance(error, exc.OperationalError):
        return True
    return isinstance(error, exc.InterfaceError)


def _describe(error: exc.DBAPIError) -> str:
    return _describe_text(str(error.orig) if error.orig is not None else "")


def _describe_text(text: str) -> str:
    text = text.lower()
    if "readonly" in text or "read-only" in text:
        return "The database is read-only; the server cannot record changes"
    if "disk" in text and "full" in text:
        return "The database disk is full; the server cannot record changes"
    if "locked" in text or "busy" in text:
        return "The database is busy; try again shortly"
    return "The database is unavailable; try again shortly"


class _Reading:
    """`with db.read() as reader`: driver failures become 503s and the broken connection is dropped.

    A class rather than a generator-based context manager: it wraps every hot read.
    """

    __slots__ = ("_reader", "_driver_error", "_driver_unavailable")

    def __init__(self, reader: Reader, dbapi: Any) -> None:
        self._reader = reader
        self._driver_error: type[Exception] = dbapi.Error
        self._driver_unavailable: tuple[type[Exception], ...] = (dbapi.OperationalError, dbapi.InterfaceError)

    def __enter__(self) -> Reader:
        return self._reader

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is None:
            return
        if isinstance(error, self._driver_error):
            self._reader.discard()
            down = isinstance(error, self._driver_unavailable)
            metrics.database_error("read", down)
            if down:
                raise unavailable(_describe_text(str(error))) from error
        elif isinstance(error, exc.DBAPIError):
            self._reader.discard()
            down = _is_unavailable(error)
            metrics.database_error("read", down)
            if down:
                raise unavailable(_describe(error)) from error


class Database:
    """One database, shared by every server process that points at it."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        make = _sqlite_engine if self.is_sqlite else _postgres_engine
        if self.is_sqlite:
            database = sa.engine.make_url(self.url).database
            if database and database != ":memory:" and Path(database).parent.is_dir():
                _private_sqlite_files(database)
        self.read_engine = make(self.url, write=False)
        self.write_engine = make(self.url, write=True)
        self.reader = Reader(self.read_engine)
        self._reading = _Reading(self.reader, self.read_engine.dialect.loaded_dbapi)
        self._write_turn: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        )
        self.counters: SyncCounters | BatchedCounters
        if self.is_sqlite:
            self.counters = SyncCounters(self.read)
        else:
            conninfo = sa.engine.make_url(self.url).set(drivername="postgresql")
            self.counters = BatchedCounters(
                self.read_engine, conninfo.render_as_string(hide_password=False), CONNECT_TIMEOUT
            )

    def read(self) -> _Reading:
        """The reader: each statement sees all committed writes (no transaction is held)."""
        return self._reading

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error.

        On SQLite the writers of this process first queue on a lock, in turn, instead of in
        SQLite's busy handler, which sleeps and retries with growing pauses and so lets a writer
        wait seconds behind others that arrived later. The lock orders nothing that matters for
        correctness: BEGIN IMMEDIATE still serialises writers across processes.
        """
        try:
            with self._write_turn, self.write_engine.begin() as conn:
                yield conn
        except exc.DBAPIError as error:
            down = _is_unavailable(error)
            if not isinstance(error, exc.IntegrityError):  # a rule the database holds, not a failure
                metrics.database_error("write", down)
            if down:
                raise unavailable(_describe(error)) from error
            raise

    def lock_account(self, conn: Connection, account_sid: str) -> None:
        """Serialise the writes of one account and mark it changed (see accounts.change_seq).

        Every transaction that changes an account's resources calls this first: the row lock
        orders them on PostgreSQL (SQLite's BEGIN IMMEDIATE already does), and the incremented
        counter tells every process's read cache that what it holds for the account is old.
        """
        accounts = tables.accounts
        conn.execute(
            accounts.update()
            .where(accounts.c.sid == account_sid)
            .values(change_seq=accounts.c.change_seq + 1)
        )

    def ping(self) -> None:
        with self.read() as reader:
            reader.exec_driver_sql("SELECT 1")

    def server_secret(self, name: str, default: str | None = None) -> str:
        """A secret shared by every process on this database, made on first use (random unless given).

        The first process to store it wins: every other gets the stored value, whatever it offered.
        """
        table = tables.server_secrets
        with self.read() as conn:
            value = conn.execute(sa.select(table.c.value).where(table.c.name == name)).scalar()
        if value is not None:
            return str(value)
        try:
            with self.write() as conn:
                conn.execute(table.insert().values(name=name, value=default or secrets.token_hex(32)))
        except exc.IntegrityError:
            pass  # another process made it first
        with self.read() as conn:
            return str(conn.execute(sa.select(table.c.value).where(table.c.name == name)).scalar_one())

    def upgrade(self) -> None:
        """Apply the Alembic migrations (serialised across processes on PostgreSQL)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(804851)")
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.read_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.reader.close()
        self.read_engine.dispose()
        self.write_engine.dispose()
