"""Queries of plugin versions (always read with their plugin's SID)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import sids
from ..domain.model import Page, Plugin, PluginVersion
from .paging import Cursor, Executor, ListQuery
from .tables import plugin_versions as v
from .tables import plugins as p

_columns = sa.select(
    v.c.id,
    v.c.sid,
    v.c.account_sid,
    p.c.sid,
    v.c.version,
    v.c.plugin_url,
    v.c.changelog,
    v.c.private,
    v.c.archived,
    v.c.validated,
    v.c.date_created,
).join_from(v, p, v.c.plugin_id == p.c.id)


def _lookup(plugin_by_sid: bool, version_by_sid: bool) -> sa.Select[tuple[object, ...]]:
    return _columns.where(
        v.c.account_sid == sa.bindparam("account"),
        (p.c.sid if plugin_by_sid else p.c.unique_name) == sa.bindparam("plugin"),
        (v.c.sid if version_by_sid else v.c.version) == sa.bindparam("version"),
    )


# Four shapes of lookup (plugin by SID or name, version by SID or string), built once.
_LOOKUPS = {(ps, vs): _lookup(ps, vs) for ps in (True, False) for vs in (True, False)}


def get(
    conn: Executor, account_sid: str, plugin_key: str, version_key: str, *, lock: bool = False
) -> PluginVersion | None:
    """A version by plugin SID or unique name, and version SID or version string."""
    plugin_is_sid = sids.is_sid(plugin_key, sids.PLUGIN)
    version_is_sid = sids.is_sid(version_key, sids.PLUGIN_VERSION)
    stmt = _LOOKUPS[(plugin_is_sid, version_is_sid)]
    if lock:
        stmt = stmt.with_for_update(of=v)
    row = conn.execute(
        stmt,
        {
            "account": account_sid,
            "plugin": sids.normalise(plugin_key) if plugin_is_sid else plugin_key,
            "version": sids.normalise(version_key) if version_is_sid else version_key,
        },
    ).first()
    return None if row is None else PluginVersion(*row)


def insert(
    conn: Connection,
    plugin: Plugin,
    version: str,
    plugin_url: str,
    changelog: str | None,
    private: bool,
    validated: bool,
    cli_version: str | None,
    validate_status: str | None,
    when: datetime,
    bundle_sha256: str | None = None,
) -> PluginVersion:
    """A new version; `bundle_sha256` names the account's hosted bundle its URL points at, if any."""
    sid = sids.new_sid(sids.PLUGIN_VERSION)
    new_id = conn.execute(
        v.insert()
        .values(
            sid=sid,
            account_sid=plugin.account_sid,
            plugin_id=plugin.id,
            version=version,
            plugin_url=plugin_url,
            bundle_sha256=bundle_sha256,
            changelog=changelog,
            private=private,
            archived=False,
            validated=validated,
            cli_version=cli_version,
            validate_status=validate_status,
            date_created=when,
        )
        .returning(v.c.id)
    ).scalar_one()
    return PluginVersion(
        new_id,
        sid,
        plugin.account_sid,
        plugin.sid,
        version,
        plugin_url,
        changelog,
        private,
        False,
        validated,
        when,
    )


def set_archived(conn: Connection, version_id: int) -> None:
    conn.execute(v.update().where(v.c.id == version_id).values(archived=True))


_list = ListQuery(_columns.where(v.c.plugin_id == sa.bindparam("plugin_id")), v.c.id)


def list_page(conn: Executor, plugin: Plugin, size: int, cursor: Cursor | None) -> Page[PluginVersion]:
    return _list.page(conn, {"plugin_id": plugin.id}, size, cursor, lambda row: PluginVersion(*row))


def get_many_with_plugins(
    conn: Connection, account_sid: str, version_sids: Sequence[str], *, lock: bool = False
) -> dict[str, tuple[PluginVersion, Plugin]]:
    """The versions of this account among version_sids, each with its plugin, in one query."""
    if not version_sids:
        return {}
    stmt = (
        sa.select(
            *_columns.selected_columns,
            p.c.id,
            p.c.sid,
            p.c.account_sid,
            p.c.unique_name,
            p.c.friendly_name,
            p.c.description,
            p.c.archived,
            p.c.date_created,
            p.c.date_updated,
        )
        .join_from(v, p, v.c.plugin_id == p.c.id)
        .where(v.c.account_sid == account_sid, v.c.sid.in_(list(version_sids)))
    )
    if lock:
        stmt = stmt.with_for_update()
    found: dict[str, tuple[PluginVersion, Plugin]] = {}
    for row in conn.execute(stmt):
        version = PluginVersion(*row[:11])
        found[version.sid] = (version, Plugin(*row[11:]))
    return found


_latest_live = (
    _columns.where(v.c.plugin_id == sa.bindparam("plugin_id"), v.c.archived == sa.false())
    .order_by(v.c.id.desc())
    .limit(1)
)


def latest_live(conn: Executor, plugin: Plugin) -> PluginVersion | None:
    """The plugin's newest version that is not archived."""
    row = conn.execute(_latest_live, {"plugin_id": plugin.id}).first()
    return None if row is None else PluginVersion(*row)
