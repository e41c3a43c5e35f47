"""The sets of plugins the commands reason about: what is live, what is proposed, and how two differ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..client import Client, ConfiguredPlugin, FlexPluginsError, Release
from .common import CliError

LATEST = "latest"


@dataclass(frozen=True, slots=True)
class Item:
    """One plugin version in a configuration (existing or proposed)."""

    unique_name: str
    plugin_sid: str
    plugin_version_sid: str
    version: str
    phase: int | None

    @classmethod
    def of(cls, configured: ConfiguredPlugin) -> Item:
        return cls(
            configured.unique_name,
            configured.plugin_sid,
            configured.plugin_version_sid,
            configured.version,
            configured.phase,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "unique_name": self.unique_name,
            "plugin_sid": self.plugin_sid,
            "plugin_version_sid": self.plugin_version_sid,
            "version": self.version,
            "phase": self.phase,
        }


@dataclass(frozen=True, slots=True)
class Change:
    unique_name: str
    kind: str  # added, removed, changed (another version), moved (another phase) or same
    before: Item | None
    after: Item | None

    def as_dict(self) -> dict[str, object]:
        return {
            "unique_name": self.unique_name,
            "change": self.kind,
            "before": None if self.before is None else self.before.as_dict(),
            "after": None if self.after is None else self.after.as_dict(),
        }

    def describe(self) -> str:
        old = "" if self.before is None else f"{self.before.version} (phase {self.before.phase})"
        new = "" if self.after is None else f"{self.after.version} (phase {self.after.phase})"
        if self.kind == "added":
            return f"+ {self.unique_name}@{new}"
        if self.kind == "removed":
            return f"- {self.unique_name}@{old}"
        if self.kind == "same":
            return f"  {self.unique_name}@{new}"
        return f"~ {self.unique_name}: {old} -> {new}"


def compare(before: Sequence[Item], after: Sequence[Item]) -> list[Change]:
    """Every plugin of either side, in the order of `after` then the removed ones."""
    old = {item.unique_name: item for item in before}
    new = {item.unique_name: item for item in after}
    changes: list[Change] = []
    for item in after:
        previous = old.get(item.unique_name)
        if previous is None:
            kind = "added"
        elif previous.plugin_version_sid != item.plugin_version_sid:
            kind = "changed"
        elif previous.phase != item.phase:
            kind = "moved"
        else:
            kind = "same"
        changes.append(Change(item.unique_name, kind, previous, item))
    changes += [
        Change(item.unique_name, "removed", item, None) for item in before if item.unique_name not in new
    ]
    return changes


def configuration_items(client: Client, configuration_sid: str) -> list[Item]:
    return [Item.of(configured) for configured in client.list_configured_plugins(configuration_sid)]


def active(client: Client) -> tuple[Release | None, list[Item]]:
    release = client.active_release()
    if release is None:
        return None, []
    return release, configuration_items(client, release.configuration_sid)


def side(client: Client, key: str) -> tuple[str, list[Item]]:
    """A label and the plugins of: `active`, a release SID (FK...) or a configuration SID (FJ...)."""
    if key.lower() == "active":
        release = client.active_release()
        if release is None:
            raise CliError("There is no active release yet")
        return f"active release {release.sid}", configuration_items(client, release.configuration_sid)
    if key.startswith("FK"):
        release = client.fetch_release(key)
        return f"release {release.sid}", configuration_items(client, release.configuration_sid)
    if key.startswith("FJ"):
        configuration = client.fetch_configuration(key)
        return f"configuration {configuration.sid}", configuration_items(client, configuration.sid)
    raise CliError(f"{key!r} is not `active`, a release SID (FK...) or a configuration SID (FJ...)")


def split_spec(spec: str) -> tuple[str, str]:
    name, _, version = spec.partition("@")
    if not name:
        raise CliError(f"{spec!r} is not a plugin: write name@version, such as plugin-hello@1.2.0")
    return name, version or LATEST


def resolve_spec(client: Client, spec: str) -> Item:
    """The plugin version that `name@version` (or `name`, `name@latest`: its newest live version) names."""
    name, version = split_spec(spec)
    plugin = client.find_plugin(name)
    if plugin is None:
        raise FlexPluginsError(f"Plugin {name!r} was not found", code=20404, status=404)
    if version == LATEST:
        live = [found for found in client.list_versions(plugin.sid) if not found.archived]
        if not live:
            raise CliError(f"Plugin {name!r} has no version that is not archived; deploy one first")
        chosen = live[0]
    else:
        try:
            chosen = client.fetch_version(plugin.sid, version)
        except FlexPluginsError as error:
            if error.status == 404:
                raise FlexPluginsError(
                    f"Plugin {name!r} has no version {version!r}", code=20404, status=404
                ) from None
            raise
    return Item(plugin.unique_name, plugin.sid, chosen.sid, chosen.version, None)


def propose(
    client: Client, base: Sequence[Item], specs: Sequence[str], removals: Sequence[str]
) -> list[Item]:
    """`base` with each `name@version` added or replacing its plugin's version, and `removals` taken out.

    A replaced plugin keeps its phase and place in the load order; an added one goes last.
    """
    items = list(base)
    names = {item.unique_name for item in items}
    for name in removals:
        if name not in names:
            raise CliError(f"Plugin {name!r} is not in the active release, so it cannot be removed")
        items = [item for item in items if item.unique_name != name]
        names.discard(name)
    for spec in specs:
        wanted = resolve_spec(client, spec)
        if wanted.unique_name in removals:
            raise CliError(f"Plugin {wanted.unique_name!r} is both released and removed")
        for index, item in enumerate(items):
            if item.unique_name == wanted.unique_name:
                items[index] = Item(
                    wanted.unique_name,
                    wanted.plugin_sid,
                    wanted.plugin_version_sid,
                    wanted.version,
                    item.phase,
                )
                break
        else:
            items.append(wanted)
    return items
