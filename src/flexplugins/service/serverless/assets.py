"""Serverless assets and asset versions: create, fetch, list; a version's bytes go to the bundle store."""

from __future__ import annotations

from ... import sids
from ...domain import serverless as rules
from ...domain.errors import missing as required
from ...domain.model import Page, Principal
from ...domain.serverless import Asset, AssetVersion
from ...storage import audit
from ...storage.db import Database, now
from ...storage.paging import Cursor, Executor
from ...storage.serverless import assets as store
from .. import bundles
from .common import missing, service, sid_key


def find(conn: Executor, account_sid: str, service_id: int, service_sid: str, key: str) -> Asset:
    sid = sid_key(key, sids.ASSET)
    found = None if sid is None else store.get(conn, account_sid, service_id, sid)
    if found is None:
        raise missing(f"/Services/{service_sid}/Assets/{key}")
    return found


def create(
    db: Database, who: Principal, service_key: str, friendly_name: str | None, metadata: str | None
) -> Asset:
    friendly = rules.friendly_name(friendly_name, required=True)
    assert friendly is not None
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        owner = service(conn, who.account_sid, service_key)
        when = now()
        created = store.insert(conn, who.account_sid, owner.id, owner.sid, friendly, when)
        audit.record(conn, who, "serverless.asset.create", created.sid, metadata, when)
    return created


def fetch(db: Database, who: Principal, service_key: str, key: str) -> Asset:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return find(conn, who.account_sid, owner.id, owner.sid, key)


def list_page(
    db: Database, who: Principal, service_key: str, size: int, cursor: Cursor | None
) -> tuple[str, Page[Asset]]:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return owner.sid, store.list_page(conn, who.account_sid, owner.id, size, cursor)


def create_version(
    db: Database,
    who: Principal,
    service_key: str,
    asset_key: str,
    path: str | None,
    visibility: str | None,
    content: bytes | None,
    content_type: str | None,
    max_bytes: int,
    metadata: str | None,
) -> AssetVersion:
    """Upload a version of an asset.

    The bytes are stored first (content-addressed, so storing them again is harmless, and a
    deployment's object storage could not share a transaction anyway), but only once every
    parameter and the asset itself have been checked; the version is then one transaction.
    """
    clean_path = rules.asset_path(path)
    clean_visibility = rules.visibility(visibility)
    if content is None:
        raise required("Content")
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        find(conn, who.account_sid, owner.id, owner.sid, asset_key)
    # Bytes of a Protected or Private asset are private from the moment they are stored.
    private = clean_visibility != "public"
    info = bundles.store_asset(db, who.account_sid, content, content_type, max_bytes, private=private)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        owner = service(conn, who.account_sid, service_key)
        asset = find(conn, who.account_sid, owner.id, owner.sid, asset_key)
        when = now()
        created = store.insert_version(
            conn, asset, owner.id, clean_path, clean_visibility, info.sha256, info.content_type, when
        )
        audit.record(conn, who, "serverless.asset_version.create", created.sid, metadata, when)
    return created


def fetch_version(db: Database, who: Principal, service_key: str, asset_key: str, key: str) -> AssetVersion:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        asset = find(conn, who.account_sid, owner.id, owner.sid, asset_key)
        sid = sid_key(key, sids.ASSET_VERSION)
        found = None if sid is None else store.get_version(conn, who.account_sid, asset.id, sid)
    if found is None:
        raise missing(f"/Services/{owner.sid}/Assets/{asset.sid}/Versions/{key}")
    return found


def list_versions(
    db: Database, who: Principal, service_key: str, asset_key: str, size: int, cursor: Cursor | None
) -> tuple[str, str, Page[AssetVersion]]:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        asset = find(conn, who.account_sid, owner.id, owner.sid, asset_key)
        return owner.sid, asset.sid, store.list_versions(conn, who.account_sid, asset.id, size, cursor)
