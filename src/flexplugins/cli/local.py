"""What the administration commands share: the local database they open, and how they fail.

Used by `serve`, `accounts`, `keys`, `db` (cli/main.py) and `tokens` (cli/tokens.py), which work on
the database directly rather than through the HTTP API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from ..config import Settings
from ..domain.errors import ApiError
from ..storage.db import Database


def settings_for(database: str | None, data_dir: str | None = None) -> Settings:
    return Settings.from_env(database_url=database, data_dir=Path(data_dir) if data_dir else None)


def open_db(database: str | None) -> Database:
    return open_url(settings_for(database).database_url)


def open_url(url: str) -> Database:
    """The database, migrated; one clear line and exit status 1 (not a traceback) when it is unusable."""
    db = Database(url)
    try:
        db.upgrade()
    except exc.DBAPIError as error:
        reason = str(error.orig) if error.orig is not None else str(error)
        location = make_url(db.url)
        if db.is_sqlite and location.database:
            path = Path(location.database)
            if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
                reason += " (the database file or its directory is read-only)"
        click.echo(
            f"error: cannot use the database {location.render_as_string(hide_password=True)}: {reason}",
            err=True,
        )
        sys.exit(1)
    return db


def fail(error: ApiError) -> None:
    click.echo(f"error {error.code}: {error.message}", err=True)
    sys.exit(1)


database_option = click.option(
    "--database", metavar="URL", help="Database URL (default: FLEXPLUGINS_DATABASE_URL, else SQLite)."
)
