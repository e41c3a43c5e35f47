"""What a host application loads (the active release's manifest) and how two releases differ.

The manifest is read on every agent's page load. It is built here from four indexed lookups (one of
them for the integrity of the bundles hosted here); the HTTP layer keeps the rendered result per
process under the account's write counter (api/cache.py), so a release made through any server
process is visible on the very next request everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import sids
from ..domain.errors import invalid, not_found
from ..domain.model import Configuration, ConfiguredPlugin, Principal, Release
from ..storage import configurations, releases
from ..storage.db import Database
from . import bundles
from .serverless import hosting


@dataclass(frozen=True, slots=True)
class RuntimePlugin:
    """One plugin the host loads: its bundle, the integrity to check it with, and its phase."""

    unique_name: str
    plugin_sid: str
    plugin_version_sid: str
    version: str
    plugin_url: str
    integrity: str | None
    phase: int
    private: bool


@dataclass(frozen=True, slots=True)
class Manifest:
    """The active release of an account; release is None before the first release."""

    account_sid: str
    release: Release | None
    plugins: list[RuntimePlugin]


def manifest(db: Database, who: Principal) -> Manifest:
    """The plugins of the active release, in load order (by phase, then the configuration's order)."""
    with db.read() as conn:
        release = releases.active(conn, who.account_sid)
        if release is None:
            return Manifest(who.account_sid, None, [])
        # A configuration never changes once created, so reading it after the release is consistent.
        configuration = configurations.get(conn, who.account_sid, release.configuration_sid)
        assert configuration is not None
        items = configurations.all_configured(conn, configuration.id)
    ordered = sorted(items, key=lambda item: (item.phase, item.position))
    urls = [item.plugin_url for item in ordered]
    integrity = bundles.integrities_for_urls(db, who.account_sid, urls)
    # Bundles deployed by the vendor's CLI are served at their environment's `<label>.twil.io`.
    integrity.update(hosting.integrities(db, who.account_sid, [url for url in urls if url not in integrity]))
    plugins = [
        RuntimePlugin(
            item.unique_name,
            item.plugin_sid,
            item.plugin_version_sid,
            item.version,
            item.plugin_url,
            integrity.get(item.plugin_url),
            item.phase,
            item.private,
        )
        for item in ordered
    ]
    return Manifest(who.account_sid, release, plugins)


# --- Diff -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: a configuration, and the release that made it live if one was named."""

    configuration: Configuration
    release: Release | None
    plugins: list[ConfiguredPlugin]


@dataclass(frozen=True, slots=True)
class Change:
    """A plugin as it differs between two sides; before or after is None when it was added or removed."""

    unique_name: str
    before: ConfiguredPlugin | None
    after: ConfiguredPlugin | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.before.plugin_version_sid != self.after.plugin_version_sid:
            return "changed"
        if self.before.phase != self.after.phase:
            return "moved"
        return "same"


@dataclass(frozen=True, slots=True)
class Diff:
    before: Side
    after: Side
    changes: list[Change]


def side(db: Database, who: Principal, key: str) -> Side:
    """A configuration named by its SID, or by the SID of a release (its configuration)."""
    key = key.strip()
    with db.read() as conn:
        release: Release | None = None
        if sids.is_sid(key, sids.RELEASE) or key == "Active":
            release = (
                releases.active(conn, who.account_sid)
                if key == "Active"
                else releases.get(conn, who.account_sid, key)
            )
            if release is None:
                raise not_found(f"The requested resource /Releases/{key} was not found")
            key = release.configuration_sid
        elif not sids.is_sid(key, sids.CONFIGURATION):
            raise invalid(f"{key!r} is neither a configuration SID (FJ...) nor a release SID (FK...)")
        configuration = configurations.get(conn, who.account_sid, key)
        if configuration is None:
            raise not_found(f"The requested resource /Configurations/{key} was not found")
        plugins = configurations.all_configured(conn, configuration.id)
    return Side(configuration, release, plugins)


def diff(db: Database, who: Principal, before_key: str, after_key: str) -> Diff:
    """What changes when the host goes from `before` to `after`, in the load order of `after`."""
    before = side(db, who, before_key)
    after = side(db, who, after_key)
    old = {item.unique_name: item for item in before.plugins}
    new = {item.unique_name: item for item in after.plugins}
    changes = [Change(item.unique_name, old.get(item.unique_name), item) for item in after.plugins]
    changes += [
        Change(item.unique_name, item, None) for item in before.plugins if item.unique_name not in new
    ]
    return Diff(before, after, changes)
