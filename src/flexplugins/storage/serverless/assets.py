"""Queries of Serverless assets and their versions (whose bytes live in the bundle store)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import sids
from ...domain.model import Page
from ...domain.serverless import Asset, AssetVersion
from ..paging import Cursor, Executor, ListQuery
from ..tables import serverless_asset_versions as v
from ..tables import serverless_assets as a
from ..tables import serverless_services as s

_columns = sa.select(
    a.c.id, a.c.sid, a.c.account_sid, s.c.sid, a.c.friendly_name, a.c.date_created, a.c.date_updated
).select_from(a.join(s, s.c.id == a.c.service_id))
_scope = (a.c.account_sid == sa.bindparam("account"), a.c.service_id == sa.bindparam("service"))
_by_sid = _columns.where(*_scope, a.c.sid == sa.bindparam("sid"))
_list = ListQuery(_columns.where(*_scope), a.c.id)

version_columns = sa.select(
    v.c.id,
    v.c.sid,
    v.c.account_sid,
    s.c.sid,
    a.c.sid,
    v.c.path,
    v.c.visibility,
    v.c.sha256,
    v.c.content_type,
    v.c.date_created,
).select_from(v.join(a, a.c.id == v.c.asset_id).join(s, s.c.id == v.c.service_id))
_version_scope = (v.c.account_sid == sa.bindparam("account"), v.c.asset_id == sa.bindparam("asset"))
_version_by_sid = version_columns.where(*_version_scope, v.c.sid == sa.bindparam("sid"))
_versions = ListQuery(version_columns.where(*_version_scope), v.c.id)
_version_of_service = version_columns.where(
    v.c.account_sid == sa.bindparam("account"),
    v.c.service_id == sa.bindparam("service"),
    v.c.sid == sa.bindparam("sid"),
)


def get(conn: Executor, account_sid: str, service_id: int, sid: str) -> Asset | None:
    row = conn.execute(_by_sid, {"account": account_sid, "service": service_id, "sid": sid}).first()
    return None if row is None else Asset(*row)


def insert(
    conn: Connection, account_sid: str, service_id: int, service_sid: str, friendly_name: str, when: datetime
) -> Asset:
    sid = sids.new_sid(sids.ASSET)
    new_id = conn.execute(
        a.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            service_id=service_id,
            friendly_name=friendly_name,
            date_created=when,
            date_updated=when,
        )
        .returning(a.c.id)
    ).scalar_one()
    return Asset(new_id, sid, account_sid, service_sid, friendly_name, when, when)


def list_page(
    conn: Executor, account_sid: str, service_id: int, size: int, cursor: Cursor | None
) -> Page[Asset]:
    params = {"account": account_sid, "service": service_id}
    return _list.page(conn, params, size, cursor, lambda row: Asset(*row))


def get_version(conn: Executor, account_sid: str, asset_id: int, sid: str) -> AssetVersion | None:
    row = conn.execute(_version_by_sid, {"account": account_sid, "asset": asset_id, "sid": sid}).first()
    return None if row is None else AssetVersion(*row)


def version_of_service(conn: Executor, account_sid: str, service_id: int, sid: str) -> AssetVersion | None:
    params = {"account": account_sid, "service": service_id, "sid": sid}
    row = conn.execute(_version_of_service, params).first()
    return None if row is None else AssetVersion(*row)


def insert_version(
    conn: Connection,
    asset: Asset,
    service_id: int,
    path: str,
    visibility: str,
    sha256: str,
    content_type: str,
    when: datetime,
) -> AssetVersion:
    sid = sids.new_sid(sids.ASSET_VERSION)
    new_id = conn.execute(
        v.insert()
        .values(
            sid=sid,
            account_sid=asset.account_sid,
            service_id=service_id,
            asset_id=asset.id,
            path=path,
            visibility=visibility,
            sha256=sha256,
            content_type=content_type,
            date_created=when,
        )
        .returning(v.c.id)
    ).scalar_one()
    return AssetVersion(
        new_id,
        sid,
        asset.account_sid,
        asset.service_sid,
        asset.sid,
        path,
        visibility,
        sha256,
        content_type,
        when,
    )


def list_versions(
    conn: Executor, account_sid: str, asset_id: int, size: int, cursor: Cursor | None
) -> Page[AssetVersion]:
    params = {"account": account_sid, "asset": asset_id}
    return _versions.page(conn, params, size, cursor, lambda row: AssetVersion(*row))


_protected_use = (
    sa.select(v.c.id)
    .where(
        v.c.account_sid == sa.bindparam("account"),
        v.c.sha256 == sa.bindparam("sha256"),
        v.c.visibility != "public",
    )
    .limit(1)
)


def protected_bytes(conn: Executor, account_sid: str, sha256: str) -> bool:
    """Whether a non-public asset version of the account holds these bytes (an indexed lookup)."""
    return conn.execute(_protected_use, {"account": account_sid, "sha256": sha256}).first() is not None
