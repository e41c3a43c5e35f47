"""Queries of configurations and the plugins configured in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import sids
from ..domain.model import Configuration, ConfiguredPlugin, Page
from .paging import Cursor, Executor, ListQuery
from .tables import configurations as c
from .tables import configured_plugins as cp
from .tables import plugin_versions as v
from .tables import plugins as p
from .tables import releases as r

_columns = sa.select(
    c.c.id, c.c.sid, c.c.account_sid, c.c.name, c.c.description, c.c.archived, c.c.date_created
)
_by_sid = _columns.where(c.c.account_sid == sa.bindparam("account"), c.c.sid == sa.bindparam("sid"))


def get(conn: Executor, account_sid: str, sid: str, *, lock: bool = False) -> Configuration | None:
    if not sids.is_sid(sid, sids.CONFIGURATION):
        return None
    stmt = _by_sid.with_for_update() if lock else _by_sid
    row = conn.execute(stmt, {"account": account_sid, "sid": sids.normalise(sid)}).first()
    return None if row is None else Configuration(*row)


def insert(
    conn: Connection,
    account_sid: str,
    name: str,
    description: str | None,
    contents: Sequence[tuple[int, int, int]],
    when: datetime,
) -> Configuration:
    """contents: (plugin id, plugin version id, phase), already in load order."""
    sid = sids.new_sid(sids.CONFIGURATION)
    new_id = conn.execute(
        c.insert()
        .values(
            sid=sid,
            account_sid=account_sid,
            name=name,
            description=description,
            archived=False,
            date_created=when,
        )
        .returning(c.c.id)
    ).scalar_one()
    if contents:
        conn.execute(
            cp.insert(),
            [
                {
                    "configuration_id": new_id,
                    "position": index,
                    "plugin_id": plugin_id,
                    "plugin_version_id": version_id,
                    "phase": phase,
                }
                for index, (plugin_id, version_id, phase) in enumerate(contents)
            ],
        )
    return Configuration(new_id, sid, account_sid, name, description, False, when)


def set_archived(conn: Connection, configuration_id: int) -> None:
    conn.execute(c.update().where(c.c.id == configuration_id).values(archived=True))


_list = ListQuery(_columns.where(c.c.account_sid == sa.bindparam("account")), c.c.id)


def list_page(conn: Executor, account_sid: str, size: int, cursor: Cursor | None) -> Page[Configuration]:
    return _list.page(conn, {"account": account_sid}, size, cursor, lambda row: Configuration(*row))


_configured = sa.select(
    cp.c.position,
    c.c.account_sid,
    c.c.sid,
    p.c.sid,
    v.c.sid,
    cp.c.phase,
    v.c.plugin_url,
    p.c.unique_name,
    p.c.friendly_name,
    p.c.description,
    p.c.archived,
    v.c.version,
    v.c.changelog,
    v.c.archived,
    v.c.private,
    c.c.date_created,
).select_from(
    cp.join(c, cp.c.configuration_id == c.c.id)
    .join(v, cp.c.plugin_version_id == v.c.id)
    .join(p, cp.c.plugin_id == p.c.id)
)


_configured_list = ListQuery(
    _configured.where(cp.c.configuration_id == sa.bindparam("configuration_id")),
    cp.c.position,
    descending=False,
)
_configured_all = _configured.where(cp.c.configuration_id == sa.bindparam("configuration_id")).order_by(
    cp.c.position
)
_configured_by_sid = _configured.where(
    cp.c.configuration_id == sa.bindparam("configuration_id"), p.c.sid == sa.bindparam("plugin")
)
_configured_by_name = _configured.where(
    cp.c.configuration_id == sa.bindparam("configuration_id"), p.c.unique_name == sa.bindparam("plugin")
)


def list_configured(
    conn: Executor, configuration: Configuration, size: int, cursor: Cursor | None
) -> Page[ConfiguredPlugin]:
    """The configured plugins in load order (phase, then the order given)."""
    return _configured_list.page(
        conn, {"configuration_id": configuration.id}, size, cursor, lambda row: ConfiguredPlugin(*row)
    )


def all_configured(conn: Executor, configuration_id: int) -> list[ConfiguredPlugin]:
    rows = conn.execute(_configured_all, {"configuration_id": configuration_id}).all()
    return [ConfiguredPlugin(*row) for row in rows]


def get_configured(conn: Executor, configuration: Configuration, plugin_key: str) -> ConfiguredPlugin | None:
    if sids.is_sid(plugin_key, sids.PLUGIN):
        stmt, key = _configured_by_sid, sids.normalise(plugin_key)
    else:
        stmt, key = _configured_by_name, plugin_key
    row = conn.execute(stmt, {"configuration_id": configuration.id, "plugin": key}).first()
    return None if row is None else ConfiguredPlugin(*row)


def holds_plugin(conn: Connection, configuration_id: int, plugin_id: int) -> bool:
    stmt = sa.select(cp.c.position).where(
        cp.c.configuration_id == configuration_id, cp.c.plugin_id == plugin_id
    )
    return conn.execute(stmt).first() is not None


def holds_version(conn: Connection, configuration_id: int, version_id: int) -> bool:
    stmt = sa.select(cp.c.position).where(
        cp.c.configuration_id == configuration_id, cp.c.plugin_version_id == version_id
    )
    return conn.execute(stmt).first() is not None


# --- Several at once, for a page of the console -------------------------------------------------
# Explicit parameters, not an expanding IN: the fast reader runs statements as compiled. One
# statement per count of keys is built once (a page has at most a few dozen).


def _names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index}" for index in range(count)]


@lru_cache(maxsize=128)
def _by_sids(count: int) -> sa.Select[tuple[object, ...]]:
    return _columns.where(
        c.c.account_sid == sa.bindparam("account"),
        c.c.sid.in_([sa.bindparam(name) for name in _names("s", count)]),
    )


def get_many(conn: Executor, account_sid: str, configuration_sids: Sequence[str]) -> dict[str, Configuration]:
    """The account's configurations of these SIDs, by SID, in one query."""
    wanted = sorted(set(configuration_sids))
    if not wanted:
        return {}
    params: dict[str, object] = dict(zip(_names("s", len(wanted)), wanted, strict=True))
    params["account"] = account_sid
    return {row[1]: Configuration(*row) for row in conn.execute(_by_sids(len(wanted)), params).all()}


@lru_cache(maxsize=256)
def _configured_in(count: int, only_archived: bool) -> sa.Select[tuple[object, ...]]:
    stmt = _configured.where(
        c.c.account_sid == sa.bindparam("account"),
        c.c.sid.in_([sa.bindparam(name) for name in _names("s", count)]),
    )
    if only_archived:
        stmt = stmt.where(sa.or_(p.c.archived, v.c.archived))
    return stmt.order_by(c.c.id, cp.c.position)


def configured_in(
    conn: Executor, account_sid: str, configuration_sids: Sequence[str], *, only_archived: bool = False
) -> dict[str, list[ConfiguredPlugin]]:
    """The configured plugins of each of these configurations, in load order, in one query.

    Every SID asked for is in the answer (a configuration that loads nothing maps to []). With
    only_archived, only the entries whose plugin or version is archived (what stops a release).
    """
    wanted = sorted(set(configuration_sids))
    found: dict[str, list[ConfiguredPlugin]] = {sid: [] for sid in wanted}
    if not wanted:
        return found
    params: dict[str, object] = dict(zip(_names("s", len(wanted)), wanted, strict=True))
    params["account"] = account_sid
    for row in conn.execute(_configured_in(len(wanted), only_archived), params).all():
        found[row[2]].append(ConfiguredPlugin(*row))
    return found


_active_configuration = (
    sa.select(r.c.configuration_id)
    .where(r.c.account_sid == sa.bindparam("account"))
    .order_by(r.c.seq.desc())
    .limit(1)
    .scalar_subquery()
)


@lru_cache(maxsize=128)
def _live(count: int) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(cp.c.plugin_id, v.c.sid, v.c.version)
        .select_from(cp.join(v, cp.c.plugin_version_id == v.c.id))
        .where(
            cp.c.configuration_id == _active_configuration,
            cp.c.plugin_id.in_([sa.bindparam(name) for name in _names("p", count)]),
        )
    )


def live_versions(conn: Executor, account_sid: str, plugin_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(version SID, version) of each of these plugins that the active release holds, in one query."""
    wanted = sorted(set(plugin_ids))
    if not wanted:
        return {}
    params: dict[str, object] = dict(zip(_names("p", len(wanted)), wanted, strict=True))
    params["account"] = account_sid
    return {int(row[0]): (row[1], row[2]) for row in conn.execute(_live(len(wanted)), params).all()}
