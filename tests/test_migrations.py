"""Alembic migrations, on SQLite and PostgreSQL: they build exactly the tables the code declares,
and a database made by an older release upgrades in place with its data intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from flexplugins.config import Settings
from flexplugins.service import accounts
from flexplugins.storage import tables
from flexplugins.storage.db import MIGRATIONS_DIR, Database
from tests.conftest import make_database_url, start_server

API = "/v1/PluginService"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    yield from make_database_url(backend, tmp_path, pg_available)


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade_to(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.write_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_the_migrations_build_the_declared_schema(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.write_engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), tables.metadata)
        assert differences == []
    finally:
        db.dispose()


def test_a_database_of_the_previous_release_upgrades_with_its_data(empty_url: str, tmp_path: Path) -> None:
    """Made at revision 0002 (before accounts.change_seq), served by this release after upgrading."""
    db = Database(empty_url)
    try:
        upgrade_to(db, "0002")
        account, token = accounts.create_account(db, "from 0002")
    finally:
        db.dispose()
    serving = start_server(Settings(database_url=empty_url, data_dir=tmp_path))
    server = next(serving)  # start_server applies the remaining migrations, as `serve` does
    try:
        assert server.db.current_revision() == head_revision()
        with httpx.Client(base_url=server.url, auth=(account.sid, token)) as http:
            plugin = http.post(f"{API}/Plugins", data={"UniqueName": "upgraded"}).json()
            version = http.post(
                f"{API}/Plugins/upgraded/Versions",
                data={"Version": "1.0.0", "PluginUrl": "https://cdn.example.com/a.js"},
            ).json()
            entry = json.dumps({"plugin_version": version["sid"]})
            configuration = http.post(f"{API}/Configurations", data={"Name": "c", "Plugins": entry}).json()
            http.post(f"{API}/Releases", data={"ConfigurationId": configuration["sid"]})
            assert http.get(f"{API}/Releases/Active").json()["configuration_sid"] == configuration["sid"]
            assert http.get(f"{API}/Plugins/{plugin['sid']}").json()["unique_name"] == "upgraded"
    finally:
        with pytest.raises(StopIteration):
            next(serving)


def test_private_versions_of_an_older_database_keep_their_bundles_private(
    empty_url: str, tmp_path: Path
) -> None:
    """At 0003 privacy was a match on the URL's text; after the upgrade it is the bundle's identity,
    read from every existing PluginUrl, so a cache-busted or re-spelled URL of a private version
    makes its bundle private too."""
    import hashlib
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from flexplugins import sids
    from flexplugins.service import bundles

    db = Database(empty_url)
    data = b"console.log('private before the upgrade');"
    public = b"console.log('public before the upgrade');"
    try:
        upgrade_to(db, "0003")
        account, token = accounts.create_account(db, "from 0003")
        when = datetime.now(UTC).replace(microsecond=0)
        old_bundles = sa.table(
            "bundles", *(sa.column(c) for c in ("account_sid", "sha256", "integrity", "size", "content_type"))
        )
        old_bundles.append_column(sa.column("data", sa.LargeBinary()))
        old_bundles.append_column(sa.column("date_created", sa.DateTime(timezone=True)))
        plugins = sa.table("plugins", *(sa.column(c) for c in ("id", "sid", "account_sid", "unique_name")))
        plugins.append_column(sa.column("date_created", sa.DateTime(timezone=True)))
        plugins.append_column(sa.column("date_updated", sa.DateTime(timezone=True)))
        versions = sa.table(
            "plugin_versions",
            *(sa.column(c) for c in ("sid", "account_sid", "plugin_id", "version", "plugin_url")),
        )
        versions.append_column(sa.column("private", sa.Boolean()))
        versions.append_column(sa.column("date_created", sa.DateTime(timezone=True)))
        digests = [hashlib.sha256(d).hexdigest() for d in (data, public)]
        with db.write_engine.begin() as conn:
            for blob, digest in zip((data, public), digests, strict=True):
                conn.execute(
                    old_bundles.insert().values(
                        account_sid=account.sid,
                        sha256=digest,
                        integrity=bundles.integrity(blob),
                        size=len(blob),
                        content_type="application/javascript",
                        data=blob,
                        date_created=when,
                    )
                )
            conn.execute(
                plugins.insert().values(
                    sid=sids.new_sid(sids.PLUGIN),
                    account_sid=account.sid,
                    unique_name="old",
                    date_created=when,
                    date_updated=when,
                )
            )
            plugin_id = conn.execute(sa.select(plugins.c.id)).scalar_one()
            for version, digest, private in (("1.0.0", digests[0], True), ("1.0.1", digests[1], False)):
                conn.execute(
                    versions.insert().values(
                        sid=sids.new_sid(sids.PLUGIN_VERSION),
                        account_sid=account.sid,
                        plugin_id=plugin_id,
                        version=version,
                        private=private,
                        date_created=when,
                        plugin_url=f"https://cdn.example.com{bundles.path_of(account.sid, digest)}?v=1",
                    )
                )
    finally:
        db.dispose()
    serving = start_server(Settings(database_url=empty_url, data_dir=tmp_path))
    server = next(serving)
    try:
        private_url = server.url + bundles.path_of(account.sid, digests[0])
        public_url = server.url + bundles.path_of(account.sid, digests[1])
        assert httpx.get(private_url).status_code == 401
        assert httpx.get(private_url, auth=(account.sid, token)).content == data
        assert httpx.get(public_url).content == public
    finally:
        with pytest.raises(StopIteration):
            next(serving)
