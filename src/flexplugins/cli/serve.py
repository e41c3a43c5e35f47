"""`flexplugins serve`: migrate the database, make the first account, run the server."""

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

from ..config import ENV_MIGRATED, Settings
from ..domain.errors import ApiError
from ..service import accounts, server_key
from ..storage.db import Database
from .local import data_dir_option, database_option, fail, open_url


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes.")
@database_option
@data_dir_option
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
    db = open_url(settings.database_url, create=True)
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
