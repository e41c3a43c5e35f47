"""Entities of the Plugin Service as plain immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Account:
    sid: str
    friendly_name: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account acted for and the credential used (account or API key SID)."""

    account_sid: str
    credential_sid: str
    runtime_only: bool = False


@dataclass(frozen=True, slots=True)
class Plugin:
    id: int
    sid: str
    account_sid: str
    unique_name: str
    friendly_name: str | None
    description: str | None
    archived: bool
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class PluginVersion:
    id: int
    sid: str
    account_sid: str
    plugin_sid: str
    version: str
    plugin_url: str
    changelog: str | None
    private: bool
    archived: bool
    validated: bool
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Configuration:
    id: int
    sid: str
    account_sid: str
    name: str
    description: str | None
    archived: bool
    date_created: datetime


@dataclass(frozen=True, slots=True)
class ConfiguredPlugin:
    """A plugin version as it sits in a configuration, joined with its plugin and version."""

    position: int
    account_sid: str
    configuration_sid: str
    plugin_sid: str
    plugin_version_sid: str
    phase: int
    plugin_url: str
    unique_name: str
    friendly_name: str | None
    description: str | None
    plugin_archived: bool
    version: str
    changelog: str | None
    plugin_version_archived: bool
    private: bool
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    sid: str
    account_sid: str
    configuration_sid: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    account_sid: str
    credential_sid: str
    action: str
    resource_sid: str
    flex_metadata: str | None
    date_created: datetime


@dataclass(frozen=True, slots=True)
class PluginRef:
    """One entry of a configuration request: a plugin version SID and its load phase."""

    plugin_version_sid: str
    phase: int


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, newest first, with the keys to resume before or after it."""

    items: list[T]
    has_next: bool
    has_previous: bool
    first_key: int | None
    last_key: int | None
