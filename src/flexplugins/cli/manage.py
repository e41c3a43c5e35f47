"""`flexplugins archive` and `login`: retiring what is no longer wanted, and saving credentials."""

from __future__ import annotations

import os

import click

from ..client import Client, FlexPluginsError
from . import plans
from .common import (
    DEFAULT_URL,
    METADATA,
    CliError,
    Session,
    client_command,
    read_profiles,
    server_url,
    write_profiles,
)

# --- archive ----------------------------------------------------------------------------------


@click.group("archive")
def archive_group() -> None:
    """Archive a plugin, a plugin version or a configuration (refused while the active release holds it)."""


@archive_group.command("plugin")
@click.argument("plugin")
@client_command
def archive_plugin(session: Session, plugin: str) -> None:
    """Archive PLUGIN (name or SID): it can no longer get versions or be configured."""
    archived = session.client.archive_plugin(plugin)
    session.emit(
        archived, lambda: session.console.print(f"Archived plugin {archived.unique_name} ({archived.sid})")
    )


@archive_group.command("version")
@click.argument("plugin")
@click.argument("version", required=False)
@client_command
def archive_version(session: Session, plugin: str, version: str | None) -> None:
    """Archive a plugin version: PLUGIN VERSION, or NAME@VERSION."""
    if version is None:
        plugin, version = plans.split_spec(plugin)
        if version == plans.LATEST:
            raise CliError("Name the version to archive: NAME@VERSION")
    archived = session.client.archive_version(plugin, version)
    session.emit(
        archived,
        lambda: session.console.print(
            f"Archived plugin version {plugin}@{archived.version} ({archived.sid})"
        ),
    )


@archive_group.command("configuration")
@click.argument("configuration", metavar="FJ...")
@client_command
def archive_configuration(session: Session, configuration: str) -> None:
    """Archive a configuration: it can no longer be released."""
    archived = session.client.archive_configuration(configuration)
    session.emit(
        archived, lambda: session.console.print(f"Archived configuration {archived.sid} ({archived.name})")
    )


# --- login ------------------------------------------------------------------------------------


@click.command()
@click.option("--url", envvar="FLEXPLUGINS_URL", default=DEFAULT_URL, show_default=True, metavar="URL")
@click.option("--profile", "name", default="default", show_default=True, help="The profile to save.")
@click.option(
    "--sid", metavar="AC...|SK...", help="Account SID or API key SID (default: from the environment)."
)
@click.option("--secret", help="Auth token or API key secret (default: from the environment, else asked).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def login(url: str, name: str, sid: str | None, secret: str | None, as_json: bool) -> None:
    """Check credentials against the server and save them as a profile readable only by you.

    Later commands use the profile given with --profile, else the environment's credentials, else
    the last profile saved.
    """
    session = Session(url, name, as_json)
    try:
        url = server_url(url)
    except CliError as error:
        session.fail(str(error))
    env = os.environ
    if sid is None and secret is None:
        if env.get("TWILIO_API_KEY") and env.get("TWILIO_API_SECRET"):
            sid, secret = env["TWILIO_API_KEY"], env["TWILIO_API_SECRET"]
        elif env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"):
            sid, secret = env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"]
    if sid is None:
        sid = click.prompt("Account SID or API key SID")
    if secret is None:
        secret = click.prompt("Auth token or API key secret", hide_input=True)
    assert sid is not None and secret is not None
    try:
        with Client(url, sid, secret, metadata=METADATA) as client:
            client.verify()
        data = read_profiles()
        data["profiles"][name] = {"url": url, "username": sid, "password": secret}
        data["default"] = name
        path = write_profiles(data)
    except FlexPluginsError as error:
        session.fail(str(error), error)
    except (CliError, OSError) as error:  # an unreadable or unwritable profiles file
        session.fail(str(error))
    body = {"profile": name, "url": url, "username": sid, "path": str(path)}
    session.emit(
        body, lambda: session.console.print(f"Logged in to {url} as {sid}; saved profile {name!r} in {path}")
    )
