"""`flexplugins`: run the server, manage accounts and keys, migrate the database."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from .. import sids
from ..config import ENV_MIGRATED, Settings
from ..domain.errors import ApiError
from ..service import accounts, server_key
from ..storage.db import Database
from . import (
    apply,
    backup,
    browse,
    export,
    imports,
    manage,
    promote,
    secret_key,
    tokens,
    vendor,
    workflow,
)
from .local import database_option, fail, open_db, open_url, settings_for


@click.group()
@click.version_option(package_name="flexplugins")
def main() -> None:
    """flexplugins: a self-hosted Flex Plugins API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes.")
@database_option
@click.option(
    "--data-dir", metavar="DIR", help="Data directory (default: FLEXPLUGINS_DATA_DIR or .flexplugins)."
)
@click.option("--public-url", metavar="URL", help="Base of absolute URLs when behind a proxy.")
@click.option(
    "--vendor-proxy",
    metavar="HOST:PORT",
    help="Also listen here as the HTTPS proxy the vendor's CLI reaches its hosts through (see vendor-env).",
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=True,
    show_default=True,
    help="Take the client address and scheme from X-Forwarded-For/-Proto of trusted proxies.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Addresses (comma-separated, '*' for all) whose X-Forwarded-* are trusted [default: 127.0.0.1].",
)
@click.option(
    "--ephemeral",
    is_flag=True,
    help="A throw-away server for test suites: a fresh database removed on exit; prints one JSON line "
    '{"url", "account_sid", "auth_token"} on stdout when ready (use with --port 0 for a free port).',
)
@click.option(
    "--access-log",
    is_flag=True,
    default=False,
    help="Write one JSON line per request to stderr (also FLEXPLUGINS_ACCESS_LOG=on).",
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    host: str,
    port: int,
    workers: int,
    database: str | None,
    data_dir: str | None,
    public_url: str | None,
    vendor_proxy: str | None,
    proxy_headers: bool,
    forwarded_allow_ips: str | None,
    ephemeral: bool,
    access_log: bool,
    log_level: str,
) -> None:
    """Run the API server (migrating the database first)."""
    scratch = None
    if ephemeral:
        if database or data_dir:
            raise click.BadParameter(
                "makes its own database; give no --database or --data-dir", param_hint="--ephemeral"
            )
        if workers != 1:
            raise click.BadParameter("runs one process; give no --workers", param_hint="--ephemeral")
        scratch = data_dir = tempfile.mkdtemp(prefix="flexplugins-ephemeral-")
    try:
        _serve(
            host,
            port,
            workers,
            database,
            data_dir,
            public_url,
            vendor_proxy,
            proxy_headers,
            forwarded_allow_ips,
            log_level,
            ephemeral=ephemeral,
            access_log=access_log,
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(
    host: str,
    port: int,
    workers: int,
    database: str | None,
    data_dir: str | None,
    public_url: str | None,
    vendor_proxy: str | None,
    proxy_headers: bool,
    forwarded_allow_ips: str | None,
    log_level: str,
    *,
    ephemeral: bool,
    access_log: bool,
) -> None:
    from .. import server
    from ..api.observe import MetricsAccess
    from ..proxy.certs import ca_cert_path, ensure_ca

    settings = Settings.from_env(
        database_url=database,
        data_dir=Path(data_dir) if data_dir else None,
        public_url=public_url,
        vendor_proxy=vendor_proxy,
        access_log=True if access_log else None,
    )
    try:
        metrics_enabled = MetricsAccess(settings.metrics).enabled
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    proxy_address = None
    if settings.vendor_proxy:
        try:
            proxy_address = server.split_address(settings.vendor_proxy)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--vendor-proxy") from None
        if proxy_address[1] == port:
            raise click.BadParameter("must be another port than --port", param_hint="--vendor-proxy")
    # Bind first: a port in use fails here, before anything is created or announced.
    sockets = []
    try:
        sockets.append(server.bind(host, port))
        if proxy_address is not None:
            sockets.append(server.bind(*proxy_address))
    except OSError as error:
        for sock in sockets:
            sock.close()
        click.echo(f"error: cannot listen: {error.strerror or error}", err=True)
        sys.exit(1)
    if proxy_address is not None:
        # Port 0 picks a free port: tell the workers which one it is.
        bound = sockets[1].getsockname()[1]
        settings = replace(settings, vendor_proxy=f"{proxy_address[0]}:{bound}")
        ensure_ca(settings.data_dir)
    db = open_url(settings.database_url)
    announce = None
    if ephemeral:
        announce = _ephemeral_account(db, f"http://{host}:{sockets[0].getsockname()[1]}")
    else:
        _bootstrap_account(db, settings)
    db.dispose()
    os.environ.update(settings.to_env())
    # This process has just migrated the database: its workers need not check again.
    os.environ[ENV_MIGRATED] = "1"
    click.echo(
        f"flexplugins serving on http://{host}:{sockets[0].getsockname()[1]} "
        f"({db.url.split('://')[0]}, {workers} worker(s))",
        err=True,
    )
    if settings.vendor_proxy:
        click.echo(
            f"vendor proxy on {settings.vendor_proxy}; CA certificate {ca_cert_path(settings.data_dir)}"
            f' (eval "$(flexplugins vendor-env --vendor-proxy {settings.vendor_proxy}'
            f' --data-dir {settings.data_dir.absolute()})")',
            err=True,
        )
    config = server.make_config(
        settings,
        workers=workers,
        log_level=log_level,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    with multiprocess_metrics(metrics_enabled and workers > 1):
        server.run(config, sockets, on_ready=announce)


@contextlib.contextmanager
def multiprocess_metrics(shared: bool) -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for this run: with several workers, a fresh private directory (made
    here, removed at exit) where each worker keeps its metrics for /metrics to add up; otherwise
    unset, so that metrics stay in the one process. An inherited value is never used: files of an
    earlier run would be counted again."""
    from ..metrics import ENV_MULTIPROC_DIR, fresh_multiprocess_dir

    os.environ.pop(ENV_MULTIPROC_DIR, None)
    if not shared:
        yield
        return
    directory = fresh_multiprocess_dir()
    os.environ[ENV_MULTIPROC_DIR] = str(directory)
    try:
        yield
    finally:
        os.environ.pop(ENV_MULTIPROC_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def _ephemeral_account(db: Database, url: str) -> Callable[[], None]:
    """The throw-away server's account (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN if both are set), and the
    line that tells a test harness where it is, printed once the server answers."""
    sid = os.environ.get("TWILIO_ACCOUNT_SID")
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    try:
        if sid and token:
            accounts.ensure_account(db, sid, token)
        else:
            account, token = accounts.create_account(db)
            sid = account.sid
    except ApiError as error:
        fail(error)
    line = json.dumps({"url": url, "account_sid": sid, "auth_token": token})

    def announce() -> None:
        click.echo(line)
        sys.stdout.flush()

    return announce


def _bootstrap_account(db: Database, settings: Settings) -> None:
    """The server key checked, and the first account (or TWILIO_ACCOUNT_SID's) made; said once.

    A TWILIO_AUTH_TOKEN that is not the stored token of an existing account stops the server:
    clients configured from the same variables would all be refused.
    """
    sid = os.environ.get("TWILIO_ACCOUNT_SID")
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    try:
        server_key.load_checked(settings, db)
        if sid and token:
            found = accounts.ensure_account(db, sid, token)
            if found is accounts.Bootstrap.CREATED:
                click.echo(f"created account {sid} with the auth token from TWILIO_AUTH_TOKEN", err=True)
            elif found is accounts.Bootstrap.WEAK:
                click.echo(
                    f"warning: the auth token of account {sid} (TWILIO_AUTH_TOKEN) is weak and would be "
                    "refused for a new account; replace it: flexplugins accounts rotate-token "
                    f"--account {sid}",
                    err=True,
                )
            elif found is accounts.Bootstrap.MISMATCH:
                click.echo(
                    f"error: TWILIO_AUTH_TOKEN is not the auth token of account {sid}, which exists "
                    "(the token is never changed from the environment). Set TWILIO_AUTH_TOKEN to the "
                    "account's current token, or unset it; to change the token, run "
                    f"`flexplugins accounts rotate-token --account {sid}`",
                    err=True,
                )
                sys.exit(1)
            return
        if accounts.count_accounts(db) == 0:
            account, auth_token = accounts.create_account(db)
            click.echo("created the first account; its auth token is shown only now:", err=True)
            click.echo(json.dumps({"account_sid": account.sid, "auth_token": auth_token}))
    except ApiError as error:
        fail(error)


@main.group("accounts")
def accounts_group() -> None:
    """Accounts (each owns its plugins, configurations and releases)."""


@accounts_group.command("create")
@click.option("--friendly-name", default="flexplugins account", show_default=True)
@database_option
def accounts_create(friendly_name: str, database: str | None) -> None:
    """Create an account; prints its SID and auth token as JSON (the token is shown only once)."""
    try:
        account, token = accounts.create_account(open_db(database), friendly_name)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"account_sid": account.sid, "auth_token": token}))


@accounts_group.command("rotate-token")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@database_option
def accounts_rotate_token(account_sid: str, database: str | None) -> None:
    """Give the account a new auth token; prints it as JSON once. The old token stops working
    within FLEXPLUGINS_AUTH_CACHE_SECONDS on every server, and the account's console sessions end."""
    try:
        token = accounts.rotate_token(open_db(database), account_sid)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"account_sid": sids.normalise(account_sid), "auth_token": token}))


@accounts_group.command("list")
@database_option
def accounts_list(database: str | None) -> None:
    """List accounts as JSON lines."""
    for account in accounts.list_accounts(open_db(database)):
        click.echo(
            json.dumps(
                {
                    "account_sid": account.sid,
                    "friendly_name": account.friendly_name,
                    "date_created": account.date_created.isoformat(),
                }
            )
        )


@main.group("keys")
def keys_group() -> None:
    """API keys of an account (SK SIDs with a secret, usable instead of the auth token)."""


@keys_group.command("create")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@click.option("--friendly-name", default="")
@database_option
def keys_create(account_sid: str, friendly_name: str, database: str | None) -> None:
    """Create an API key; prints its SID and secret as JSON (the secret is shown only once)."""
    try:
        key = accounts.create_key(open_db(database), account_sid, friendly_name, kind="api")
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"key_sid": key.sid, "secret": key.secret, "account_sid": account_sid}))


@keys_group.command("list")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@database_option
def keys_list(account_sid: str, database: str | None) -> None:
    """List the API keys of an account as JSON lines."""
    for sid, name, created, revoked in accounts.list_keys(open_db(database), account_sid, "api"):
        click.echo(
            json.dumps({"key_sid": sid, "friendly_name": name, "date_created": created, "revoked": revoked})
        )


@keys_group.command("revoke")
@click.option("--account", "account_sid", required=True, metavar="AC...")
@click.argument("key_sid")
@database_option
def keys_revoke(account_sid: str, key_sid: str, database: str | None) -> None:
    """Revoke an API key."""
    try:
        accounts.revoke_key(open_db(database), account_sid, key_sid)
    except ApiError as error:
        fail(error)
    click.echo(json.dumps({"key_sid": key_sid, "revoked": True}))


@main.group("db")
def db_group() -> None:
    """Database migrations, backups (db backup), and restoring an export file (db import)."""


@db_group.command("upgrade")
@database_option
def db_upgrade(database: str | None) -> None:
    """Apply all migrations."""
    db = open_db(database)
    click.echo(f"database at revision {db.current_revision()}")


@db_group.command("current")
@database_option
def db_current(database: str | None) -> None:
    """Print the current migration revision."""
    db = Database(settings_for(database).database_url)
    click.echo(str(db.current_revision()))


db_group.add_command(imports.db_import)
db_group.add_command(backup.db_backup)
main.add_command(tokens.tokens_group)
main.add_command(vendor.vendor_env)
main.add_command(secret_key.secret_key_group)
for _command in (
    workflow.deploy,
    workflow.release,
    workflow.rollback,
    browse.list_group,
    browse.describe_group,
    browse.diff,
    manage.archive_group,
    browse.history,
    manage.login,
    export.export,
    promote.promote,
    apply.apply_file,
):
    main.add_command(_command)


if __name__ == "__main__":
    main()
