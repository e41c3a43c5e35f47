"""Releases: making a configuration live. Immutable; the newest is the active one."""

from __future__ import annotations

from ..domain import rules
from ..domain.errors import invalid, missing, not_found
from ..domain.model import Page, Principal, Release
from ..storage import accounts, audit, configurations
from ..storage import releases as store
from ..storage.db import Database, now
from ..storage.paging import Cursor

ACTIVE = "Active"


def create(db: Database, who: Principal, configuration_id: str | None, metadata: str | None) -> Release:
    if configuration_id is None or configuration_id.strip() == "":
        raise missing("ConfigurationId")
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        configuration = configurations.get(conn, who.account_sid, configuration_id.strip())
        if configuration is None:
            raise invalid(f"ConfigurationId {configuration_id!r} is not a configuration of this account")
        contents = [
            (item.unique_name, item.version, item.plugin_archived, item.plugin_version_archived)
            for item in configurations.all_configured(conn, configuration.id)
        ]
        rules.check_releasable(configuration, contents)
        seq = accounts.next_release_seq(conn, who.account_sid)
        when = now()
        release = store.insert(conn, configuration, seq, when)
        audit.record(conn, who, "release.create", release.sid, metadata, when)
    return release


def fetch(db: Database, who: Principal, key: str) -> Release:
    with db.read() as conn:
        release = (
            store.active(conn, who.account_sid) if key == ACTIVE else store.get(conn, who.account_sid, key)
        )
    if release is None:
        if key == ACTIVE:
            raise not_found("There is no active release: no configuration has been released yet")
        raise not_found(f"The requested resource /Releases/{key} was not found")
    return release


def active(db: Database, who: Principal) -> Release | None:
    with db.read() as conn:
        return store.active(conn, who.account_sid)


def list_page(db: Database, who: Principal, size: int, cursor: Cursor | None) -> Page[Release]:
    with db.read() as conn:
        return store.list_page(conn, who.account_sid, size, cursor)
