"""Plugins: create, fetch, list, update, archive."""

from __future__ import annotations

from sqlalchemy import exc

from ..domain import rules
from ..domain.errors import conflict, not_found
from ..domain.model import Page, Plugin, Principal
from ..storage import audit, configurations, releases
from ..storage import plugins as store
from ..storage.db import Database, now
from ..storage.paging import Cursor


def _missing(key: str) -> Exception:
    return not_found(f"The requested resource /Plugins/{key} was not found")


def create(
    db: Database,
    who: Principal,
    unique_name: str | None,
    friendly_name: str | None,
    description: str | None,
    metadata: str | None,
) -> Plugin:
    name = rules.unique_name(unique_name)
    friendly = rules.friendly_name(friendly_name)
    desc = rules.description(description)
    try:
        with db.write() as conn:
            db.lock_account(conn, who.account_sid)
            if store.get(conn, who.account_sid, name) is not None:
                raise conflict(f"A plugin with UniqueName {name!r} already exists")
            when = now()
            plugin = store.insert(conn, who.account_sid, name, friendly, desc, when)
            audit.record(conn, who, "plugin.create", plugin.sid, metadata, when)
    except exc.IntegrityError:
        raise conflict(f"A plugin with UniqueName {name!r} already exists") from None
    return plugin


def fetch(db: Database, who: Principal, key: str) -> Plugin:
    with db.read() as conn:
        plugin = store.get(conn, who.account_sid, key)
    if plugin is None:
        raise _missing(key)
    return plugin


def list_page(db: Database, who: Principal, size: int, cursor: Cursor | None) -> Page[Plugin]:
    with db.read() as conn:
        return store.list_page(conn, who.account_sid, size, cursor)


def update(
    db: Database,
    who: Principal,
    key: str,
    friendly_name: str | None,
    description: str | None,
    metadata: str | None,
) -> Plugin:
    values: dict[str, object] = {}
    if friendly_name is not None:
        values["friendly_name"] = rules.friendly_name(friendly_name)
    if description is not None:
        values["description"] = rules.description(description)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        plugin = store.get(conn, who.account_sid, key)
        if plugin is None:
            raise _missing(key)
        if values:
            values["date_updated"] = now()
            store.update(conn, plugin.id, values)
            audit.record(conn, who, "plugin.update", plugin.sid, metadata, now())
            plugin = store.get(conn, who.account_sid, plugin.sid)
            assert plugin is not None
    return plugin


def archive(db: Database, who: Principal, key: str, metadata: str | None) -> Plugin:
    """Idempotent; refused while the active release holds the plugin."""
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        plugin = store.get(conn, who.account_sid, key)
        if plugin is None:
            raise _missing(key)
        if plugin.archived:
            return plugin
        active = releases.active_configuration_id(conn, who.account_sid)
        held = active is not None and configurations.holds_plugin(conn, active, plugin.id)
        refusal = rules.archive_refusal(plugin, held_by_active=held)
        if refusal is not None:
            raise refusal
        when = now()
        store.update(conn, plugin.id, {"archived": True, "date_updated": when})
        audit.record(conn, who, "plugin.archive", plugin.sid, metadata, when)
        archived = store.get(conn, who.account_sid, plugin.sid)
        assert archived is not None
    return archived
