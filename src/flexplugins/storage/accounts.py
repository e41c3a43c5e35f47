"""Queries of accounts and their credentials (auth tokens, API keys, runtime tokens)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.model import Account
from .paging import Executor
from .tables import accounts, api_keys


def insert_account(
    conn: Connection, sid: str, friendly_name: str, token_hash: str, when: datetime
) -> Account:
    conn.execute(
        accounts.insert().values(
            sid=sid, friendly_name=friendly_name, auth_token_hash=token_hash, date_created=when
        )
    )
    return Account(sid, friendly_name, when)


def list_accounts(conn: Executor) -> list[Account]:
    stmt = sa.select(accounts.c.sid, accounts.c.friendly_name, accounts.c.date_created).order_by(
        accounts.c.date_created, accounts.c.sid
    )
    return [Account(*row) for row in conn.execute(stmt)]


_exists = sa.select(accounts.c.sid).where(accounts.c.sid == sa.bindparam("sid"))


def account_exists(conn: Executor, sid: str) -> bool:
    return conn.execute(_exists, {"sid": sid}).first() is not None


def count_accounts(conn: Executor) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())


_token_hash = sa.select(accounts.c.auth_token_hash).where(accounts.c.sid == sa.bindparam("sid"))
_key_row = sa.select(api_keys.c.account_sid, api_keys.c.secret_hash, api_keys.c.kind).where(
    api_keys.c.sid == sa.bindparam("sid"), api_keys.c.revoked == sa.false()
)


def token_hash(conn: Executor, account_sid: str) -> str | None:
    value = conn.execute(_token_hash, {"sid": account_sid}).scalar()
    return None if value is None else str(value)


def set_token_hash(conn: Connection, account_sid: str, token_hash: str) -> bool:
    result = conn.execute(
        accounts.update().where(accounts.c.sid == account_sid).values(auth_token_hash=token_hash)
    )
    return result.rowcount > 0


def key_row(conn: Executor, key_sid: str) -> tuple[str, str, str] | None:
    row = conn.execute(_key_row, {"sid": key_sid}).first()
    return None if row is None else (row[0], row[1], row[2])


def insert_key(
    conn: Connection,
    sid: str,
    account_sid: str,
    friendly_name: str,
    secret_hash: str,
    kind: str,
    when: datetime,
) -> None:
    conn.execute(
        api_keys.insert().values(
            sid=sid,
            account_sid=account_sid,
            friendly_name=friendly_name,
            secret_hash=secret_hash,
            kind=kind,
            date_created=when,
        )
    )


def list_keys(conn: Executor, account_sid: str, kind: str) -> list[tuple[str, str, datetime, bool]]:
    stmt = (
        sa.select(api_keys.c.sid, api_keys.c.friendly_name, api_keys.c.date_created, api_keys.c.revoked)
        .where(api_keys.c.account_sid == account_sid, api_keys.c.kind == kind)
        .order_by(api_keys.c.date_created, api_keys.c.sid)
    )
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(stmt)]


def revoke_key(conn: Connection, account_sid: str, sid: str) -> bool:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.sid == sid, api_keys.c.account_sid == account_sid)
        .values(revoked=True)
    )
    return result.rowcount > 0


def next_release_seq(conn: Connection, account_sid: str) -> int:
    """Take the next release number of the account; the row lock orders concurrent releases."""
    stmt = (
        accounts.update()
        .where(accounts.c.sid == account_sid)
        .values(release_seq=accounts.c.release_seq + 1)
        .returning(accounts.c.release_seq)
    )
    return int(conn.execute(stmt).scalar_one())


_account = sa.select(accounts.c.sid, accounts.c.friendly_name, accounts.c.date_created).where(
    accounts.c.sid == sa.bindparam("sid")
)


def get_account(conn: Executor, sid: str) -> Account | None:
    row = conn.execute(_account, {"sid": sid}).first()
    return None if row is None else Account(*row)


def date_created(conn: Executor, sid: str) -> datetime | None:
    found = get_account(conn, sid)
    return None if found is None else found.date_created
