"""Queries of configurations and the plugins configured in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import sids
from ..domain.model import Configuration, ConfiguredPlugin, Page
from .paging import Cursor, fetch_page
from .tables import configurations as c
from .tables import configured_plugins as cp
from .tables import plugin_versions as v
from .tables import plugins as p

_columns = sa.select(
    c.c.id, c.c.sid, c.c.account_sid, c.c.name, c.c.description, c.c.archived, c.c.date_created
)
_by_sid = _columns.where(c.c.account_sid == sa.bindparam("account"), c.c.sid == sa.bindparam("sid"))


def get(conn: Connection, account_sid: str, sid: str, *, lock: bool = False) -> Configuration | None:
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


def list_page(conn: Connection, account_sid: str, size: int, cursor: Cursor | None) -> Page[Configuration]:
    stmt = _columns.where(c.c.account_sid == account_sid)
    return fetch_page(conn, stmt, c.c.id, size, cursor, lambda row: Configuration(*row))


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


def list_configured(
    conn: Connection, configuration: Configuration, size: int, cursor: Cursor | None
) -> Page[ConfiguredPlugin]:
    """The configured plugins in load order (phase, then the order given)."""
    stmt = _configured.where(cp.c.configuration_id == configuration.id)
    return fetch_page(
        conn, stmt, cp.c.position, size, cursor, lambda row: ConfiguredPlugin(*row), descending=False
    )


def all_configured(conn: Connection, configuration_id: int) -> list[ConfiguredPlugin]:
    stmt = _configured.where(cp.c.configuration_id == configuration_id).order_by(cp.c.position)
    return [ConfiguredPlugin(*row) for row in conn.execute(stmt)]


def get_configured(
    conn: Connection, configuration: Configuration, plugin_key: str
) -> ConfiguredPlugin | None:
    stmt = _configured.where(cp.c.configuration_id == configuration.id)
    if sids.is_sid(plugin_key, sids.PLUGIN):
        stmt = stmt.where(p.c.sid == sids.normalise(plugin_key))
    else:
        stmt = stmt.where(p.c.unique_name == plugin_key)
    row = conn.execute(stmt).first()
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
