"""`flexplugins list`, `describe`, `diff` and `history`: what exists, what is live, what changed, and who."""

from __future__ import annotations

from typing import Any

import click

from ..client import AuditEvent, Client, Configuration, Release
from . import plans
from .common import CliError, Session, client_command, paged, when

ACTIVE_MARK = "*"


def _mark(flag: bool) -> str:
    return ACTIVE_MARK if flag else ""


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


# --- list -------------------------------------------------------------------------------------


@click.group("list")
def list_group() -> None:
    """List plugins, versions of a plugin, configurations or releases; * marks what is active."""


@list_group.command("plugins")
@client_command
def list_plugins(session: Session) -> None:
    """Plugins, with the version the active release holds."""
    client = session.client
    _, live = plans.active(client)
    live_by_sid = {item.plugin_sid: item for item in live}
    rows = []
    for plugin in client.list_plugins():
        item = live_by_sid.get(plugin.sid)
        rows.append({**plugin.raw, "active": item is not None, "active_version": item and item.version})

    def render() -> None:
        table = session.table("Plugins", "", "name", "sid", "active version", "archived", "created")
        for row in rows:
            table.add_row(
                _mark(row["active"]),
                row["unique_name"],
                row["sid"],
                row["active_version"] or "",
                _yes(row["archived"]),
                row["date_created"],
            )
        session.console.print(table)

    session.emit(rows, render)


@list_group.command("versions")
@click.argument("plugin")
@client_command
def list_versions(session: Session, plugin: str) -> None:
    """Versions of PLUGIN (name or SID), newest first."""
    client = session.client
    versions = client.list_versions(plugin)
    _, live = plans.active(client)
    live_sids = {item.plugin_version_sid for item in live}
    rows = [{**version.raw, "active": version.sid in live_sids} for version in versions]

    def render() -> None:
        table = session.table(f"Versions of {plugin}", "", "version", "sid", "private", "archived", "created")
        for row in rows:
            table.add_row(
                _mark(row["active"]),
                row["version"],
                row["sid"],
                _yes(row["private"]),
                _yes(row["archived"]),
                row["date_created"],
            )
        session.console.print(table)

    session.emit(rows, render)


@list_group.command("configurations")
@client_command
def list_configurations(session: Session) -> None:
    """Configurations, newest first; * marks the active release's."""
    client = session.client
    active = client.active_release()
    rows = [
        {**configuration.raw, "active": active is not None and configuration.sid == active.configuration_sid}
        for configuration in client.list_configurations()
    ]

    def render() -> None:
        table = session.table("Configurations", "", "sid", "name", "archived", "created")
        for row in rows:
            table.add_row(
                _mark(row["active"]), row["sid"], row["name"], _yes(row["archived"]), row["date_created"]
            )
        session.console.print(table)

    session.emit(rows, render)


@list_group.command("releases")
@client_command
def list_releases(session: Session) -> None:
    """Releases, newest first; the newest is the active one."""
    releases = session.client.list_releases()
    rows = [{**release.raw, "active": index == 0} for index, release in enumerate(releases)]

    def render() -> None:
        table = session.table("Releases", "", "sid", "configuration", "created")
        for row in rows:
            table.add_row(_mark(row["active"]), row["sid"], row["configuration_sid"], row["date_created"])
        session.console.print(table)

    session.emit(rows, render)


# --- describe ---------------------------------------------------------------------------------


@click.group("describe")
def describe_group() -> None:
    """Show one plugin, version, configuration or release in full."""


def _fields(session: Session, title: str, values: dict[str, Any]) -> None:
    table = session.table(title, "field", "value")
    for key, value in values.items():
        if key in ("links",):
            continue
        table.add_row(key, "" if value is None else str(value))
    session.console.print(table)


@describe_group.command("plugin")
@click.argument("plugin")
@client_command
def describe_plugin(session: Session, plugin: str) -> None:
    """A plugin (name or SID) and its versions."""
    client = session.client
    found = client.fetch_plugin(plugin)
    versions = client.list_versions(found.sid)
    _, live = plans.active(client)
    live_sids = {item.plugin_version_sid for item in live}
    body = {**found.raw, "versions": [{**v.raw, "active": v.sid in live_sids} for v in versions]}

    def render() -> None:
        _fields(session, f"Plugin {found.unique_name}", found.raw)
        table = session.table("Versions", "", "version", "sid", "private", "archived", "created")
        for v in body["versions"]:
            table.add_row(
                _mark(v["active"]),
                v["version"],
                v["sid"],
                _yes(v["private"]),
                _yes(v["archived"]),
                v["date_created"],
            )
        session.console.print(table)

    session.emit(body, render)


@describe_group.command("version")
@click.argument("plugin")
@click.argument("version", required=False)
@client_command
def describe_version(session: Session, plugin: str, version: str | None) -> None:
    """A plugin version: PLUGIN VERSION, or NAME@VERSION (versions by string or SID)."""
    if version is None:
        plugin, version = plans.split_spec(plugin)
    client = session.client
    found = plans.resolve_spec(client, f"{plugin}@{version}") if version == plans.LATEST else None
    fetched = client.fetch_version(plugin, found.plugin_version_sid if found else version)
    _, live = plans.active(client)
    body = {**fetched.raw, "active": any(item.plugin_version_sid == fetched.sid for item in live)}
    session.emit(body, lambda: _fields(session, f"Version {plugin}@{fetched.version}", body))


def _configuration_body(
    client: Client, configuration: Configuration, active: Release | None
) -> dict[str, Any]:
    plugins = client.list_configured_plugins(configuration.sid)
    return {
        **configuration.raw,
        "active": active is not None and active.configuration_sid == configuration.sid,
        "plugins": [configured.raw for configured in plugins],
    }


def _plugins_table(session: Session, plugins: list[dict[str, Any]]) -> None:
    table = session.table("Plugins", "name", "version", "phase", "private", "version sid", "url")
    for item in plugins:
        archived = " (archived)" if item["plugin_version_archived"] or item["plugin_archived"] else ""
        table.add_row(
            item["unique_name"],
            item["version"] + archived,
            str(item["phase"]),
            _yes(item["private"]),
            item["plugin_version_sid"],
            item["plugin_url"],
        )
    session.console.print(table)


@describe_group.command("configuration")
@click.argument("configuration", metavar="FJ...|active")
@client_command
def describe_configuration(session: Session, configuration: str) -> None:
    """A configuration (by SID, or `active`) with its plugins in load order."""
    client = session.client
    active = client.active_release()
    if configuration.lower() == "active":
        if active is None:
            raise CliError("There is no active release yet")
        configuration = active.configuration_sid
    body = _configuration_body(client, client.fetch_configuration(configuration), active)

    def render() -> None:
        _fields(session, f"Configuration {body['sid']}", {k: v for k, v in body.items() if k != "plugins"})
        _plugins_table(session, body["plugins"])

    session.emit(body, render)


@describe_group.command("release")
@click.argument("release", metavar="FK...|active", default="active")
@client_command
def describe_release(session: Session, release: str) -> None:
    """A release (by SID, or `active`) with its configuration and plugins."""
    client = session.client
    found = client.fetch_release("Active" if release.lower() == "active" else release)
    active = client.active_release()
    configuration = _configuration_body(client, client.fetch_configuration(found.configuration_sid), active)
    body = {
        **found.raw,
        "active": active is not None and active.sid == found.sid,
        "configuration": configuration,
    }

    def render() -> None:
        _fields(session, f"Release {found.sid}", {k: v for k, v in body.items() if k != "configuration"})
        session.console.print(f"Configuration {configuration['sid']}: {configuration['name']}")
        _plugins_table(session, configuration["plugins"])

    session.emit(body, render)


# --- diff -------------------------------------------------------------------------------------


@click.command()
@click.argument("sides", nargs=-1, metavar="[FROM TO]")
@click.option(
    "--propose", multiple=True, metavar="NAME@VERSION", help="Compare the active release with this."
)
@click.option("--remove", multiple=True, metavar="NAME", help="Proposed: take this plugin out.")
@click.option("--all", "show_all", is_flag=True, help="Also list the plugins that do not change.")
@client_command
def diff(
    session: Session,
    sides: tuple[str, ...],
    propose: tuple[str, ...],
    remove: tuple[str, ...],
    show_all: bool,
) -> None:
    """What changes from FROM to TO: each `active`, a release (FK...) or a configuration (FJ...).

    With --propose NAME@VERSION (and --remove NAME), compares the active release with that proposal,
    as `release` would make it.
    """
    client = session.client
    if propose or remove:
        if sides:
            raise CliError("Give either FROM and TO, or --propose/--remove against the active release")
        release, before = plans.active(client)
        before_label = f"active release {release.sid}" if release else "no release"
        after = plans.propose(client, before, propose, remove)
        after_label = "proposed"
    elif len(sides) == 2:
        before_label, before = plans.side(client, sides[0])
        after_label, after = plans.side(client, sides[1])
    else:
        raise CliError(
            "Give FROM and TO (release or configuration SIDs, or `active`), or --propose NAME@VERSION"
        )
    changes = plans.compare(before, after)
    shown = [change for change in changes if show_all or change.kind != "same"]
    body = {"from": before_label, "to": after_label, "changes": [change.as_dict() for change in shown]}

    def render() -> None:
        session.console.print(f"From {before_label} to {after_label}:")
        if not shown:
            session.console.print("  no changes")
        for change in shown:
            session.console.print("  " + change.describe())

    session.emit(body, render)


# --- history ----------------------------------------------------------------------------------


def _release_events(client: Client, release_sids: set[str]) -> dict[str, AuditEvent]:
    """The audit events that created these releases, reading the trail only as far back as needed."""
    found: dict[str, AuditEvent] = {}
    for event in client.iter_audit_events():
        if event.action == "release.create" and event.resource_sid in release_sids:
            found[event.resource_sid] = event
            if len(found) == len(release_sids):
                break
    return found


@click.command()
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Newest releases shown."
)
@click.option("--events", is_flag=True, help="Show the whole audit trail (deploys, archives...) instead.")
@client_command
def history(session: Session, limit: int, events: bool) -> None:
    """The release timeline: when each release went live, who made it, and what it changed."""
    client = session.client
    if events:
        trail = paged(client.iter_audit_events(), limit)
        rows: list[dict[str, Any]] = [event.raw for event in trail]

        def render_events() -> None:
            table = session.table("Audit trail", "when", "action", "resource", "by", "tool")
            for row in rows:
                table.add_row(
                    row["date_created"],
                    row["action"],
                    row["resource_sid"],
                    row["credential_sid"],
                    row["flex_metadata"],
                )
            session.console.print(table)

        session.emit(rows, render_events)
        return
    # One more than shown, to know what the oldest shown release changed.
    releases = paged(client.iter_releases(), limit + 1)
    made = _release_events(client, {release.sid for release in releases[:limit]})
    contents = {r.configuration_sid: plans.configuration_items(client, r.configuration_sid) for r in releases}
    rows = []
    for index, release in enumerate(releases[:limit]):
        previous = releases[index + 1] if index + 1 < len(releases) else None
        before = contents[previous.configuration_sid] if previous else []
        changes = [c for c in plans.compare(before, contents[release.configuration_sid]) if c.kind != "same"]
        event = made.get(release.sid)
        rows.append(
            {
                "release_sid": release.sid,
                "configuration_sid": release.configuration_sid,
                "date_created": release.raw["date_created"],
                "active": index == 0,
                "credential_sid": event.credential_sid if event else None,
                "flex_metadata": event.flex_metadata if event else None,
                "changes": [change.as_dict() for change in changes],
            }
        )

    def render() -> None:
        table = session.table("Release history", "", "when", "release", "by", "tool", "changes")
        for row, release in zip(rows, releases, strict=False):
            table.add_row(
                _mark(row["active"]),
                when(release.date_created),
                row["release_sid"],
                row["credential_sid"] or "",
                row["flex_metadata"] or "",
                "\n".join(_describe(change) for change in row["changes"]) or "(no change)",
            )
        session.console.print(table)

    session.emit(rows, render)


def _describe(change: dict[str, Any]) -> str:
    before, after = change["before"], change["after"]
    name = change["unique_name"]
    if change["change"] == "added":
        return f"+ {name}@{after['version']}"
    if change["change"] == "removed":
        return f"- {name}@{before['version']}"
    if change["change"] == "moved":
        return f"~ {name}@{after['version']}: phase {before['phase']} -> {after['phase']}"
    return f"~ {name}: {before['version']} -> {after['version']}"
