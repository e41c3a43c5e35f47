"""What the administration commands share: the local database they open, and how they fail.

Used by `serve` (cli/serve.py), `accounts`, `keys`, `db` (cli/admin.py), `tokens`, `secret-key` and
`db import`, which work on the database directly rather than through the HTTP API. Only `serve` and
`db upgrade` create a database; every other command refuses, creating nothing, one that does not
exist or was never migrated (a mistyped --data-dir would otherwise get an empty database of its own).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

import click
from alembic.util import CommandError
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from ..config import Settings
from ..domain.errors import ApiError
from ..storage.db import Database, make_sqlite_directory, sqlite_file

FIRST_RUN = "run `flexplugins serve` or `flexplugins db upgrade` first"


def settings_for(database: str | None, data_dir: str | None = None) -> Settings:
    return Settings.from_env(database_url=database, data_dir=Path(data_dir) if data_dir else None)


def open_db(database: str | None, data_dir: str | None = None) -> Database:
    """The database of --database/--data-dir (or the environment), which must exist already."""
    return open_url(settings_for(database, data_dir).database_url)


def shown(url: str) -> str:
    """A database URL as messages show it: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def open_url(url: str, *, create: bool = False, migrate: bool = True) -> Database:
    """The database at `url`, migrated to this release's schema unless `migrate` is false.

    With `create` (serve, db upgrade) a SQLite file and its directory are made when missing; else a
    missing SQLite file, or a database with no flexplugins schema, is refused. Every refusal is one
    line on stderr and exit status 1, never a traceback.
    """
    path = sqlite_file(url)
    if create:
        make_sqlite_directory(url)
    elif path is not None and not path.exists():
        refuse(f"no database at {path}: {FIRST_RUN}")
    db = Database(url)
    try:
        revision = db.current_revision()
        if revision is None and not create:
            db.dispose()
            refuse(f"the database {shown(db.url)} has no flexplugins schema (never migrated): {FIRST_RUN}")
        if migrate:
            db.upgrade()
    except exc.DBAPIError as error:
        db.dispose()
        # One line: the drivers' messages run over several ("Is the server running ...").
        reason = " ".join((str(error.orig) if error.orig is not None else str(error)).split())
        if path is not None and (
            not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))
        ):
            reason += " (the database file or its directory is read-only)"
        refuse(f"cannot use the database {shown(db.url)}: {reason}")
    except CommandError as error:  # e.g. a revision made by a newer flexplugins
        db.dispose()
        refuse(f"cannot migrate the database {shown(db.url)}: {' '.join(str(error).split())}")
    return db


def refuse(message: str) -> NoReturn:
    """One line on stderr, exit status 1; with --json, also {"error": {"message": ...}} on stdout."""
    click.echo(f"error: {message}", err=True)
    _error_document({"message": message})
    sys.exit(1)


def fail(error: ApiError) -> NoReturn:
    click.echo(f"error {error.code}: {error.message}", err=True)
    _error_document({"message": error.message, "code": error.code, "status": error.status})
    sys.exit(1)


def _error_document(body: dict[str, object]) -> None:
    # As the client commands do: a script that asked for --json reads one document on stdout.
    context = click.get_current_context(silent=True)
    if context is not None and context.params.get("as_json"):
        click.echo(json.dumps({"error": body}))


def emit(as_json: bool, document: object, text: str) -> None:
    """`document` as one JSON document with --json, else `text`."""
    click.echo(json.dumps(document) if as_json else text)


def emit_lines(as_json: bool, items: list[dict[str, object]]) -> None:
    """A list: one JSON array with --json, else one JSON object a line (easy to grep)."""
    if as_json:
        click.echo(json.dumps(items))
        return
    for item in items:
        click.echo(json.dumps(item))


database_option = click.option(
    "--database", metavar="URL", help="Database URL (default: FLEXPLUGINS_DATABASE_URL, else SQLite)."
)
data_dir_option = click.option(
    "--data-dir", metavar="DIR", help="Data directory (default: FLEXPLUGINS_DATA_DIR or .flexplugins)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
