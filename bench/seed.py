"""Seed a large account straight into the real schema (bulk inserts, no HTTP), for the benchmark.

At scale 1.0: 1,000 plugins, 100 versions each (100,000), 10,000 configurations of 20 plugins
(200,000 configured plugins) and 10,000 releases, plus a small account with 10 releases for the
"release with few earlier releases" comparison.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from flexplugins import sids
from flexplugins.service import accounts
from flexplugins.storage import tables as t
from flexplugins.storage.db import Database

CHUNK = 5000


@dataclass
class Seeded:
    account_sid: str
    token: str
    plugin_sid: str
    plugin_name: str
    version_string: str
    version_sids: list[str]  # one live version of each of 20 plugins, for create configuration
    configuration_sid: str  # a configuration of 20 plugins
    small_account_sid: str
    small_token: str
    small_configuration_sid: str
    counts: dict[str, int] = field(default_factory=dict)


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[start : start + CHUNK])


def _ids(conn: sa.Connection, table: sa.Table, account: str) -> list[int]:
    stmt = sa.select(table.c.id).where(table.c.account_sid == account).order_by(table.c.id)
    return [row[0] for row in conn.execute(stmt)]


def _seed_account(
    db: Database,
    plugins: int,
    versions_per_plugin: int,
    configurations: int,
    per_configuration: int,
    releases: int,
) -> tuple[str, str, dict[str, Any]]:
    account, token = accounts.create_account(db, "bench")
    acc = account.sid
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=365)
    info: dict[str, Any] = {}
    with db.write_engine.begin() as conn:
        plugin_rows = [
            {
                "sid": sids.new_sid(sids.PLUGIN),
                "account_sid": acc,
                "unique_name": f"plugin-{i:05d}",
                "friendly_name": f"Plugin {i}",
                "description": "A plugin seeded by the benchmark",
                "archived": False,
                "date_created": base + timedelta(seconds=i),
                "date_updated": base + timedelta(seconds=i),
            }
            for i in range(plugins)
        ]
        _insert(conn, t.plugins, plugin_rows)
        plugin_ids = _ids(conn, t.plugins, acc)
        version_rows = []
        for n, pid in enumerate(plugin_ids):
            for k in range(versions_per_plugin):
                version_rows.append(
                    {
                        "sid": sids.new_sid(sids.PLUGIN_VERSION),
                        "account_sid": acc,
                        "plugin_id": pid,
                        "version": f"1.{k // 10}.{k % 10}",
                        "plugin_url": f"https://assets.example.com/plugins/plugin-{n:05d}/1.{k}/bundle.js",
                        "changelog": "seeded",
                        "private": False,
                        "archived": False,
                        "validated": True,
                        "cli_version": "6.0.0",
                        "validate_status": "validated",
                        "date_created": base + timedelta(seconds=n * versions_per_plugin + k),
                    }
                )
        _insert(conn, t.plugin_versions, version_rows)
        # version ids come back in insertion order: plugin n, version k at n * vpp + k
        version_ids = _ids(conn, t.plugin_versions, acc)
        config_rows = [
            {
                "sid": sids.new_sid(sids.CONFIGURATION),
                "account_sid": acc,
                "name": f"configuration {i}",
                "description": "seeded",
                "archived": False,
                "date_created": base + timedelta(seconds=i),
            }
            for i in range(configurations)
        ]
        _insert(conn, t.configurations, config_rows)
        config_ids = _ids(conn, t.configurations, acc)
        configured = []
        for i, cid in enumerate(config_ids):
            for pos in range(per_configuration):
                n = (i * per_configuration + pos) % len(plugin_ids)
                k = i % versions_per_plugin
                configured.append(
                    {
                        "configuration_id": cid,
                        "position": pos,
                        "plugin_id": plugin_ids[n],
                        "plugin_version_id": version_ids[n * versions_per_plugin + k],
                        "phase": 3,
                    }
                )
        _insert(conn, t.configured_plugins, configured)
        release_rows = [
            {
                "sid": sids.new_sid(sids.RELEASE),
                "account_sid": acc,
                "configuration_id": config_ids[i % len(config_ids)],
                "seq": i + 1,
                "date_created": base + timedelta(seconds=i),
            }
            for i in range(releases)
        ]
        _insert(conn, t.releases, release_rows)
        conn.execute(t.accounts.update().where(t.accounts.c.sid == acc).values(release_seq=releases))
        info["plugin_sid"] = plugin_rows[0]["sid"]
        info["plugin_name"] = plugin_rows[0]["unique_name"]
        info["version_string"] = version_rows[versions_per_plugin // 2]["version"]
        info["version_sids"] = [version_rows[n * versions_per_plugin]["sid"] for n in range(min(20, plugins))]
        info["configuration_sid"] = config_rows[-1]["sid"]
        info["counts"] = {
            "plugins": len(plugin_rows),
            "versions": len(version_rows),
            "configurations": len(config_rows),
            "configured_plugins": len(configured),
            "releases": len(release_rows),
        }
    return acc, token, info


def seed(database_url: str, scale: float = 1.0) -> Seeded:
    db = Database(database_url)
    db.upgrade()
    started = time.monotonic()
    try:
        acc, token, info = _seed_account(
            db,
            plugins=max(20, int(1000 * scale)),
            versions_per_plugin=max(2, int(100 * scale)) if scale < 1 else 100,
            configurations=max(10, int(10_000 * scale)),
            per_configuration=20,
            releases=max(10, int(10_000 * scale)),
        )
        small, small_token, small_info = _seed_account(
            db, plugins=20, versions_per_plugin=1, configurations=10, per_configuration=20, releases=10
        )
        if db.url.startswith("postgresql"):
            with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.write_engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        db.dispose()
    info["counts"]["seconds"] = round(time.monotonic() - started, 1)
    return Seeded(
        account_sid=acc,
        token=token,
        plugin_sid=info["plugin_sid"],
        plugin_name=info["plugin_name"],
        version_string=info["version_string"],
        version_sids=info["version_sids"],
        configuration_sid=info["configuration_sid"],
        small_account_sid=small,
        small_token=small_token,
        small_configuration_sid=small_info["configuration_sid"],
        counts=info["counts"],
    )
