"""Serverless services: create, fetch, list, update."""

from __future__ import annotations

from sqlalchemy import exc

from ...domain import serverless as rules
from ...domain.errors import conflict, unavailable
from ...domain.model import Page, Principal
from ...domain.serverless import Service
from ...storage import audit
from ...storage.db import Database, now
from ...storage.paging import Cursor
from ...storage.serverless import services as store
from .common import service


def create(
    db: Database,
    who: Principal,
    unique_name: str | None,
    friendly_name: str | None,
    include_credentials: str | None,
    ui_editable: str | None,
    metadata: str | None,
) -> Service:
    name = rules.service_unique_name(unique_name)
    friendly = rules.friendly_name(friendly_name, required=True)
    assert friendly is not None
    credentials = rules.flag("IncludeCredentials", include_credentials, True)
    editable = rules.flag("UiEditable", ui_editable, False)
    taken = conflict(f"A Service with UniqueName {name!r} already exists")
    try:
        with db.write() as conn:
            db.lock_account(conn, who.account_sid)
            if store.get(conn, who.account_sid, name) is not None:
                raise taken
            for _ in range(20):
                base = rules.domain_base(name)
                if not store.domain_base_taken(conn, base):
                    break
            else:
                raise unavailable("No free domain name was found for the service; try again")
            when = now()
            created = store.insert(conn, who.account_sid, name, friendly, credentials, editable, base, when)
            audit.record(conn, who, "serverless.service.create", created.sid, metadata, when)
    except exc.IntegrityError:
        raise taken from None
    return created


def fetch(db: Database, who: Principal, key: str) -> Service:
    with db.read() as conn:
        return service(conn, who.account_sid, key)


def list_page(db: Database, who: Principal, size: int, cursor: Cursor | None) -> Page[Service]:
    with db.read() as conn:
        return store.list_page(conn, who.account_sid, size, cursor)


def update(
    db: Database,
    who: Principal,
    key: str,
    friendly_name: str | None,
    include_credentials: str | None,
    ui_editable: str | None,
    metadata: str | None,
) -> Service:
    values: dict[str, object] = {}
    if friendly_name is not None:
        values["friendly_name"] = rules.friendly_name(friendly_name, required=True)
    if include_credentials is not None:
        values["include_credentials"] = rules.flag("IncludeCredentials", include_credentials, True)
    if ui_editable is not None:
        values["ui_editable"] = rules.flag("UiEditable", ui_editable, False)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        found = service(conn, who.account_sid, key)
        if values:
            when = now()
            values["date_updated"] = when
            store.update(conn, found.id, values)
            audit.record(conn, who, "serverless.service.update", found.sid, metadata, when)
            found = service(conn, who.account_sid, found.sid)
    return found
