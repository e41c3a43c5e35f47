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
