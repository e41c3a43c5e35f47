"""Serverless deployments: create (the environment now serves the build), fetch, list."""

from __future__ import annotations

from ... import sids
from ...domain.errors import invalid
from ...domain.errors import missing as required
from ...domain.model import Page, Principal
from ...domain.serverless import Deployment
from ...storage import audit
from ...storage.db import Database, now
from ...storage.paging import Cursor
from ...storage.serverless import deployments as store
from ...storage.serverless import environments
from . import builds
from .common import missing, service, sid_key
from .environments import find as find_environment


def create(
    db: Database,
    who: Principal,
    service_key: str,
    environment_key: str,
    build_sid: str | None,
    metadata: str | None,
) -> Deployment:
    if build_sid is None or build_sid == "":
        raise required("BuildSid")
    if not sids.is_sid(build_sid, sids.BUILD):
        raise invalid(f"BuildSid must be a build SID (ZB...) (got {build_sid[:40]!r})")
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        owner = service(conn, who.account_sid, service_key)
        environment = find_environment(conn, who.account_sid, owner.id, owner.sid, environment_key)
        build = builds.find(conn, who.account_sid, owner.id, owner.sid, build_sid)
        when = now()
        environments.set_build(conn, environment.id, build.id, when)
        created = store.insert(
            conn,
            who.account_sid,
            owner.id,
            owner.sid,
            environment.id,
            environment.sid,
            build.id,
            build.sid,
            when,
        )
        audit.record(conn, who, "serverless.deployment.create", created.sid, metadata, when)
    return created


def fetch(db: Database, who: Principal, service_key: str, environment_key: str, key: str) -> Deployment:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        environment = find_environment(conn, who.account_sid, owner.id, owner.sid, environment_key)
        sid = sid_key(key, sids.DEPLOYMENT)
        found = None if sid is None else store.get(conn, who.account_sid, environment.id, sid)
    if found is None:
        raise missing(f"/Services/{owner.sid}/Environments/{environment.sid}/Deployments/{key}")
    return found


def list_page(
    db: Database, who: Principal, service_key: str, environment_key: str, size: int, cursor: Cursor | None
) -> tuple[str, str, Page[Deployment]]:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        environment = find_environment(conn, who.account_sid, owner.id, owner.sid, environment_key)
        page = store.list_page(conn, who.account_sid, environment.id, size, cursor)
    return owner.sid, environment.sid, page
