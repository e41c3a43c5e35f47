"""Releases: making a configuration live. Immutable; the newest is the active one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from ..domain import release_changes, rules
from ..domain.errors import invalid, missing, not_found
from ..domain.model import Configuration, Page, PluginRef, Principal, Release
from ..domain.release_changes import ActivePrecondition, Change, Slot
from ..storage import accounts, audit, configurations, plugin_versions, plugins
from ..storage import releases as store
from ..storage.db import Database, now
from ..storage.paging import Cursor
from . import configurations as configurations_service

ACTIVE = "Active"


def create(
    db: Database,
    who: Principal,
    configuration_id: str | None,
    metadata: str | None,
    precondition: ActivePrecondition | None = None,
) -> Release:
    """Release a configuration; with a precondition, only if that release is still the active one."""
    if configuration_id is None or configuration_id.strip() == "":
        raise missing("ConfigurationId")
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        _check_active(conn, who, precondition)
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


def _check_active(
    conn: Connection, who: Principal, precondition: ActivePrecondition | None
) -> Release | None:
    """The active release, after checking it against the caller's precondition (under the account lock)."""
    current = store.active(conn, who.account_sid)
    release_changes.check_active(precondition, None if current is None else current.sid)
    return current


@dataclass(frozen=True, slots=True)
class DeltaRelease:
    """What a delta release did: the release and configuration now active, and the changes."""

    release: Release | None
    configuration: Configuration | None
    changes: list[Change]
    changed: bool


def _default_name(changes: Sequence[Change], when: datetime) -> str:
    parts = [
        f"-{change.unique_name}" if change.after is None else f"+{change.unique_name}@{change.after.version}"
        for change in changes
    ]
    name = f"{when.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}: {', '.join(parts)}"
    limit = rules.MAX_CONFIGURATION_NAME
    return name if len(name) <= limit else name[: limit - 3] + "..."


def create_delta(
    db: Database,
    who: Principal,
    enable: Sequence[str],
    disable: Sequence[str],
    name: str | None,
    description: str | None,
    metadata: str | None,
    precondition: ActivePrecondition | None = None,
) -> DeltaRelease:
    """Enable and disable plugins on top of the active release: the configuration and its release in
    one transaction, or nothing when the result equals the active configuration."""
    wanted = release_changes.parse_enable(enable)
    dropped = release_changes.parse_disable(disable)
    release_changes.check_requested(wanted, dropped)
    clean_name = None if name is None else rules.configuration_name(name)
    desc = rules.description(description)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        current = _check_active(conn, who, precondition)
        active_configuration = None
        slots: list[Slot] = []
        if current is not None:
            active_configuration = configurations.get(conn, who.account_sid, current.configuration_sid)
            assert active_configuration is not None
            slots = [
                Slot(item.unique_name, item.plugin_sid, item.plugin_version_sid, item.version, item.phase)
                for item in configurations.all_configured(conn, active_configuration.id)
            ]
        for plugin_name in dropped:
            if plugins.get(conn, who.account_sid, plugin_name) is None:
                raise invalid(f"Disable: plugin {plugin_name!r} was not found")
        targets = [_resolve(conn, who, plugin_name, version) for plugin_name, version in wanted]
        result, changes = release_changes.apply(slots, targets, set(dropped))
        if not changes:
            return DeltaRelease(current, active_configuration, [], False)
        refs = [PluginRef(slot.plugin_version_sid, slot.phase) for slot in result]
        when = now()
        configuration = configurations_service.insert_checked(
            conn, who, clean_name or _default_name(changes, when), desc, refs, metadata, when
        )
        release = store.insert(conn, configuration, accounts.next_release_seq(conn, who.account_sid), when)
        audit.record(conn, who, "release.create", release.sid, metadata, when)
    return DeltaRelease(release, configuration, changes, True)


def _resolve(conn: Connection, who: Principal, plugin_name: str, version: str) -> Slot:
    plugin = plugins.get(conn, who.account_sid, plugin_name)
    if plugin is None:
        raise invalid(f"Enable: plugin {plugin_name!r} was not found")
    if version == release_changes.LATEST:
        found = plugin_versions.latest_live(conn, plugin)
        if found is None:
            raise invalid(f"Enable: plugin {plugin_name!r} has no version that is not archived")
    else:
        found = plugin_versions.get(conn, who.account_sid, plugin.sid, version)
        if found is None:
            raise invalid(f"Enable: plugin {plugin_name!r} has no version {version!r}")
    return Slot(plugin.unique_name, plugin.sid, found.sid, found.version, rules.DEFAULT_PHASE)
