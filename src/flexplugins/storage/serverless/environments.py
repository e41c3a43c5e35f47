"""Queries of Serverless environments, and of what an environment's domain serves."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import sids
from ...domain.model import Page
from ...domain.serverless import Environment, HostedAsset
from ..paging import Cursor, Executor, ListQuery
from ..tables import serverless_asset_versions as v
from ..tables import serverless_build_asset_versions as bv
from ..tables import serverless_builds as b
from ..tables import serverless_deployments as d
from ..tables import serverless_environments as e
from ..tables import serverless_services as s

_columns = sa.select(
    e.c.id,
    e.c.sid,
    e.c.account_sid,
    s.c.sid,
    e.c.unique_name,
    e.c.domain_suffix,
    e.c.domain_name,
    b.c.sid,
    e.c.date_created,
    e.c.date_updated,
).select_from(e.join(s, s.c.id == e.c.service_id).outerjoin(b, b.c.id == e.c.build_id))
_scope = (e.c.account_sid == sa.bindparam("account"), e.c.service_id == sa.bindparam("service"))
_by_sid = _columns.where(*_scope, e.c.sid == sa.bindparam("sid"))
_by_name = _columns.where(*_scope, e.c.unique_name == sa.bindparam("name"))
_domain_taken = sa.select(e.c.id).where(e.c.domain_name == sa.bindparam("domain"))
_list = ListQuery(_columns.where(*_scope), e.c.id)


def get(conn: Executor, account_sid: str, service_id: int, sid: str) -> Environment | None:
    row = conn.execute(_by_sid, {"account": account_sid, "service": service_id, "sid": sid}).first()
    return None if row is None else Environment(*row)


def get_by_name(conn: Executor, account_sid: str, service_id: int, name: str) -> Environment | None:
    row = conn.execute(_by_name, {"account": account_sid, "service": service_id, "name": name}).first()
    return None if row is None else Environment(*row)


def domain_taken(conn: Executor, domain: str) -> bool:
    return conn.execute(_domain_taken, {"domain": domain}).first() is not None


def insert(
    conn: Connection,
    account_sid: str,
    service_id: int,
    unique_name: str,
    domain_suffix: str | None,
    domain_name: str,
    when: datetime,
) -> str:
    sid = sids.new_sid(sids.ENVIRONMENT)
    conn.execute(
        e.insert().values(
            sid=sid,
            account_sid=account_sid,
            service_id=service_id,
            unique_name=unique_name,
            domain_suffix=domain_suffix,
            domain_name=domain_name,
            build_id=None,
            date_created=when,
            date_updated=when,
        )
    )
    return sid


def set_build(conn: Connection, environment_id: int, build_id: int, when: datetime) -> None:
    conn.execute(e.update().where(e.c.id == environment_id).values(build_id=build_id, date_updated=when))


def delete(conn: Connection, environment_id: int) -> None:
    """The environment and its deployments (the builds stay: they belong to the service)."""
    conn.execute(d.delete().where(d.c.environment_id == environment_id))
    conn.execute(e.delete().where(e.c.id == environment_id))


def list_page(
    conn: Executor, account_sid: str, service_id: int, size: int, cursor: Cursor | None
) -> Page[Environment]:
    params = {"account": account_sid, "service": service_id}
    return _list.page(conn, params, size, cursor, lambda row: Environment(*row))


# The asset version at a path of the build an environment runs; a build holds one per path.
_hosted = (
    sa.select(v.c.account_sid, v.c.sha256, v.c.visibility, v.c.content_type)
    .select_from(e.join(bv, bv.c.build_id == e.c.build_id).join(v, v.c.id == bv.c.asset_version_id))
    .where(e.c.domain_name == sa.bindparam("domain"), v.c.path == sa.bindparam("path"))
    .order_by(bv.c.position.desc())
    .limit(1)
)


def hosted(conn: Executor, domain_name: str, path: str) -> HostedAsset | None:
    row = conn.execute(_hosted, {"domain": domain_name, "path": path}).first()
    return None if row is None else HostedAsset(*row)
