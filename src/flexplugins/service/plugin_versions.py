"""Plugin versions: create, fetch, list, archive. Versions are immutable once created."""

from __future__ import annotations

from sqlalchemy import exc

from ..domain import rules
from ..domain.bundles import bundle_key
from ..domain.errors import conflict, not_found
from ..domain.model import Page, Plugin, PluginVersion, Principal
from ..storage import audit, configurations, plugins, releases
from ..storage import plugin_versions as store
from ..storage.db import Database, now
from ..storage.paging import Cursor


def _plugin_missing(key: str) -> Exception:
    return not_found(f"The requested resource /Plugins/{key} was not found")


def _version_missing(plugin_key: str, key: str) -> Exception:
    return not_found(f"The requested resource /Plugins/{plugin_key}/Versions/{key} was not found")


def create(
    db: Database,
    who: Principal,
    plugin_key: str,
    version: str | None,
    plugin_url: str | None,
    changelog: str | None,
    private: str | None,
    cli_version: str | None,
    validate_status: str | None,
    metadata: str | None,
) -> PluginVersion:
    ver = rules.version(version)
    url = rules.plugin_url(plugin_url)
    log = rules.changelog(changelog)
    is_private = rules.boolean("Private", private)
    cli = rules.short_text("CliVersion", cli_version)
    status = rules.short_text("ValidateStatus", validate_status)
    validated = status is not None and status.lower() in ("validated", "true", "success", "passed")
    # The hosted bundle the URL names, by identity: a private version makes exactly that bundle private.
    hosted = bundle_key(url)
    bundle_sha256 = hosted[1] if hosted is not None and hosted[0] == who.account_sid else None
    try:
        with db.write() as conn:
            db.lock_account(conn, who.account_sid)
            plugin = plugins.get(conn, who.account_sid, plugin_key)
            if plugin is None:
                raise _plugin_missing(plugin_key)
            if plugin.archived:
                raise rules.refuse_new_version_of_archived(plugin)
            if store.get(conn, who.account_sid, plugin.sid, ver) is not None:
                raise conflict(f"Plugin {plugin.unique_name} already has a version {ver!r}")
            when = now()
            created = store.insert(
                conn, plugin, ver, url, log, is_private, validated, cli, status, when, bundle_sha256
            )
            audit.record(conn, who, "plugin_version.create", created.sid, metadata, when)
    except exc.IntegrityError:
        raise conflict(f"Plugin {plugin_key} already has a version {ver!r}") from None
    return created


def fetch(db: Database, who: Principal, plugin_key: str, key: str) -> PluginVersion:
    with db.read() as conn:
        found = store.get(conn, who.account_sid, plugin_key, key)
    if found is None:
        raise _version_missing(plugin_key, key)
    return found


def list_page(
    db: Database, who: Principal, plugin_key: str, size: int, cursor: Cursor | None
) -> tuple[Plugin, Page[PluginVersion]]:
    with db.read() as conn:
        plugin = plugins.get(conn, who.account_sid, plugin_key)
        if plugin is None:
            raise _plugin_missing(plugin_key)
        return plugin, store.list_page(conn, plugin, size, cursor)


def archive(db: Database, who: Principal, plugin_key: str, key: str, metadata: str | None) -> PluginVersion:
    """Idempotent; refused while the active release holds the version."""
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        found = store.get(conn, who.account_sid, plugin_key, key)
        if found is None:
            raise _version_missing(plugin_key, key)
        if found.archived:
            return found
        active = releases.active_configuration_id(conn, who.account_sid)
        held = active is not None and configurations.holds_version(conn, active, found.id)
        refusal = rules.archive_refusal(found, held_by_active=held)
        if refusal is not None:
            raise refusal
        store.set_archived(conn, found.id)
        audit.record(conn, who, "plugin_version.archive", found.sid, metadata, now())
        archived = store.get(conn, who.account_sid, found.plugin_sid, found.sid)
        assert archived is not None
    return archived
