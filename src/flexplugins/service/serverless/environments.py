"""Serverless environments: create, fetch, list, delete. Each has a domain under twil.io."""

from __future__ import annotations

from sqlalchemy import exc

from ... import sids
from ...domain import serverless as rules
from ...domain.errors import conflict
from ...domain.model import Page, Principal
from ...domain.serverless import Environment
from ...storage import audit
from ...storage.db import Database, now
from ...storage.paging import Cursor, Executor
from ...storage.serverless import environments as store
from .common import missing, service, sid_key


def find(conn: Executor, account_sid: str, service_id: int, service_sid: str, key: str) -> Environment:
    sid = sid_key(key, sids.ENVIRONMENT)
    found = None if sid is None else store.get(conn, account_sid, service_id, sid)
    if found is None:
        raise missing(f"/Services/{service_sid}/Environments/{key}")
    return found


def create(
    db: Database,
    who: Principal,
    service_key: str,
    unique_name: str | None,
    domain_suffix: str | None,
    metadata: str | None,
) -> Environment:
    name = rules.environment_unique_name(unique_name)
    suffix = rules.domain_suffix(domain_suffix)
    try:
        with db.write() as conn:
            db.lock_account(conn, who.account_sid)
            owner = service(conn, who.account_sid, service_key)
            if store.get_by_name(conn, who.account_sid, owner.id, name) is not None:
                raise conflict(f"An Environment with UniqueName {name!r} already exists in this Service")
            domain = rules.domain_name(owner.domain_base, suffix)
            if store.domain_taken(conn, domain):
                raise conflict(f"The domain {domain} is taken: choose another DomainSuffix")
            when = now()
            sid = store.insert(conn, who.account_sid, owner.id, name, suffix, domain, when)
            audit.record(conn, who, "serverless.environment.create", sid, metadata, when)
            created = store.get(conn, who.account_sid, owner.id, sid)
            assert created is not None
    except exc.IntegrityError:
        raise conflict(f"An Environment with UniqueName {name!r} or its domain already exists") from None
    return created


def fetch(db: Database, who: Principal, service_key: str, key: str) -> Environment:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return find(conn, who.account_sid, owner.id, owner.sid, key)


def list_page(
    db: Database, who: Principal, service_key: str, size: int, cursor: Cursor | None
) -> tuple[str, Page[Environment]]:
    with db.read() as conn:
        owner = service(conn, who.account_sid, service_key)
        return owner.sid, store.list_page(conn, who.account_sid, owner.id, size, cursor)


def delete(db: Database, who: Principal, service_key: str, key: str, metadata: str | None) -> None:
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        owner = service(conn, who.account_sid, service_key)
        found = find(conn, who.account_sid, owner.id, owner.sid, key)
        store.delete(conn, found.id)
        audit.record(conn, who, "serverless.environment.delete", found.sid, metadata, now())
