"""Queries of releases. The active release of an account is its release with the highest seq."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import sids
from ..domain.model import Configuration, Page, Release
from .paging import Cursor, Executor, ListQuery
from .tables import configurations as c
from .tables import releases as r

# The key column (seq) is first for paging and dropped when the row becomes a Release.
_columns = sa.select(r.c.seq, r.c.id, r.c.sid, r.c.account_sid, c.c.sid, r.c.date_created).join_from(
    r, c, r.c.configuration_id == c.c.id
)
_by_sid = _columns.where(r.c.account_sid == sa.bindparam("account"), r.c.sid == sa.bindparam("sid"))
_active = (
    sa.select(r.c.seq, r.c.id, r.c.sid, r.c.account_sid, c.c.sid, r.c.date_created, r.c.configuration_id)
    .join_from(r, c, r.c.configuration_id == c.c.id)
    .where(r.c.account_sid == sa.bindparam("account"))
    .order_by(r.c.seq.desc())
    .limit(1)
)


def _release(row: Sequence[Any]) -> Release:
    return Release(row[1], row[2], row[3], row[4], row[5])


def get(conn: Executor, account_sid: str, sid: str) -> Release | None:
    if not sids.is_sid(sid, sids.RELEASE):
        return None
    row = conn.execute(_by_sid, {"account": account_sid, "sid": sids.normalise(sid)}).first()
    return None if row is None else _release(row)


def active(conn: Executor, account_sid: str) -> Release | None:
    row = conn.execute(_active, {"account": account_sid}).first()
    return None if row is None else _release(row)


def active_configuration_id(conn: Executor, account_sid: str) -> int | None:
    row = conn.execute(_active, {"account": account_sid}).first()
    return None if row is None else int(row[6])


def insert(conn: Connection, configuration: Configuration, seq: int, when: datetime) -> Release:
    sid = sids.new_sid(sids.RELEASE)
    new_id = conn.execute(
        r.insert()
        .values(
            sid=sid,
            account_sid=configuration.account_sid,
            configuration_id=configuration.id,
            seq=seq,
            date_created=when,
        )
        .returning(r.c.id)
    ).scalar_one()
    return Release(new_id, sid, configuration.account_sid, configuration.sid, when)


_list = ListQuery(_columns.where(r.c.account_sid == sa.bindparam("account")), r.c.seq)


def list_page(conn: Executor, account_sid: str, size: int, cursor: Cursor | None) -> Page[Release]:
    return _list.page(conn, {"account": account_sid}, size, cursor, _release)
