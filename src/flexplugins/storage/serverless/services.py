"""Queries of Serverless services."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import sids
from ...domain.model import Page
from ...domain.serverless import Service
from ..paging import Cursor, Executor, ListQuery
from ..tables import serverless_services as s

_columns = sa.select(
    s.c.id,
    s.c.sid,
    s.c.account_sid,
    s.c.unique_name,
    s.c.friendly_name,
    s.c.include_credentials,
    s.c.ui_editable,
    s.c.domain_base,
    s.c.date_created,
    s.c.date_updated,
)
_by_sid = _columns.where(s.c.account_sid == sa.bindparam("account"), s.c.sid == sa.bindparam("key"))
_by_name = _columns.where(s.c.account_sid == sa.bindparam("account"), s.c.unique_name == sa.bindparam("key"))
_base_taken = sa.select(s.c.id).where(s.c.domain_base == sa.bindparam("base"))
_list = ListQuery(_columns.where(s.c.account_sid == sa.bindparam("account")), s.c.id)


def get(conn: Executor, account_sid: str, sid_or_name: str) -> Service | None:
    """A service of the account by its SID or, as the vendor allows, its unique name."""
    if sids.is_sid(sid_or_name, sids.SERVERLESS_SERVICE):
        stmt, key = _by_sid, sids.normalise(sid_or_name)
    else:
        stmt, key = _by_name, sid_or_name
    row = conn.execute(stmt, {"account": account_sid, "key": key}).first()
    return None if row is None else Service(*row)


def domain_base_taken(conn: Executor, base: str) -> bool:
    return conn.execute(_base_taken, {"base": base}).first() is not None


def insert(
    conn: Connection,
    account_sid: str,
    unique_name: str,
    friendly_name: str,
    include_credentials: bool,
    ui_editable: bool,
    domain_base: str,
    when: datetime,
) -> Service:
    sid = sids.new_sid(sids.SERVERLESS_SERVICE)
    new_id = conn.execute(
        s.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            unique_name=unique_name,
            friendly_name=friendly_name,
            include_credentials=include_credentials,
            ui_editable=ui_editable,
            domain_base=domain_base,
            date_created=when,
            date_updated=when,
        )
        .returning(s.c.id)
    ).scalar_one()
    return Service(
        new_id,
        sid,
        account_sid,
        unique_name,
        friendly_name,
        include_credentials,
        ui_editable,
        domain_base,
        when,
        when,
    )


def update(conn: Connection, service_id: int, values: dict[str, object]) -> None:
    conn.execute(s.update().where(s.c.id == service_id).values(**values))


def list_page(conn: Executor, account_sid: str, size: int, cursor: Cursor | None) -> Page[Service]:
    return _list.page(conn, {"account": account_sid}, size, cursor, lambda row: Service(*row))


_existing = sa.select(s.c.sid).where(s.c.account_sid == sa.bindparam("account"))


def existing_sids(conn: Executor, account_sid: str) -> set[str]:
    """Every service SID of the account (a deploying account has one or two)."""
    return {str(row[0]) for row in conn.execute(_existing, {"account": account_sid}).all()}
