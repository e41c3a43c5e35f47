"""Queries of plugins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import sids
from ..domain.model import Page, Plugin
from .paging import Cursor, Executor, ListQuery
from .tables import plugins

_columns = sa.select(
    plugins.c.id,
    plugins.c.sid,
    plugins.c.account_sid,
    plugins.c.unique_name,
    plugins.c.friendly_name,
    plugins.c.description,
    plugins.c.archived,
    plugins.c.date_created,
    plugins.c.date_updated,
)
_by_sid = _columns.where(
    plugins.c.account_sid == sa.bindparam("account"), plugins.c.sid == sa.bindparam("key")
)
_by_name = _columns.where(
    plugins.c.account_sid == sa.bindparam("account"), plugins.c.unique_name == sa.bindparam("key")
)


def get(conn: Executor, account_sid: str, sid_or_name: str, *, lock: bool = False) -> Plugin | None:
    """A plugin of the account by its SID or its unique name."""
    if sids.is_sid(sid_or_name, sids.PLUGIN):
        stmt, key = _by_sid, sids.normalise(sid_or_name)
    else:
        stmt, key = _by_name, sid_or_name
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt, {"account": account_sid, "key": key}).first()
    return None if row is None else Plugin(*row)


def insert(
    conn: Connection,
    account_sid: str,
    unique_name: str,
    friendly_name: str | None,
    description: str | None,
    when: datetime,
) -> Plugin:
    sid = sids.new_sid(sids.PLUGIN)
    new_id = conn.execute(
        plugins.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            unique_name=unique_name,
            friendly_name=friendly_name,
            description=description,
            archived=False,
            date_created=when,
            date_updated=when,
        )
        .returning(plugins.c.id)
    ).scalar_one()
    return Plugin(new_id, sid, account_sid, unique_name, friendly_name, description, False, when, when)


def update(conn: Connection, plugin_id: int, values: dict[str, object]) -> None:
    conn.execute(plugins.update().where(plugins.c.id == plugin_id).values(**values))


_list = ListQuery(_columns.where(plugins.c.account_sid == sa.bindparam("account")), plugins.c.id)


def list_page(conn: Executor, account_sid: str, size: int, cursor: Cursor | None) -> Page[Plugin]:
    return _list.page(conn, {"account": account_sid}, size, cursor, lambda row: Plugin(*row))
