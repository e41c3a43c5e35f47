"""`flexplugins accounts`, `keys` and `db`: administration on the database itself, not over HTTP."""

from __future__ import annotations

import json

import click

from .. import sids
from ..domain.errors import ApiError
from ..service import accounts
from . import backup, imports
from .local import (
    data_dir_option,
    database_option,
    emit,
    emit_lines,
    fail,
    json_option,
    open_db,
    open_url,
    settings_for,
    shown,
)


@click.group("accounts")
def accounts_group() -> None:
    """Accounts (each owns its plugins, configurations and releases)."""


@accounts_group.command("create")
@click.option("--friendly-name", default="flexplugins account", show_default=True)
@database_option
@data_dir_option
def accounts_create(friendly_name: str, database: str | None, data_dir: str | None) -> None:
    """Create an account; prints its SID and auth token as JSON (the token is shown only once)."""
    try:
        account, token = accounts.create_account(open_db(database, data_dir), friendly_name)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"account_sid": account.sid, "auth_token": token}))


@accounts_group.command("rotate-token")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@database_option
@data_dir_option
def accounts_rotate_token(account_sid: str, database: str | None, data_dir: str | None) -> None:
    """Give the account a new auth token; prints it as JSON once. The old token stops working
    within FLEXPLUGINS_AUTH_CACHE_SECONDS on every server, and the account's console sessions end."""
    try:
        token = accounts.rotate_token(open_db(database, data_dir), account_sid)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"account_sid": sids.normalise(account_sid), "auth_token": token}))


@accounts_group.command("list")
@database_option
@data_dir_option
@json_option
def accounts_list(database: str | None, data_dir: str | None, as_json: bool) -> None:
    """List accounts as JSON lines (--json: one JSON array)."""
    items: list[dict[str, object]] = [
        {
            "account_sid": account.sid,
            "friendly_name": account.friendly_name,
            "date_created": account.date_created.isoformat(),
        }
        for account in accounts.list_accounts(open_db(database, data_dir))
    ]
    emit_lines(as_json, items)


@click.group("keys")
def keys_group() -> None:
    """API keys of an account (SK SIDs with a secret, usable instead of the auth token)."""


@keys_group.command("create")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@click.option("--friendly-name", default="")
@database_option
@data_dir_option
def keys_create(account_sid: str, friendly_name: str, database: str | None, data_dir: str | None) -> None:
    """Create an API key; prints its SID and secret as JSON (the secret is shown only once)."""
    try:
        key = accounts.create_key(open_db(database, data_dir), account_sid, friendly_name, kind="api")
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"key_sid": key.sid, "secret": key.secret, "account_sid": account_sid}))


@keys_group.command("list")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@database_option
@data_dir_option
@json_option
def keys_list(account_sid: str, database: str | None, data_dir: str | None, as_json: bool) -> None:
    """List the API keys of an account as JSON lines (--json: one JSON array)."""
    try:
        keys = accounts.list_keys(open_db(database, data_dir), account_sid, "api")
    except ApiError as error:
        fail(error)
    emit_lines(
        as_json,
        [
            {"key_sid": sid, "friendly_name": name, "date_created": created, "revoked": revoked}
            for sid, name, created, revoked in keys
        ],
    )


@keys_group.command("revoke")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@click.argument("key_sid")
@database_option
@data_dir_option
def keys_revoke(account_sid: str, key_sid: str, database: str | None, data_dir: str | None) -> None:
    """Revoke an API key."""
    try:
        accounts.revoke_key(open_db(database, data_dir), account_sid, key_sid)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"key_sid": key_sid, "revoked": True}))


@click.group("db")
def db_group() -> None:
    """Database migrations, backups (db backup), and restoring an export file (db import)."""


@db_group.command("upgrade")
@database_option
@data_dir_option
@json_option
def db_upgrade(database: str | None, data_dir: str | None, as_json: bool) -> None:
    """Apply all migrations (creating the database when there is none)."""
    db = open_url(settings_for(database, data_dir).database_url, create=True)
    revision = db.current_revision()
    db.dispose()
    emit(as_json, {"database": shown(db.url), "revision": revision}, f"database at revision {revision}")


@db_group.command("current")
@database_option
@data_dir_option
@json_option
def db_current(database: str | None, data_dir: str | None, as_json: bool) -> None:
    """Print the current migration revision."""
    db = open_url(settings_for(database, data_dir).database_url, migrate=False)
    revision = db.current_revision()
    db.dispose()
    emit(as_json, {"database": shown(db.url), "revision": revision}, str(revision))


db_group.add_command(imports.db_import)
db_group.add_command(backup.db_backup)
