"""Queries of `db import`: rows written with the SIDs, dates and flags of an export, and an account wiped.

Rows are inserted one at a time, oldest first, so their keys (the order every list follows) come
out in the order of the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.bundles import bundle_key
from ..domain.imports import AuditRow, ConfigurationRow, PluginRow, ReleaseRow, VersionRow
from .tables import (
    accounts,
    audit_events,
    bundles,
    configurations,
    configured_plugins,
    plugin_versions,
    plugins,
    serverless_asset_versions,
)
from .tables import releases as releases_table

_CHUNK = 500
_OWNED = (plugins, configurations, releases_table, bundles, audit_events)
_BY_KIND = {
    "plugin": plugins,
    "plugin_version": plugin_versions,
    "configuration": configurations,
    "release": releases_table,
}


def has_resources(conn: Connection, account_sid: str) -> bool:
    """Whether the account holds anything an import would write: plugins, configurations, bundles..."""
    for table in _OWNED:
        stmt = sa.select(sa.literal(1)).select_from(table).where(table.c.account_sid == account_sid).limit(1)
        if conn.execute(stmt).first() is not None:
            return True
    return False


def delete_resources(conn: Connection, account_sid: str) -> None:
    """Every plugin, version, configuration, release, bundle and audit event of the account.

    Its auth token, API keys and runtime tokens stay.
    """
    owned_configurations = sa.select(configurations.c.id).where(configurations.c.account_sid == account_sid)
    conn.execute(releases_table.delete().where(releases_table.c.account_sid == account_sid))
    conn.execute(
        configured_plugins.delete().where(configured_plugins.c.configuration_id.in_(owned_configurations))
    )
    conn.execute(configurations.delete().where(configurations.c.account_sid == account_sid))
    conn.execute(plugin_versions.delete().where(plugin_versions.c.account_sid == account_sid))
    conn.execute(plugins.delete().where(plugins.c.account_sid == account_sid))
    # Bundles a Serverless asset version still holds stay: an environment may be serving them.
    held = sa.select(serverless_asset_versions.c.sha256).where(
        serverless_asset_versions.c.account_sid == account_sid
    )
    conn.execute(bundles.delete().where(bundles.c.account_sid == account_sid, bundles.c.sha256.not_in(held)))
    conn.execute(audit_events.delete().where(audit_events.c.account_sid == account_sid))


def foreign_sids(conn: Connection, account_sid: str, kind: str, sids: Sequence[str]) -> list[tuple[str, str]]:
    """(SID, owning account) of those of `sids` that another account of this database holds."""
    table = _BY_KIND[kind]
    found: list[tuple[str, str]] = []
    for start in range(0, len(sids), _CHUNK):
        chunk = list(sids[start : start + _CHUNK])
        stmt = sa.select(table.c.sid, table.c.account_sid).where(
            table.c.sid.in_(chunk), table.c.account_sid != account_sid
        )
        found.extend((str(row[0]), str(row[1])) for row in conn.execute(stmt))
    return found


def insert_plugin(conn: Connection, account_sid: str, row: PluginRow) -> int:
    return int(
        conn.execute(
            plugins.insert()
            .values(
                sid=row.sid,
                account_sid=account_sid,
                unique_name=row.unique_name,
                friendly_name=row.friendly_name,
                description=row.description,
                archived=row.archived,
                date_created=row.date_created,
                date_updated=row.date_updated,
            )
            .returning(plugins.c.id)
        ).scalar_one()
    )


def insert_version(
    conn: Connection, account_sid: str, plugin_id: int, row: VersionRow, plugin_url: str
) -> int:
    # As a version created through the API: the bundle of this account its URL names, by identity.
    hosted = bundle_key(plugin_url)
    bundle_sha256 = hosted[1] if hosted is not None and hosted[0] == account_sid else None
    return int(
        conn.execute(
            plugin_versions.insert()
            .values(
                sid=row.sid,
                account_sid=account_sid,
                plugin_id=plugin_id,
                version=row.version,
                plugin_url=plugin_url,
                bundle_sha256=bundle_sha256,
                changelog=row.changelog,
                private=row.private,
                archived=row.archived,
                validated=row.validated,
                date_created=row.date_created,
            )
            .returning(plugin_versions.c.id)
        ).scalar_one()
    )


def insert_configuration(
    conn: Connection, account_sid: str, row: ConfigurationRow, contents: Sequence[tuple[int, int, int]]
) -> int:
    """contents: (plugin id, plugin version id, phase) in load order."""
    new_id = int(
        conn.execute(
            configurations.insert()
            .values(
                sid=row.sid,
                account_sid=account_sid,
                name=row.name,
                description=row.description,
                archived=row.archived,
                date_created=row.date_created,
            )
            .returning(configurations.c.id)
        ).scalar_one()
    )
    if contents:
        conn.execute(
            configured_plugins.insert(),
            [
                {
                    "configuration_id": new_id,
                    "position": position,
                    "plugin_id": plugin_id,
                    "plugin_version_id": version_id,
                    "phase": phase,
                }
                for position, (plugin_id, version_id, phase) in enumerate(contents)
            ],
        )
    return new_id


def insert_release(
    conn: Connection, account_sid: str, configuration_id: int, row: ReleaseRow, seq: int
) -> None:
    conn.execute(
        releases_table.insert().values(
            sid=row.sid,
            account_sid=account_sid,
            configuration_id=configuration_id,
            seq=seq,
            date_created=row.date_created,
        )
    )


def set_release_seq(conn: Connection, account_sid: str, seq: int) -> None:
    """The account's release counter: the next release takes seq + 1."""
    conn.execute(accounts.update().where(accounts.c.sid == account_sid).values(release_seq=seq))


def insert_bundle(
    conn: Connection,
    account_sid: str,
    sha256: str,
    integrity: str,
    content_type: str,
    data: bytes,
    when: datetime,
) -> None:
    """Store the bytes, unless the account holds them already (kept by --replace for an asset)."""
    kept = sa.select(sa.literal(1)).where(bundles.c.account_sid == account_sid, bundles.c.sha256 == sha256)
    if conn.execute(kept).first() is not None:
        return
    conn.execute(
        bundles.insert().values(
            account_sid=account_sid,
            sha256=sha256,
            integrity=integrity,
            size=len(data),
            content_type=content_type,
            data=data,
            date_created=when,
        )
    )


def insert_audit_event(conn: Connection, account_sid: str, row: AuditRow) -> None:
    conn.execute(
        audit_events.insert().values(
            account_sid=account_sid,
            credential_sid=row.credential_sid,
            action=row.action,
            resource_sid=row.resource_sid,
            flex_metadata=row.flex_metadata,
            date_created=row.date_created,
        )
    )
