"""Queries of Serverless builds and the asset versions each holds."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import sids
from ...domain.model import Page
from ...domain.serverless import AssetVersion, Build
from ..paging import Cursor, Executor, ListQuery
from ..tables import serverless_asset_versions as v
from ..tables import serverless_build_asset_versions as bv
from ..tables import serverless_builds as b
from ..tables import serverless_services as s
from .assets import version_columns

_columns = sa.select(
    b.c.id,
    b.c.sid,
    b.c.account_sid,
    s.c.sid,
    b.c.status,
    b.c.runtime,
    b.c.dependencies,
    b.c.date_created,
    b.c.date_updated,
).select_from(b.join(s, s.c.id == b.c.service_id))
_scope = (b.c.account_sid == sa.bindparam("account"), b.c.service_id == sa.bindparam("service"))
_by_sid = _columns.where(*_scope, b.c.sid == sa.bindparam("sid"))
_list = ListQuery(_columns.where(*_scope), b.c.id)
_versions = (
    version_columns.add_columns(bv.c.build_id)
    .join(bv, bv.c.asset_version_id == v.c.id)
    .where(bv.c.build_id == sa.bindparam("build"))
    .order_by(bv.c.position)
)
_versions_of_page = (
    version_columns.add_columns(bv.c.build_id)
    .join(bv, bv.c.asset_version_id == v.c.id)
    .join(b, b.c.id == bv.c.build_id)
    .where(*_scope, bv.c.build_id <= sa.bindparam("high"), bv.c.build_id >= sa.bindparam("low"))
    .order_by(bv.c.build_id, bv.c.position)
)


def _build(row: Any, versions: list[AssetVersion]) -> Build:
    id_, sid, account_sid, service_sid, status, runtime, dependencies, created, updated = row
    return Build(
        id_,
        sid,
        account_sid,
        service_sid,
        status,
        runtime,
        json.loads(dependencies),
        versions,
        created,
        updated,
    )


def get(conn: Executor, account_sid: str, service_id: int, sid: str) -> Build | None:
    row = conn.execute(_by_sid, {"account": account_sid, "service": service_id, "sid": sid}).first()
    if row is None:
        return None
    versions = [AssetVersion(*r[:10]) for r in conn.execute(_versions, {"build": row[0]}).all()]
    return _build(row, versions)


def insert(
    conn: Connection,
    account_sid: str,
    service_id: int,
    service_sid: str,
    runtime: str,
    dependencies: list[dict[str, Any]],
    versions: list[AssetVersion],
    when: datetime,
) -> Build:
    """A build, complete at once: there is nothing to compile for assets."""
    sid = sids.new_sid(sids.BUILD)
    new_id = conn.execute(
        b.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            service_id=service_id,
            status="completed",
            runtime=runtime,
            dependencies=json.dumps(dependencies),
            date_created=when,
            date_updated=when,
        )
        .returning(b.c.id)
    ).scalar_one()
    if versions:
        conn.execute(
            bv.insert(),
            [
                {"build_id": new_id, "position": index, "asset_version_id": version.id}
                for index, version in enumerate(versions)
            ],
        )
    return Build(
        new_id, sid, account_sid, service_sid, "completed", runtime, dependencies, versions, when, when
    )


def list_page(
    conn: Executor, account_sid: str, service_id: int, size: int, cursor: Cursor | None
) -> Page[Build]:
    """A page of builds with their asset versions: two queries whatever the page size."""
    params = {"account": account_sid, "service": service_id}
    page = _list.page(conn, params, size, cursor, lambda row: row)
    if not page.items:
        return Page([], page.has_next, page.has_previous, page.first_key, page.last_key)
    ids = [row[0] for row in page.items]
    held: dict[int, list[AssetVersion]] = {}
    for r in conn.execute(_versions_of_page, {**params, "low": min(ids), "high": max(ids)}).all():
        held.setdefault(r[10], []).append(AssetVersion(*r[:10]))
    builds = [_build(row, held.get(row[0], [])) for row in page.items]
    return Page(builds, page.has_next, page.has_previous, page.first_key, page.last_key)
