"""Serverless builds: create (complete at once: assets need no compiling), fetch, list."""

from __future__ import annotations

from ... import sids
from ...domain import serverless as rules
from ...domain.errors import invalid
from ...domain.model import Page, Principal
from ...domain.serverless import AssetVersion, Build
from ...storage import audit
from ...storage.db import Database, now
from ...storage.paging import Cursor, Executor
from ...storage.serverless import assets
from ...storage.serverless import builds as store
from .common import missing, service, sid_key


def find(conn: Executor, account_sid: str, service_id: int, service_sid: str, key: str) -> Build:
    sid = sid_key(key, sids.BUILD)
    found = None if sid is None else store.get(conn, account_sid, service_id, sid)
    if found is None:
        raise missing(f"/Services/{service_sid}/Builds/{key}")
    return found


def create(
    db: Database,
    who: Principal,
    service_key: str,
    asset_versions: list[str],
    function_versions: list[str],
    dependencies: tuple[list[str], list[str], list[str]],
    runtime: str | None,
    metadata: str | None,
) -> Build:
    version_sids = rules.sid_list("AssetVersions", asset_versions, sids.ASSET_VERSION)
    function_sids = rules.sid_list("FunctionVersions", function_versions, sids.ASSET_VERSION)
    clean_dependencies = rules.dependencies(*dependencies)
    clean_runtime = rules.runtime(runtime)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        owner = service(conn, who.account_sid, service_key)
        if function_sids:
            # This server has no Functions, so no function version exists to build with.
            raise missing(f"/Services/{owner.sid}/Functions/Versions/{function_sids[0]}")
        versions: list[AssetVersion] = []
        paths: set[str] = set()
        for sid in version_sids:
            found = assets.version_of_service(conn, who.account_sid, owner.id, sid)
            if found is None:
                raise missing(f"/Services/{owner.sid}/Assets/Versions/{sid}")
            if found.path in paths:
                raise invalid(f"AssetVersions holds two versions with the path {found.path!r}")
            paths.add(found.path)
            versions.append(found)
        when = now()
        created = store.insert(
            conn, who.account_sid, owner.id, owner.sid, clean_runtime, clean_dependencies, versions, when
        )
        audit.record(conn, who, "serverless.build.create", created.sid, metadata, when)
    return created


def fetch(db: Database, who: Principal, service_key: str, key: str) -> Build:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return find(conn, who.account_sid, owner.id, owner.sid, key)


def list_page(
    db: Database, who: Principal, service_key: str, size: int, cursor: Cursor | None
) -> tuple[str, Page[Build]]:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return owner.sid, store.list_page(conn, who.account_sid, owner.id, size, cursor)
