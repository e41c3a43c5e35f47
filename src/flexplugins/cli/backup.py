"""`flexplugins db backup FILE`: an online, consistent copy of the SQLite database."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.engine import make_url

from ..config import ENV_DATA_DIR, ENV_DATABASE_URL
from ..storage.backup import BackupError, backup_sqlite
from ..storage.db import normalise_url


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--database", metavar="URL", help="Database URL (default: FLEXPLUGINS_DATABASE_URL, else SQLite)."
)
@click.option(
    "--data-dir", metavar="DIR", help="Data directory of the SQLite database (default: .flexplugins)."
)
def db_backup(file: Path, database: str | None, data_dir: str | None) -> None:
    """Copy the SQLite database to FILE while the server runs (PostgreSQL: use pg_dump)."""
    if database and data_dir:
        raise click.UsageError("give --database or --data-dir, not both")
    url = database or (None if data_dir else os.environ.get(ENV_DATABASE_URL))
    if url:
        location = make_url(normalise_url(url))
        if not location.drivername.startswith("sqlite"):
            shown = location.set(drivername="postgresql", password=None).render_as_string()
            _refuse(
                "flexplugins db backup copies SQLite databases only; for PostgreSQL run "
                f"pg_dump --format=custom --file {file} '{shown}' "
                "(and pg_restore to bring it back; see docs/operations.md)"
            )
        if not location.database or location.database == ":memory:":
            _refuse(f"{url} is not a database file")
        source = Path(location.database)
    else:
        source = Path(data_dir or os.environ.get(ENV_DATA_DIR) or ".flexplugins") / "flexplugins.db"
    try:
        done = backup_sqlite(source, file)
    except BackupError as error:
        _refuse(str(error))
    summary = {"source": str(done.source), "backup": str(done.target), "bytes": done.size}
    click.echo(json.dumps({**summary, "revision": done.revision}))


def _refuse(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
