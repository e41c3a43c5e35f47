"""The accounts' write counters the read cache keys on (storage/counters.py), on a real database.

The property that makes the cache safe: a counter read that starts after a write committed sees
that write, even while other reads keep a batch query in flight on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest

from flexplugins.domain.errors import ApiError
from flexplugins.service import accounts
from flexplugins.storage.counters import BatchedCounters
from flexplugins.storage.db import Database


def bump(db: Database, account_sid: str) -> None:
    """One committed write of the account, the way every service write marks it."""
    with db.write() as conn:
        db.lock_account(conn, account_sid)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.upgrade()
    return database


def test_a_read_after_a_commit_sees_it_while_other_reads_keep_batches_in_flight(db: Database) -> None:
    busy, _ = accounts.create_account(db, "busy")
    watched, _ = accounts.create_account(db, "watched")
    bump(db, watched.sid)  # a counter above 0, so that a read answered "not found" shows too
    queries = 0
    if isinstance(db.counters, BatchedCounters):
        real = db.counters._query

        async def counted(sids: list[str]) -> dict[str, int]:
            nonlocal queries
            queries += 1
            found = await real(sids)
            await asyncio.sleep(0.002)  # a slower network: queries stay in flight for a while
            return found

        db.counters._query = counted  # type: ignore[method-assign]

    async def scenario() -> int:
        stop = asyncio.Event()
        reads = 0

        async def hammer(sid: str) -> None:
            nonlocal reads
            while not stop.is_set():
                await db.counters.get(sid)
                reads += 1
                await asyncio.sleep(0)  # SQLite's reads never wait: let the others run

        # Some hammer the watched account itself: a read that shared their query in flight
        # (instead of waiting for the next) would return the counter from before the commit.
        hammers = [asyncio.create_task(hammer(busy.sid if n % 2 else watched.sid)) for n in range(16)]
        await asyncio.sleep(0.05)
        start = await db.counters.get(watched.sid)
        assert start == 1
        for n in range(1, 41):
            # Committed in another thread, as the server's writes are, while batches keep going.
            await asyncio.to_thread(bump, db, watched.sid)
            assert await db.counters.get(watched.sid) == start + n
            await asyncio.sleep(0)
        stop.set()
        await asyncio.gather(*hammers)
        await db.counters.close()
        return reads

    try:
        reads = asyncio.run(scenario())
    finally:
        db.dispose()
    assert reads > 40
    if isinstance(db.counters, BatchedCounters):
        assert 0 < queries < reads + 41  # reads shared queries


def test_many_concurrent_reads_share_queries_and_get_their_own_account(db: Database) -> None:
    made = [accounts.create_account(db, f"a{n}")[0] for n in range(3)]
    for index, account in enumerate(made):
        for _ in range(index + 1):
            bump(db, account.sid)
    unknown = "AC" + "f" * 32

    async def scenario() -> list[int]:
        asked = [account.sid for account in made] * 100 + [unknown]
        values = await asyncio.gather(*(db.counters.get(sid) for sid in asked))
        await db.counters.close()
        return list(values)

    try:
        values = asyncio.run(scenario())
    finally:
        db.dispose()
    assert values == [1, 2, 3] * 100 + [0]


def test_an_unreachable_postgresql_fails_every_waiting_read_with_503() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/none")
    assert isinstance(db.counters, BatchedCounters)

    async def scenario() -> list[BaseException | int]:
        results = await asyncio.gather(
            *(db.counters.get("AC" + "0" * 32) for _ in range(5)), return_exceptions=True
        )
        await db.counters.close()
        return list(results)

    try:
        results = asyncio.run(scenario())
    finally:
        db.dispose()
    assert all(isinstance(r, ApiError) and r.status == 503 and r.code == 20503 for r in results), results
