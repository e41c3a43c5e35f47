"""`flexplugins secret-key`: the server key held outside the database (service/server_key.py)."""

from __future__ import annotations

import json

import click

from ..domain.errors import ApiError
from ..service import server_key
from .local import data_dir_option, database_option, fail, open_url, settings_for


@click.group("secret-key")
def secret_key_group() -> None:
    """The server key: with the database's secrets, it signs console sessions and page tokens."""


@secret_key_group.command("rotate")
@database_option
@data_dir_option
def rotate(database: str | None, data_dir: str | None) -> None:
    """Replace the server key and the database's signing secrets; every console session ends.

    Writes a new secret.key in the data directory, or, when FLEXPLUGINS_SECRET_KEY is set, adopts
    its (new) value. Then copy the file (or the variable) to every host and restart every server.
    """
    settings = settings_for(database, data_dir)
    try:
        rotated = server_key.rotate(settings, open_url(settings.database_url))
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"server_key": rotated.source, "console_sessions_ended": rotated.sessions_ended}))
    click.echo(
        "restart every server process of this database; on other hosts, install the same key first",
        err=True,
    )
