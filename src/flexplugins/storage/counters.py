"""Reading accounts' write counters (accounts.change_seq) for the read cache, once per request.

Every cached read asks for its account's counter first, so this is the hottest query there is.

On SQLite it is a primary-key lookup in the same process, a few microseconds: it runs on the
fast reader.

On PostgreSQL it is a network round trip, and a blocking call would hold the event loop idle for
all of it. Instead, requests that need a counter wait (asynchronously) for the next batch: one
query on one asynchronous connection reads the counters of every account asked for since the
previous query began, and answers all of them. Under load many requests share one round trip;
alone, a request costs one round trip as before. A request only ever joins a batch whose query has
not started yet, so the value it gets was read after it arrived: a write acknowledged before the
request was sent is always seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..domain.errors import unavailable
from .tables import accounts

_one = sa.select(accounts.c.change_seq).where(accounts.c.sid == sa.bindparam("account"))
_many = sa.select(accounts.c.sid, accounts.c.change_seq).where(
    accounts.c.sid == sa.func.any(sa.bindparam("accounts"))
)


class SyncCounters:
    """SQLite: read the counter directly on the fast reader."""

    def __init__(self, read: Any) -> None:
        self._read = read  # Database.read: the fast reader, with driver failures turned into 503s

    async def get(self, account_sid: str) -> int:
        with self._read() as conn:
            value = conn.execute(_one, {"account": account_sid}).scalar()
        return 0 if value is None else int(value)

    async def close(self) -> None:
        return None


class BatchedCounters:
    """PostgreSQL: counters of concurrent requests read together, on one async connection."""

    def __init__(self, engine: Engine, conninfo: str, connect_timeout: int) -> None:
        self._sql = str(_many.compile(dialect=engine.dialect))
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None
        self._waiting: dict[str, list[asyncio.Future[int]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def get(self, account_sid: str) -> int:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a new server in the same process)
            self._loop, self._conn, self._waiting, self._worker = loop, None, {}, None
        future: asyncio.Future[int] = loop.create_future()
        self._waiting.setdefault(account_sid, []).append(future)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                found = await self._query(list(batch))
            except Exception as error:  # the database is down or the connection broke
                metrics.database_error("counters", True)
                await self._drop_connection()
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            failure = unavailable()
                            failure.__cause__ = error
                            future.set_exception(failure)
                continue
            for sid, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(sid, 0))

    async def _query(self, sids: list[str]) -> dict[str, int]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=self._connect_timeout
            )
        cursor = await self._conn.execute(self._sql, {"accounts": sids})
        return {sid: int(seq) for sid, seq in await cursor.fetchall()}

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        if self._loop is not None and self._loop is asyncio.get_running_loop():
            await self._drop_connection()
        self._conn = None
