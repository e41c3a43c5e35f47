"""Queries of console sessions: one row per signed-in browser, found by the digest of its id."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .paging import Executor
from .tables import console_sessions

_find = sa.select(
    console_sessions.c.account_sid, console_sessions.c.credential_sid, console_sessions.c.date_expires
).where(console_sessions.c.id_hash == sa.bindparam("id_hash"))


def insert(
    conn: Connection,
    id_hash: str,
    account_sid: str,
    credential_sid: str,
    created: datetime,
    expires: datetime,
) -> None:
    conn.execute(
        console_sessions.insert().values(
            id_hash=id_hash,
            account_sid=account_sid,
            credential_sid=credential_sid,
            date_created=created,
            date_expires=expires,
        )
    )


def find(conn: Executor, id_hash: str) -> tuple[str, str, datetime] | None:
    """(account SID, credential SID, expiry in UTC) of the session, or None when it has ended."""
    row = conn.execute(_find, {"id_hash": id_hash}).first()
    if row is None:
        return None
    expires: datetime = row[2]
    if expires.tzinfo is None:  # SQLite keeps no offset; every stored time is UTC
        expires = expires.replace(tzinfo=UTC)
    return str(row[0]), str(row[1]), expires


def delete(conn: Connection, id_hash: str) -> None:
    conn.execute(console_sessions.delete().where(console_sessions.c.id_hash == id_hash))


def delete_of_account(conn: Connection, account_sid: str) -> int:
    result = conn.execute(console_sessions.delete().where(console_sessions.c.account_sid == account_sid))
    return int(result.rowcount)


def delete_of_credential(conn: Connection, credential_sid: str) -> int:
    result = conn.execute(
        console_sessions.delete().where(console_sessions.c.credential_sid == credential_sid)
    )
    return int(result.rowcount)


def delete_expired(conn: Connection, when: datetime) -> None:
    conn.execute(console_sessions.delete().where(console_sessions.c.date_expires < when))
