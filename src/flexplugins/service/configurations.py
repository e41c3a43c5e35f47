"""Configurations (immutable sets of plugin versions) and the plugins configured in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from ..domain import rules
from ..domain.errors import not_found
from ..domain.model import Configuration, ConfiguredPlugin, Page, PluginRef, Principal
from ..storage import audit, plugin_versions, releases
from ..storage import configurations as store
from ..storage.db import Database, now
from ..storage.paging import Cursor


def _missing(key: str) -> Exception:
    return not_found(f"The requested resource /Configurations/{key} was not found")


def create(
    db: Database,
    who: Principal,
    name: str | None,
    plugins: Sequence[str],
    description: str | None,
    metadata: str | None,
) -> Configuration:
    clean_name = rules.configuration_name(name)
    desc = rules.description(description)
    refs = rules.plugin_refs(plugins)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        configuration = insert_checked(conn, who, clean_name, desc, refs, metadata, now())
    return configuration


def insert_checked(
    conn: Connection,
    who: Principal,
    name: str,
    description: str | None,
    refs: Sequence[PluginRef],
    metadata: str | None,
    when: datetime,
) -> Configuration:
    """Store a configuration of these versions (checked: live, one per plugin) inside the caller's
    transaction, with its audit event."""
    found = plugin_versions.get_many_with_plugins(
        conn, who.account_sid, [ref.plugin_version_sid for ref in refs]
    )
    rules.check_configurable(refs, found)
    ordered = sorted(enumerate(refs), key=lambda item: (item[1].phase, item[0]))
    contents = [
        (found[ref.plugin_version_sid][1].id, found[ref.plugin_version_sid][0].id, ref.phase)
        for _, ref in ordered
    ]
    configuration = store.insert(conn, who.account_sid, name, description, contents, when)
    audit.record(conn, who, "configuration.create", configuration.sid, metadata, when)
    return configuration


def fetch(db: Database, who: Principal, key: str) -> Configuration:
    with db.read() as conn:
        configuration = store.get(conn, who.account_sid, key)
    if configuration is None:
        raise _missing(key)
    return configuration


def list_page(db: Database, who: Principal, size: int, cursor: Cursor | None) -> Page[Configuration]:
    with db.read() as conn:
        return store.list_page(conn, who.account_sid, size, cursor)


def archive(db: Database, who: Principal, key: str, metadata: str | None) -> Configuration:
    """Idempotent; refused while the configuration is the active release's."""
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        configuration = store.get(conn, who.account_sid, key)
        if configuration is None:
            raise _missing(key)
        if configuration.archived:
            return configuration
        held = releases.active_configuration_id(conn, who.account_sid) == configuration.id
        refusal = rules.archive_refusal(configuration, held_by_active=held)
        if refusal is not None:
            raise refusal
        store.set_archived(conn, configuration.id)
        audit.record(conn, who, "configuration.archive", configuration.sid, metadata, now())
        archived = store.get(conn, who.account_sid, configuration.sid)
        assert archived is not None
    return archived


def list_configured(
    db: Database, who: Principal, key: str, size: int, cursor: Cursor | None
) -> tuple[Configuration, Page[ConfiguredPlugin]]:
    with db.read() as conn:
        configuration = store.get(conn, who.account_sid, key)
        if configuration is None:
            raise _missing(key)
        return configuration, store.list_configured(conn, configuration, size, cursor)


def fetch_configured(db: Database, who: Principal, key: str, plugin_key: str) -> ConfiguredPlugin:
    with db.read() as conn:
        configuration = store.get(conn, who.account_sid, key)
        if configuration is None:
            raise _missing(key)
        found = store.get_configured(conn, configuration, plugin_key)
    if found is None:
        raise not_found(f"The requested resource /Configurations/{key}/Plugins/{plugin_key} was not found")
    return found


def all_configured(db: Database, who: Principal, key: str) -> tuple[Configuration, list[ConfiguredPlugin]]:
    with db.read() as conn:
        configuration = store.get(conn, who.account_sid, key)
        if configuration is None:
            raise _missing(key)
        return configuration, store.all_configured(conn, configuration.id)
