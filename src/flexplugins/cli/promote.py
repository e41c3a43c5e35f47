"""`flexplugins promote`: make another environment's active release hold the same build as this one's.

The source is the current connection, the target a saved profile (another account, on this server or
another). Plugins and versions the target lacks are created with the same version strings; bundles of
the source's bundle store are copied byte for byte into the target's (SHA-384 checked after upload),
bundles hosted elsewhere keep their URL. Everything is checked before anything is written, so a
refusal writes nothing; the release is sent with If-Match on the target release planned against.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import click

from .. import __version__
from ..client import (
    Bundle,
    Client,
    Configuration,
    ConfiguredPlugin,
    FlexPluginsError,
    Plugin,
    PluginVersion,
    Release,
    bundle_location,
    etag_of,
    integrity_of,
)
from . import converge, plans
from .common import METADATA, CliError, Session, client_command, resolve


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to create on the target; `copy_of` (a source bundle's SHA-256) when its bundle is copied."""

    unique_name: str
    version: str
    changelog: str | None
    private: bool
    source_url: str
    copy_of: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unique_name": self.unique_name,
            "version": self.version,
            "changelog": self.changelog,
            "private": self.private,
            "source_url": self.source_url,
            "bundle_copied": self.copy_of is not None,
        }


@dataclass
class Plan:
    source_release: Release
    source_configuration: Configuration
    new_plugins: list[Plugin]  # the source's plugins the target lacks
    new_versions: list[NewVersion]
    target_sids: dict[str, str]  # unique name -> the target's plugin version SID, where it exists
    step: converge.ReleaseStep
    copied: list[dict[str, Any]] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # "name@version" -> the target's plugin URL

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_plugins or self.new_versions or self.step.needed)


def _source_release(client: Client, key: str) -> Release:
    if key.lower() == "active":
        found = client.active_release()
        if found is None:
            raise CliError("There is no active release to promote: release something, or name one (FK...)")
        return found
    if not key.startswith("FK"):
        raise CliError(f"{key!r} is not `active` or a release SID (FK...)")
    return client.fetch_release(key)


def find_version(client: Client, plugin: Plugin, version: str) -> PluginVersion | None:
    try:
        return client.fetch_version(plugin.sid, version)
    except FlexPluginsError as error:
        if error.status == 404:
            return None
        raise


def _conflict(source: ConfiguredPlugin, found: PluginVersion, source_account: str) -> str | None:
    """Why the target's existing version of the same string is not the source's, or None if it is."""
    label = f"{source.unique_name}@{source.version}"
    if found.archived:
        return f"{label} is archived on the target, so it cannot be released there"
    if found.private != source.private:
        return f"{label} is {'private' if found.private else 'public'} on the target but not on the source"
    hosted = bundle_location(source.plugin_url)
    if hosted is not None and hosted[0] == source_account:
        there = bundle_location(found.plugin_url)
        if there != (found.account_sid, hosted[1]):
            return (
                f"{label} on the target points at {found.plugin_url}, not at a copy of the source's bundle "
                f"(SHA-256 {hosted[1][:12]}...)"
            )
        return None
    if found.plugin_url != source.plugin_url:
        return f"{label} on the target points at {found.plugin_url}, not at {source.plugin_url}"
    return None


def make_plan(source: Client, target: Client, key: str) -> Plan:
    """Everything promote would do, from reads only; refuses (writing nothing) on any conflict."""
    release = _source_release(source, key)
    configuration = source.fetch_configuration(release.configuration_sid)
    items = source.list_configured_plugins(release.configuration_sid)
    target_active, target_live = plans.active(target)
    new_plugins: list[Plugin] = []
    new_versions: list[NewVersion] = []
    sids: dict[str, str] = {}
    conflicts: list[str] = []
    for item in items:
        plugin = target.find_plugin(item.unique_name)
        found: PluginVersion | None = None
        if plugin is None:
            new_plugins.append(source.fetch_plugin(item.plugin_sid))
        elif plugin.archived:
            conflicts.append(f"plugin {plugin.unique_name} is archived on the target")
            continue
        else:
            found = find_version(target, plugin, item.version)
        if found is not None:
            problem = _conflict(item, found, release.account_sid)
            if problem is not None:
                conflicts.append(problem)
            sids[item.unique_name] = found.sid
            continue
        hosted = bundle_location(item.plugin_url)
        copy_of = hosted[1] if hosted is not None and hosted[0] == release.account_sid else None
        new_versions.append(
            NewVersion(item.unique_name, item.version, item.changelog, item.private, item.plugin_url, copy_of)
        )
    if conflicts:
        raise CliError(
            "Nothing was promoted, the target's versions are immutable: " + "; ".join(conflicts)
        )
    wanted = [converge.Wanted(item.unique_name, item.version, item.phase) for item in items]
    step = converge.plan_release(target_active, target_live, wanted)
    return Plan(release, configuration, new_plugins, new_versions, sids, step)


def _copy_bundle(source: Client, target: Client, entry: NewVersion, copies: dict[str, Bundle]) -> Bundle:
    """The source's bundle, stored in the target's bundle store: the same bytes, checked."""
    assert entry.copy_of is not None
    if entry.copy_of in copies:
        return copies[entry.copy_of]
    label = f"{entry.unique_name}@{entry.version}"
    # By path: the source server answers for its own store whatever host the URL was written with.
    data = source.fetch_bundle(urlsplit(entry.source_url).path)
    if hashlib.sha256(data).hexdigest() != entry.copy_of:
        raise CliError(f"The source served other bytes than {entry.source_url} names for {label}")
    expected = integrity_of(data)
    # A private version's bundle is private on the target from the upload on, as deploy --private.
    stored = target.upload_bundle(data, private=entry.private)
    if stored.integrity != expected or stored.sha256 != entry.copy_of or stored.size != len(data):
        raise CliError(
            f"The target stored the bundle of {label} with integrity {stored.integrity}, not {expected}"
        )
    copies[entry.copy_of] = stored
    return stored


def carry_out(source: Client, target: Client, plan: Plan) -> Release | None:
    # Plugin by plugin, the bundle first (as deploy does): a copy that fails leaves nothing of its plugin.
    new_plugins = {plugin.unique_name: plugin for plugin in plan.new_plugins}
    copies: dict[str, Bundle] = {}
    for entry in plan.new_versions:
        url = entry.source_url
        if entry.copy_of is not None:
            stored = _copy_bundle(source, target, entry, copies)
            url = stored.url
            plan.copied.append(
                {
                    "unique_name": entry.unique_name,
                    "version": entry.version,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "integrity": stored.integrity,
                    "from": entry.source_url,
                    "to": stored.url,
                }
            )
        plugin = new_plugins.pop(entry.unique_name, None)
        if plugin is not None:
            target.create_plugin(plugin.unique_name, plugin.friendly_name, plugin.description)
        made = target.create_version(
            entry.unique_name,
            entry.version,
            url,
            changelog=entry.changelog,
            private=entry.private,
            cli_version=__version__,
        )
        plan.target_sids[entry.unique_name] = made.sid
        plan.created[f"{entry.unique_name}@{entry.version}"] = made.plugin_url
    if not plan.step.needed:
        return None
    origin = plan.source_release
    description = f"Promoted from release {origin.sid} of account {origin.account_sid}"
    return converge.carry_out(
        target, plan.step, plan.target_sids, name=plan.source_configuration.name, description=description
    )


def _report(
    session: Session, plan: Plan, target_name: str, target_url: str, dry_run: bool, made: Release | None
) -> None:
    step = plan.step
    data = {
        "dry_run": dry_run,
        "changed": plan.changes_anything,
        "source": {
            "url": session.client.url,
            "release_sid": plan.source_release.sid,
            "configuration_sid": plan.source_release.configuration_sid,
        },
        "target": {"profile": target_name, "url": target_url},
        "plugins_created": [
            {"unique_name": p.unique_name, "friendly_name": p.friendly_name, "description": p.description}
            for p in plan.new_plugins
        ],
        "versions_created": [
            {**entry.as_dict(), "plugin_url": plan.created.get(f"{entry.unique_name}@{entry.version}")}
            for entry in plan.new_versions
        ],
        "bundles_copied": plan.copied,
        "release_method": step.method,
        "if_match": etag_of(step.active),
        "changes": [difference.as_dict() for difference in step.differences()],
        "release": made,
        "active_release_sid": (
            made.sid if made is not None else None if step.active is None else step.active.sid
        ),
    }

    def render() -> None:
        out = session.console.print  # no markup (cli/common.py): names and paths print as they are

        count = len(step.after)
        head = (
            f"Promote release {plan.source_release.sid} ({count} plugin{'s' if count != 1 else ''}) "
            f"to profile {target_name!r} ({target_url})"
        )
        if not plan.changes_anything:
            where = "nothing released" if step.active is None else f"release {step.active.sid}"
            out(
                f"{head}: nothing to do, the target's active release ({where}) already holds these "
                "plugins at these versions and phases"
            )
            return
        out(f"Dry run, nothing written. {head} would:" if dry_run else f"{head}:")
        for plugin in plan.new_plugins:
            out(f"  create plugin  {plugin.unique_name}")
        for entry in plan.new_versions:
            label = f"{entry.unique_name}@{entry.version}"
            if entry.copy_of is not None:
                out(f"  copy bundle    {label} ({entry.copy_of[:12]}...) into the target's bundle store")
            url = plan.created.get(label) or ("its copy" if entry.copy_of is not None else entry.source_url)
            out(f"  create version {label}{' (private)' if entry.private else ''} -> {url}")
        if step.needed:
            out(f"  release ({step.method}, If-Match {etag_of(step.active)}):")
            for difference in step.differences():
                out("    " + difference.describe())
        if made is not None:
            out(f"Released {made.sid} on profile {target_name!r}: it holds the same {count} plugins")
        elif not dry_run:
            out("The target's active release already held these plugins; only versions were created")

    session.emit(data, render)


@click.command()
@click.argument("source", required=False, default="active", metavar="[FK...|active]")
@click.option("--to", "target_profile", required=True, metavar="PROFILE", help="The target: a saved profile.")
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@client_command
def promote(session: Session, source: str, target_profile: str, dry_run: bool) -> None:
    """Make the active release of profile PROFILE hold the plugins of release SOURCE (default: active).

    The same plugins at the same versions and phases: missing plugins and versions are created on the
    target, bundles of this server's bundle store copied into the target's. A second run does nothing.
    """
    found = resolve(None, target_profile)
    with Client(found.url, found.username, found.password, metadata=METADATA) as target:
        plan = make_plan(session.client, target, source)
        made = None
        if not dry_run:
            try:
                made = carry_out(session.client, target, plan)
            except converge.ActiveReleaseChanged as error:
                created = len(plan.created)
                kept = f"; the {created} version(s) created stay (versions are immutable)" if created else ""
                raise CliError(
                    f"{error} on profile {target_profile!r}{kept}. Run promote again to plan against "
                    "what is live now"
                ) from None
        _report(session, plan, target_profile, found.url, dry_run, made)
