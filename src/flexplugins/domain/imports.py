"""What the records of an export file mean: typed rows, checked against each other before anything is written.

The file keeps each resource's JSON as the API served it; this module takes from it what the
database holds (SIDs, names, flags, dates, load order) and refuses a file whose records do not
fit together: a version of a plugin the file does not hold, a configuration naming a version of
another plugin, two plugins of one name, a release of a configuration that is not there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import exportfile, sids
from .errors import ApiError, invalid
from .rules import (
    MAX_CONFIGURATION_NAME,
    MAX_CONFIGURED_PLUGINS,
    MAX_DESCRIPTION,
    MAX_FRIENDLY_NAME,
    MAX_UNIQUE_NAME,
    MAX_URL,
    MAX_VERSION,
)

MAX_CHANGELOG_STORED = 1_000_000  # a text column; the vendor's own limit is not documented
MAX_AUDIT_TEXT = 64
MAX_SID = 34
MAX_METADATA = 1024


def refused(where: str, message: str) -> ApiError:
    return invalid(f"The export file cannot be imported: {where}: {message}; nothing was imported")


@dataclass(frozen=True, slots=True)
class PluginRow:
    sid: str
    unique_name: str
    friendly_name: str | None
    description: str | None
    archived: bool
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class VersionRow:
    sid: str
    plugin_sid: str
    version: str
    plugin_url: str
    changelog: str | None
    private: bool
    archived: bool
    validated: bool
    date_created: datetime


@dataclass(frozen=True, slots=True)
class ConfiguredRow:
    plugin_sid: str
    plugin_version_sid: str
    phase: int


@dataclass(frozen=True, slots=True)
class ConfigurationRow:
    sid: str
    name: str
    description: str | None
    archived: bool
    date_created: datetime
    plugins: tuple[ConfiguredRow, ...]


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    sid: str
    configuration_sid: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class AuditRow:
    credential_sid: str
    action: str
    resource_sid: str
    flex_metadata: str | None
    date_created: datetime


@dataclass(frozen=True, slots=True)
class BundleRow:
    sha256: str
    integrity: str
    size: int
    chunks: int


@dataclass
class Plan:
    """Everything the file holds but the bundles' bytes, in the order it is to be written."""

    header: dict[str, Any]
    account_sid: str | None = None
    plugins: list[PluginRow] = field(default_factory=list)
    versions: list[VersionRow] = field(default_factory=list)
    bundles: dict[str, BundleRow] = field(default_factory=dict)
    configurations: list[ConfigurationRow] = field(default_factory=list)
    releases: list[ReleaseRow] = field(default_factory=list)
    audit_events: list[AuditRow] = field(default_factory=list)
    records: int = 0

    def sids(self) -> dict[str, list[str]]:
        """The file's SIDs by the kind of resource that holds them."""
        return {
            "plugin": [row.sid for row in self.plugins],
            "plugin_version": [row.sid for row in self.versions],
            "configuration": [row.sid for row in self.configurations],
            "release": [row.sid for row in self.releases],
        }


# --- members of the served JSON ----------------------------------------------------------------


def _member(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise refused(where, f"it has no {key!r}")
    return data[key]


def _text(data: dict[str, Any], key: str, where: str, limit: int, *, optional: bool = False) -> str | None:
    value = _member(data, key, where) if not optional else data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and value == ""):
        raise refused(where, f"{key} must be a string")
    if len(value) > limit:
        raise refused(where, f"{key} is longer than {limit} characters")
    if "\x00" in value:
        raise refused(where, f"{key} holds a NUL character")
    return value


def _required(data: dict[str, Any], key: str, where: str, limit: int) -> str:
    value = _text(data, key, where, limit)
    assert value is not None
    return value


def _flag(data: dict[str, Any], key: str, where: str, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise refused(where, f"{key} must be true or false")
    return value


def _sid(data: dict[str, Any], key: str, prefix: str, where: str) -> str:
    value = _member(data, key, where)
    if not isinstance(value, str) or not sids.is_sid(value, prefix):
        raise refused(where, f"{key} must be a SID starting {prefix}")
    return sids.normalise(value)


def _date(data: dict[str, Any], key: str, where: str) -> datetime:
    value = _member(data, key, where)
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise refused(where, f"{key} must be a date such as 2026-01-31T12:00:00Z") from None


def _data(record: dict[str, Any], where: str) -> dict[str, Any]:
    data = record.get("data")
    if not isinstance(data, dict):
        raise refused(where, "it has no resource object under 'data'")
    return data


# --- the plan -----------------------------------------------------------------------------------


class PlanBuilder:
    """Fed the verified records in file order; `finish()` gives the plan once they all fit together."""

    def __init__(self) -> None:
        self.plan: Plan | None = None
        self._line = 0
        self._plugins: dict[str, PluginRow] = {}
        self._names: set[str] = set()
        self._versions: dict[str, VersionRow] = {}
        self._version_keys: set[tuple[str, str]] = set()
        self._configurations: set[str] = set()
        self._releases: set[str] = set()
        self._bundle: _BundleInProgress | None = None

    def add(self, record: dict[str, Any]) -> None:
        self._line += 1
        where = f"line {self._line} ({record['type']})"
        kind = record["type"]
        if self._bundle is not None and kind != exportfile.BUNDLE_CHUNK:
            raise refused(where, f"bundle {self._bundle.row.sha256} is missing chunks")
        if kind == exportfile.HEADER:
            self._header(record, where)
            return
        plan = self.plan
        assert plan is not None  # the reader puts the header first
        plan.records += 1
        if kind == exportfile.PLUGIN:
            self._plugin(plan, _data(record, where), where)
        elif kind == exportfile.PLUGIN_VERSION:
            self._version(plan, _data(record, where), where)
        elif kind == exportfile.BUNDLE:
            self._bundle_start(plan, record, where)
        elif kind == exportfile.BUNDLE_CHUNK:
            self._bundle_chunk(record, where)
        elif kind == exportfile.CONFIGURATION:
            self._configuration(plan, record, where)
        elif kind == exportfile.RELEASE:
            self._release(plan, _data(record, where), where)
        elif kind == exportfile.AUDIT_EVENT:
            self._audit(plan, _data(record, where), where)

    def finish(self) -> Plan:
        if self._bundle is not None:
            raise refused("the end", f"bundle {self._bundle.row.sha256} is missing chunks")
        assert self.plan is not None
        return self.plan

    def _account(self, plan: Plan, data: dict[str, Any], where: str) -> None:
        account = _sid(data, "account_sid", sids.ACCOUNT, where)
        if plan.account_sid is None:
            plan.account_sid = account
        elif account != plan.account_sid:
            raise refused(where, f"it belongs to account {account}, not {plan.account_sid}")

    def _header(self, record: dict[str, Any], where: str) -> None:
        self.plan = Plan(header=record)
        account = record.get("account_sid")
        if account is not None:
            self.plan.account_sid = _sid(record, "account_sid", sids.ACCOUNT, where)

    def _plugin(self, plan: Plan, data: dict[str, Any], where: str) -> None:
        self._account(plan, data, where)
        row = PluginRow(
            sid=_sid(data, "sid", sids.PLUGIN, where),
            unique_name=_required(data, "unique_name", where, MAX_UNIQUE_NAME),
            friendly_name=_text(data, "friendly_name", where, MAX_FRIENDLY_NAME, optional=True),
            description=_text(data, "description", where, MAX_DESCRIPTION, optional=True),
            archived=_flag(data, "archived", where),
            date_created=_date(data, "date_created", where),
            date_updated=_date(data, "date_updated", where)
            if data.get("date_updated") is not None
            else _date(data, "date_created", where),
        )
        if row.sid in self._plugins:
            raise refused(where, f"plugin {row.sid} appears twice")
        if row.unique_name in self._names:
            raise refused(where, f"two plugins are named {row.unique_name!r}")
        self._plugins[row.sid] = row
        self._names.add(row.unique_name)
        plan.plugins.append(row)

    def _version(self, plan: Plan, data: dict[str, Any], where: str) -> None:
        self._account(plan, data, where)
        row = VersionRow(
            sid=_sid(data, "sid", sids.PLUGIN_VERSION, where),
            plugin_sid=_sid(data, "plugin_sid", sids.PLUGIN, where),
            version=_required(data, "version", where, MAX_VERSION),
            plugin_url=_required(data, "plugin_url", where, MAX_URL),
            changelog=_text(data, "changelog", where, MAX_CHANGELOG_STORED, optional=True),
            private=_flag(data, "private", where, False),
            archived=_flag(data, "archived", where),
            validated=_flag(data, "validated", where, False),
            date_created=_date(data, "date_created", where),
        )
        if row.plugin_sid not in self._plugins:
            raise refused(where, f"its plugin {row.plugin_sid} is not in the file before it")
        if row.sid in self._versions:
            raise refused(where, f"plugin version {row.sid} appears twice")
        if (row.plugin_sid, row.version) in self._version_keys:
            raise refused(where, f"plugin {row.plugin_sid} has two versions {row.version!r}")
        self._versions[row.sid] = row
        self._version_keys.add((row.plugin_sid, row.version))
        plan.versions.append(row)

    def _bundle_start(self, plan: Plan, record: dict[str, Any], where: str) -> None:
        sha256 = record.get("sha256")
        size, chunks, integrity = record.get("size"), record.get("chunks"), record.get("integrity")
        if not (
            isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)
        ):
            raise refused(where, "sha256 must be 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise refused(where, "size must be a whole number of bytes")
        if not isinstance(chunks, int) or isinstance(chunks, bool) or chunks < 0:
            raise refused(where, "chunks must be a whole number")
        if not isinstance(integrity, str) or not integrity.startswith("sha384-"):
            raise refused(where, "integrity must be a sha384- value")
        if sha256 in plan.bundles:
            raise refused(where, f"bundle {sha256} appears twice")
        self._bundle = _BundleInProgress(BundleRow(sha256, integrity, size, chunks))
        self._bundle_done_if_complete(plan)

    def _bundle_chunk(self, record: dict[str, Any], where: str) -> None:
        bundle = self._bundle
        if bundle is None:
            raise refused(where, "a bundle chunk without its bundle record before it")
        if record.get("sha256") != bundle.row.sha256 or record.get("index") != bundle.index:
            raise refused(where, f"expected chunk {bundle.index} of bundle {bundle.row.sha256}")
        bundle.add(decode_chunk(record, where))
        assert self.plan is not None
        self._bundle_done_if_complete(self.plan)

    def _bundle_done_if_complete(self, plan: Plan) -> None:
        bundle = self._bundle
        assert bundle is not None
        if bundle.index < bundle.row.chunks:
            return
        bundle.check()
        plan.bundles[bundle.row.sha256] = bundle.row
        self._bundle = None

    def _configuration(self, plan: Plan, record: dict[str, Any], where: str) -> None:
        data = _data(record, where)
        self._account(plan, data, where)
        entries = record.get("plugins")
        if not isinstance(entries, list) or len(entries) > MAX_CONFIGURED_PLUGINS:
            raise refused(where, "'plugins' must be the list of its configured plugins")
        sid = _sid(data, "sid", sids.CONFIGURATION, where)
        configured: list[ConfiguredRow] = []
        seen: set[str] = set()
        for entry in entries:
            if not isinstance(entry, dict):
                raise refused(where, "a configured plugin must be an object")
            self._account(plan, entry, where)
            item = ConfiguredRow(
                plugin_sid=_sid(entry, "plugin_sid", sids.PLUGIN, where),
                plugin_version_sid=_sid(entry, "plugin_version_sid", sids.PLUGIN_VERSION, where),
                phase=_phase(entry, where),
            )
            version = self._versions.get(item.plugin_version_sid)
            if version is None or version.plugin_sid != item.plugin_sid:
                raise refused(
                    where, f"plugin version {item.plugin_version_sid} of {item.plugin_sid} is not in the file"
                )
            if item.plugin_sid in seen:
                raise refused(where, f"plugin {item.plugin_sid} is configured twice")
            seen.add(item.plugin_sid)
            configured.append(item)
        row = ConfigurationRow(
            sid=sid,
            name=_required(data, "name", where, MAX_CONFIGURATION_NAME),
            description=_text(data, "description", where, MAX_DESCRIPTION, optional=True),
            archived=_flag(data, "archived", where),
            date_created=_date(data, "date_created", where),
            plugins=tuple(configured),
        )
        if sid in self._configurations:
            raise refused(where, f"configuration {sid} appears twice")
        self._configurations.add(sid)
        plan.configurations.append(row)

    def _release(self, plan: Plan, data: dict[str, Any], where: str) -> None:
        self._account(plan, data, where)
        row = ReleaseRow(
            sid=_sid(data, "sid", sids.RELEASE, where),
            configuration_sid=_sid(data, "configuration_sid", sids.CONFIGURATION, where),
            date_created=_date(data, "date_created", where),
        )
        if row.configuration_sid not in self._configurations:
            raise refused(where, f"its configuration {row.configuration_sid} is not in the file")
        if row.sid in self._releases:
            raise refused(where, f"release {row.sid} appears twice")
        self._releases.add(row.sid)
        plan.releases.append(row)

    def _audit(self, plan: Plan, data: dict[str, Any], where: str) -> None:
        self._account(plan, data, where)
        plan.audit_events.append(
            AuditRow(
                # Kept as written: an event may name something that is not a SID of ours.
                credential_sid=_required(data, "credential_sid", where, MAX_SID),
                action=_required(data, "action", where, MAX_AUDIT_TEXT),
                resource_sid=_required(data, "resource_sid", where, MAX_SID),
                flex_metadata=_text(data, "flex_metadata", where, MAX_METADATA, optional=True),
                date_created=_date(data, "date_created", where),
            )
        )


class _BundleInProgress:
    """A bundle whose chunks are being read: their digests and size so far."""

    def __init__(self, row: BundleRow) -> None:
        self.row = row
        self.index = 0
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._sha384 = hashlib.sha384()

    def add(self, piece: bytes) -> None:
        self.index += 1
        self.size += len(piece)
        self._sha256.update(piece)
        self._sha384.update(piece)

    def check(self) -> None:
        """The bytes read are the bundle the record describes, or the file is refused."""
        check_bundle(self.row, self.size, self._sha256.hexdigest(), self._sha384.digest())


def check_bundle(row: BundleRow, size: int, sha256: str, sha384: bytes) -> None:
    where = f"bundle {row.sha256}"
    if size != row.size:
        raise refused(where, f"its chunks hold {size} bytes, not {row.size}")
    if sha256 != row.sha256:
        raise refused(where, "its bytes do not have its SHA-256")
    if "sha384-" + base64.b64encode(sha384).decode() != row.integrity:
        raise refused(where, "its bytes do not have its SHA-384 integrity value")


def _phase(entry: dict[str, Any], where: str) -> int:
    value = entry.get("phase")
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**31) <= value < 2**31:
        raise refused(where, "phase must be a whole number")
    return value


def decode_chunk(record: dict[str, Any], where: str) -> bytes:
    text = record.get("data")
    if not isinstance(text, str):
        raise refused(where, "a bundle chunk has no data")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise refused(where, "a bundle chunk is not base64") from None
