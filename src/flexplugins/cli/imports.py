"""`flexplugins db import`: an export file restored into an account of a flexplugins database.

An administration command like `accounts create`: it works on the database directly.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from typing import IO

import click

from ..domain.errors import ApiError
from ..service import imports
from .local import data_dir_option, database_option, fail, open_url, settings_for


@click.command("import")
@click.argument("file", metavar="FILE")
@database_option
@data_dir_option
@click.option(
    "--account",
    "account_sid",
    metavar="AC...",
    help="The account to restore into (default: the file's); created when it does not exist.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Delete the account's plugins, versions, configurations, releases, bundles and audit trail "
    "first, in the same transaction (its credentials stay).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="This server's base URL, for the versions whose bundles the file holds "
    "(default: FLEXPLUGINS_PUBLIC_URL; else their host is kept).",
)
def db_import(
    file: str,
    database: str | None,
    data_dir: str | None,
    account_sid: str | None,
    replace: bool,
    public_url: str | None,
) -> None:
    """Restore the export FILE ('-': standard input) into an account, in one transaction.

    Every checksum is verified first; a damaged or truncated file is refused with nothing written.
    An account that already has resources is refused unless --replace is given. Prints JSON with
    the account SID, and its auth token when the import created the account (shown only once).
    """
    settings = settings_for(database, data_dir)
    try:
        with _open(file) as stream:
            # Verified before the database is even opened: a damaged file changes nothing anywhere.
            plan = imports.read_plan(stream)
            # A restore is how a new host gets its data: it makes the database, as db upgrade does.
            db = open_url(settings.database_url, create=True)
            try:
                result = imports.import_export(
                    db,
                    stream,
                    account=account_sid,
                    replace=replace,
                    public_url=public_url or settings.public_url,
                    plan=plan,
                )
            finally:
                db.dispose()
    except ApiError as error:
        fail(error)
    except OSError as error:
        click.echo(f"error: cannot read {file}: {error.strerror or error}", err=True)
        sys.exit(1)
    out: dict[str, object] = {"account_sid": result.account_sid}
    if result.auth_token is not None:
        out["auth_token"] = result.auth_token
    out.update(replaced=result.replaced, imported=result.counts)
    click.echo(json.dumps(out))


def _open(file: str) -> IO[bytes]:
    """The file, or standard input copied to a temporary file (the import reads it twice)."""
    if file != "-":
        return open(file, "rb")  # noqa: SIM115 (closed by the caller)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the caller)
    shutil.copyfileobj(sys.stdin.buffer, spool)
    spool.seek(0)
    return spool
