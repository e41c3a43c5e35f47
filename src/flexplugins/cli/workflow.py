"""`flexplugins deploy`, `release` and `rollback`: the jobs that change what agents load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from .. import __version__
from ..client import Bundle, Client, FlexPluginsError, Plugin, Release, etag_of
from . import plans, semver
from .common import CliError, Session, client_command, when

MAX_CONFIGURATION_NAME = 255


# --- deploy -----------------------------------------------------------------------------------


def find_bundle(path: Path, name: str) -> Path:
    """The bundle file: `path` itself, or the JavaScript entry file of the folder `path`.

    In a folder that is `NAME.js`; a single `.js` file of another name is taken only when it is all
    the folder holds (a build folder with source maps or other files beside it is ambiguous).
    """
    if path.is_file():
        return path
    if not path.is_dir():
        raise CliError(f"{path} is neither a bundle file nor a folder")
    files = sorted(p for p in path.iterdir() if p.is_file())
    candidates = [p for p in files if p.suffix == ".js"]
    named = path / f"{name}.js"
    if named in candidates:
        return named
    if not candidates:
        raise CliError(f"{path} holds no .js file; build the plugin first or name the bundle file")
    if len(candidates) == 1 and len(files) == 1:
        return candidates[0]
    listed = ", ".join(p.name for p in candidates)
    others = len(files) - len(candidates)
    beside = f" and {others} other file{'s' if others != 1 else ''}" if others else ""
    raise CliError(
        f"{path} holds no {name}.js but {listed}{beside}; name the bundle file to deploy "
        f"(e.g. {path / candidates[0].name})"
    )


def read_bundle(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"Cannot read {path}: {error.strerror or error}") from None


def upload(session: Session, path: Path, data: bytes, private: bool = False) -> Bundle:
    client = session.client
    if session.as_json or not session.err.is_terminal:
        # No bar in logs: an error stays the one line on stderr, and the result reports the size.
        return client.upload_bundle(data, private=private)
    columns = (
        TextColumn("Uploading {task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=session.err, transient=True) as progress:
        task = progress.add_task(path.name, total=len(data))
        return client.upload_bundle(
            data, progress=lambda sent, _total: progress.update(task, completed=sent), private=private
        )


def choose_version(client: Client, plugin: Plugin | None, given: str | None, bump: str) -> str:
    if given is not None:
        return given
    existing = [] if plugin is None else [found.version for found in client.list_versions(plugin.sid)]
    return semver.next_version(existing, bump)


F = TypeVar("F", bound=Callable[..., Any])


def _bump_flag(flag: str) -> Callable[[F], F]:
    return click.option(f"--{flag}", is_flag=True, help=f"Bump the {flag} part of the highest version.")


@click.command()
@click.argument("name")
@click.argument("bundle", required=False, type=click.Path(path_type=Path))
@click.option(
    "--plugin-url", metavar="URL", help="Deploy a bundle hosted elsewhere instead of uploading one."
)
@click.option("--version", "version", metavar="X.Y.Z", help="The new version (default: bump the highest).")
@_bump_flag("patch")
@_bump_flag("minor")
@_bump_flag("major")
@click.option("--changelog", help="What changed in this version.")
@click.option("--description", help="The plugin's description (set when given).")
@click.option("--friendly-name", help="The plugin's friendly name (set when given).")
@click.option("--private/--public", default=False, help="Serve the bundle only to the account's callers.")
@client_command
def deploy(
    session: Session,
    name: str,
    bundle: Path | None,
    plugin_url: str | None,
    version: str | None,
    patch: bool,
    minor: bool,
    major: bool,
    changelog: str | None,
    description: str | None,
    friendly_name: str | None,
    private: bool,
) -> None:
    """Deploy a new version of plugin NAME from BUNDLE (a built .js file or its folder) or --plugin-url.

    Creates the plugin when it does not exist, uploads the bundle to the server's bundle store and
    creates the version pointing at it. The version is --version, or the highest existing version
    bumped by --patch (the default), --minor or --major.
    """
    if (bundle is None) == (plugin_url is None):
        raise CliError("Give either a BUNDLE file or folder, or --plugin-url, to deploy")
    bumps = [flag for flag, given in (("patch", patch), ("minor", minor), ("major", major)) if given]
    if len(bumps) > 1:
        given = " and ".join("--" + b for b in bumps)
        raise CliError(f"Give one of --patch, --minor or --major, not {given}")
    bump = bumps[0] if bumps else None
    if version is not None and bump is not None:
        raise CliError(f"Give either --version or --{bump}, not both")
    client = session.client
    data: bytes | None = None
    if version is not None:
        try:
            version = semver.check_given(version)  # refused before anything is uploaded
        except ValueError as error:
            raise CliError(str(error)) from None
    if bundle is not None:
        bundle = find_bundle(bundle, name)
        data = read_bundle(bundle)
    plugin = client.find_plugin(name)
    if plugin is not None and plugin.archived:
        raise CliError(f"Plugin {plugin.unique_name} ({plugin.sid}) is archived; it cannot get new versions")
    new_version = choose_version(client, plugin, version, bump or "patch")
    uploaded: Bundle | None = None
    if bundle is not None and data is not None:
        # A private version's bundle is private from the upload on, never public in between.
        uploaded = upload(session, bundle, data, private)
        plugin_url = uploaded.url
    assert plugin_url is not None
    if plugin is None:
        plugin = client.create_plugin(name, friendly_name, description)
    elif (friendly_name is not None and friendly_name != plugin.friendly_name) or (
        description is not None and description != plugin.description
    ):
        plugin = client.update_plugin(plugin.sid, friendly_name, description)
    created = client.create_version(
        plugin.sid, new_version, plugin_url, changelog=changelog, private=private, cli_version=__version__
    )

    def render() -> None:
        headline = Text.assemble(
            "Deployed ", (f"{plugin.unique_name}@{created.version}", "bold"), f" ({created.sid})"
        )
        if created.private:
            headline.append(" [private]")
        session.console.print(headline)
        if bundle is not None:
            session.console.print(f"  file      {bundle}")
        session.console.print(f"  bundle    {created.plugin_url}")
        if uploaded is not None:
            session.console.print(f"  size      {uploaded.size:,} bytes")
            session.console.print(f"  integrity {uploaded.integrity}")
        session.console.print(f"Release it with: flexplugins release {plugin.unique_name}@{created.version}")

    session.emit(
        {
            "plugin": plugin,
            "plugin_version": created,
            "bundle": uploaded,
            "bundle_file": None if bundle is None else str(bundle),
        },
        render,
    )


# --- release ----------------------------------------------------------------------------------


def _default_name(items: list[plans.Item]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    listed = ", ".join(f"{item.unique_name}@{item.version}" for item in items) or "no plugins"
    name = f"{stamp}: {listed}"
    return name if len(name) <= MAX_CONFIGURATION_NAME else name[: MAX_CONFIGURATION_NAME - 3] + "..."


def report_release(
    session: Session,
    headline: str,
    release: Release,
    before: list[plans.Item],
    configuration_name: str | None,
) -> None:
    after = plans.configuration_items(session.client, release.configuration_sid)
    changes = plans.compare(before, after)

    def render() -> None:
        session.console.print(
            Text.assemble(
                f"{headline}: release ",
                (release.sid, "bold"),
                f" of configuration {release.configuration_sid} is live since {when(release.date_created)}",
            )
        )
        for change in changes:
            session.console.print("  " + change.describe())

    session.emit(
        {
            "release": release,
            "configuration_name": configuration_name,
            "plugins": [item.as_dict() for item in after],
            "changes": [change.as_dict() for change in changes],
        },
        render,
    )


@click.command()
@click.argument("plugins", nargs=-1, metavar="[NAME@VERSION]...")
@click.option("--remove", multiple=True, metavar="NAME", help="Take a plugin out of the active set.")
@click.option("--configuration", "configuration_sid", metavar="FJ...", help="Release this configuration.")
@click.option("--name", help="The new configuration's name (default: the date and its plugins).")
@click.option("--description", help="The new configuration's description.")
@client_command
def release(
    session: Session,
    plugins: tuple[str, ...],
    remove: tuple[str, ...],
    configuration_sid: str | None,
    name: str | None,
    description: str | None,
) -> None:
    """Release plugin versions on top of the active release, or an existing --configuration.

    Each NAME@VERSION adds the plugin or replaces its version (NAME alone or NAME@latest: its newest
    version that is not archived); --remove NAME takes one out. The new configuration and its release
    are created in one step.
    """
    client = session.client
    _, before = plans.active(client)
    if configuration_sid is not None:
        if plugins or remove:
            raise CliError("Give either --configuration or plugins to change, not both")
        made = client.create_release(configuration_sid)
        report_release(session, "Released", made, before, None)
        return
    if not plugins and not remove:
        raise CliError("Nothing to release: give NAME@VERSION pairs, --remove NAME, or --configuration FJ...")
    # Checked here against what is live (clear messages for unknown plugins and versions); applied
    # by the server on top of whatever is live when it commits, so concurrent releases all land.
    items = plans.propose(client, before, plugins, remove)
    wanted = {item.unique_name: item.version for item in items}
    enable = [f"{spec_name}@{wanted[spec_name]}" for spec_name in (plans.split_spec(p)[0] for p in plugins)]
    chosen = {entry.split("@", 1)[0] for entry in enable}
    config_name = name or _default_name(items)
    done = client.delta_release(
        [entry for entry in enable if entry.split("@", 1)[0] in chosen],
        list(remove),
        name=config_name,
        description=description,
    )
    if done.release is None:
        raise CliError("Nothing to release: there is no active release and no plugin to enable")
    headline = (
        "Released" if done.changed else "Nothing changed: the active release already holds these versions"
    )
    report_release(session, headline, done.release, before, config_name if done.changed else None)


@click.command()
@click.option("--to", "target", metavar="FK...", help="Roll back to this release's configuration.")
@client_command
def rollback(session: Session, target: str | None) -> None:
    """Make the previous release's configuration live again (or --to a named release's), as a new release.

    The previous release is the newest earlier one whose configuration differs from the active one.
    """
    client = session.client
    active, before = plans.active(client)
    if active is None:
        raise CliError("There is no release yet, so there is nothing to roll back")
    if target is not None:
        chosen = client.fetch_release(target)
        if chosen.configuration_sid == active.configuration_sid:
            raise CliError(f"Release {chosen.sid}'s configuration {chosen.configuration_sid} is already live")
    else:
        earlier = (r for r in client.iter_releases() if r.configuration_sid != active.configuration_sid)
        found = next(earlier, None)
        if found is None:
            raise CliError("There is no earlier release with another configuration to roll back to")
        chosen = found
    try:
        # Only on top of the release this rollback was computed from: never undo a newer release.
        made = client.create_release(chosen.configuration_sid, if_match=etag_of(active))
    except FlexPluginsError as error:
        if error.status == 412:
            raise CliError(
                f"The active release changed while rolling back (it is no longer {active.sid}); nothing "
                "was released. Look at `flexplugins history` and run rollback again if still wanted"
            ) from None
        raise
    report_release(session, f"Rolled back to the configuration of {chosen.sid}", made, before, None)
