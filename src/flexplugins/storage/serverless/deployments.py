"""Queries of Serverless deployments."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import sids
from ...domain.model import Page
from ...domain.serverless import Deployment
from ..paging import Cursor, Executor, ListQuery
from ..tables import serverless_builds as b
from ..tables import serverless_deployments as d
from ..tables import serverless_environments as e
from ..tables import serverless_services as s

_columns = sa.select(
    d.c.id, d.c.sid, d.c.account_sid, s.c.sid, e.c.sid, b.c.sid, d.c.date_created, d.c.date_updated
).select_from(
    d.join(s, s.c.id == d.c.service_id).join(e, e.c.id == d.c.environment_id).join(b, b.c.id == d.c.build_id)
)
_scope = (d.c.account_sid == sa.bindparam("account"), d.c.environment_id == sa.bindparam("environment"))
_by_sid = _columns.where(*_scope, d.c.sid == sa.bindparam("sid"))
_list = ListQuery(_columns.where(*_scope), d.c.id)


def get(conn: Executor, account_sid: str, environment_id: int, sid: str) -> Deployment | None:
    params = {"account": account_sid, "environment": environment_id, "sid": sid}
    row = conn.execute(_by_sid, params).first()
    return None if row is None else Deployment(*row)


def insert(
    conn: Connection,
    account_sid: str,
    service_id: int,
    service_sid: str,
    environment_id: int,
    environment_sid: str,
    build_id: int,
    build_sid: str,
    when: datetime,
) -> Deployment:
    sid = sids.new_sid(sids.DEPLOYMENT)
    new_id = conn.execute(
        d.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            service_id=service_id,
            environment_id=environment_id,
            build_id=build_id,
            date_created=when,
            date_updated=when,
        )
        .returning(d.c.id)
    ).scalar_one()
    return Deployment(new_id, sid, account_sid, service_sid, environment_sid, build_sid, when, when)


def list_page(
    conn: Executor, account_sid: str, environment_id: int, size: int, cursor: Cursor | None
) -> Page[Deployment]:
    params = {"account": account_sid, "environment": environment_id}
    return _list.page(conn, params, size, cursor, lambda row: Deployment(*row))
