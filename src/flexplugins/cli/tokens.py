"""`flexplugins tokens`: read-only runtime tokens for host applications.

A runtime token is an SK key of kind "runtime": with its secret, a host page can read the runtime
manifest, the import map and the hosted bundles of its account, and nothing else.
"""

from __future__ import annotations

import base64
import json

import click

from ..domain.errors import ApiError, not_found
from ..service import accounts
from .local import data_dir_option, database_option, emit_lines, fail, json_option, open_db

KIND = "runtime"


account_option = click.option("--account", "account_sid", required=True, metavar="AC...")


@click.group("tokens")
def tokens_group() -> None:
    """Runtime tokens: read the manifest and bundles of one account, nothing else."""


@tokens_group.command("create")
@account_option
@click.option("--friendly-name", default="runtime", show_default=True)
@database_option
@data_dir_option
def tokens_create(account_sid: str, friendly_name: str, database: str | None, data_dir: str | None) -> None:
    """Create a runtime token; prints its SID and secret as JSON (the secret is shown only once)."""
    try:
        token = accounts.create_key(open_db(database, data_dir), account_sid, friendly_name, kind=KIND)
    except ApiError as error:
        fail(error)
    basic = base64.b64encode(f"{token.sid}:{token.secret}".encode()).decode()
    click.echo(
        json.dumps(
            {
                "token_sid": token.sid,
                "secret": token.secret,
                "account_sid": account_sid,
                "authorization": f"Basic {basic}",
            }
        )
    )


@tokens_group.command("list")
@account_option
@database_option
@data_dir_option
@json_option
def tokens_list(account_sid: str, database: str | None, data_dir: str | None, as_json: bool) -> None:
    """List the runtime tokens of an account as JSON lines (--json: one JSON array); secrets are
    never shown again."""
    try:
        tokens = accounts.list_keys(open_db(database, data_dir), account_sid, KIND)
    except ApiError as error:
        fail(error)
    emit_lines(
        as_json,
        [
            {"token_sid": sid, "friendly_name": name, "date_created": created, "revoked": revoked}
            for sid, name, created, revoked in tokens
        ],
    )


@tokens_group.command("revoke")
@account_option
@click.argument("token_sid")
@database_option
@data_dir_option
def tokens_revoke(account_sid: str, token_sid: str, database: str | None, data_dir: str | None) -> None:
    """Revoke a runtime token; host pages using it get 401 within seconds."""
    db = open_db(database, data_dir)
    try:
        # Only runtime tokens: an API key is revoked with `flexplugins keys revoke`.
        if not any(sid.lower() == token_sid.lower() for sid, *_ in accounts.list_keys(db, account_sid, KIND)):
            raise not_found(f"Runtime token {token_sid} of account {account_sid} was not found")
        accounts.revoke_key(db, account_sid, token_sid)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"token_sid": token_sid, "revoked": True}))
