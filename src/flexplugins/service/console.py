"""The web console's service: sign-in and its sessions, and what each page shows.

A console session is a row of console_sessions named by a random id that only the browser's
signed cookie holds (the database keeps its SHA-256 digest). Signing out deletes the row, and so do
rotating the account's auth token (every session of the account) and revoking an API key (the
sessions signed in with it), so a session ends on every server process at its next request.

The pages' queries are here, each page in a bounded number of statements whatever its size:
which version of each plugin is live, which actions the server would refuse and why (the same
domain rules the API's writes apply), and what each release changed from the one before it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from ..domain import release_changes, rules
from ..domain.errors import ApiError, forbidden, unauthenticated
from ..domain.model import (
    AuditEvent,
    Configuration,
    ConfiguredPlugin,
    Page,
    Plugin,
    PluginVersion,
    Principal,
    Release,
)
from ..storage import audit as audit_store
from ..storage import configurations as configurations_store
from ..storage import console_sessions as store
from ..storage import plugins as plugins_store
from ..storage import releases as releases_store
from ..storage.db import Database, now
from ..storage.paging import Cursor
from . import accounts, plugin_versions
from . import configurations as configurations_service

T = TypeVar("T")

SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Opened:
    session_id: str  # for the cookie only: never stored
    who: Principal


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def sign_in(db: Database, sid: str, secret: str) -> Principal:
    """The principal of an account SID and auth token, or an API key SID and secret."""
    found = accounts.verify(db, sid.strip(), secret.strip())
    if found is None:
        raise unauthenticated()
    if found.runtime_only:
        raise forbidden("A runtime token can only read the runtime manifest and bundles")
    return found


def open_session(db: Database, who: Principal) -> Opened:
    """A new session of this principal; sessions that have expired are cleared out on the way."""
    session_id = secrets.token_urlsafe(32)
    when = now()
    with db.write() as conn:
        store.delete_expired(conn, when)
        store.insert(
            conn, _id_hash(session_id), who.account_sid, who.credential_sid, when, when + SESSION_LIFETIME
        )
    return Opened(session_id, who)


def session(db: Database, session_id: str) -> Principal | None:
    """Who the session is signed in as, or None once it has ended (signed out, expired, revoked)."""
    with db.read() as conn:
        found = store.find(conn, _id_hash(session_id))
    if found is None or found[2] <= now():
        return None
    return Principal(found[0], found[1])


def close_session(db: Database, session_id: str) -> None:
    with db.write() as conn:
        store.delete(conn, _id_hash(session_id))


def creators(db: Database, who: Principal, resource_sids: list[str]) -> dict[str, AuditEvent]:
    """Who created each of these resources (their first audit event), in one query."""
    with db.read() as conn:
        return audit_store.first_events(conn, who.account_sid, resource_sids)


# --- What the pages show ------------------------------------------------------------------------

ALREADY_ARCHIVED = "Already archived"


def _archive_blocked(item: Plugin | PluginVersion | Configuration, *, held_by_active: bool) -> str | None:
    """Why the console offers no Archive for this (None: it does), by the rule the service applies."""
    if item.archived:
        return ALREADY_ARCHIVED
    refusal = rules.archive_refusal(item, held_by_active=held_by_active)
    return None if refusal is None else refusal.message


def _contents(items: Iterable[ConfiguredPlugin]) -> list[tuple[str, str, bool, bool]]:
    """A configuration's plugins as rules.check_releasable takes them."""
    return [(i.unique_name, i.version, i.plugin_archived, i.plugin_version_archived) for i in items]


def _release_blocked(configuration: Configuration, items: Iterable[ConfiguredPlugin]) -> str | None:
    """Why releasing this configuration is refused (None: it is not), by the service's own rule."""
    try:
        rules.check_releasable(configuration, _contents(items))
    except ApiError as refusal:
        return refusal.message
    return None


def _repage(page: Page[Any], items: list[T]) -> Page[T]:
    return Page(items, page.has_next, page.has_previous, page.first_key, page.last_key)


@dataclass(frozen=True, slots=True)
class PluginRow:
    plugin: Plugin
    live_version: str | None  # the version the active release holds; None: not live
    archive_blocked: str | None  # why Archive is not offered; None: it is


def plugins_page(db: Database, who: Principal, size: int, cursor: Cursor | None) -> Page[PluginRow]:
    """A page of plugins with each one's live version: two statements, whatever the page size."""
    with db.read() as conn:
        page = plugins_store.list_page(conn, who.account_sid, size, cursor)
        live = configurations_store.live_versions(conn, who.account_sid, [p.id for p in page.items])
    rows = [
        PluginRow(
            plugin,
            live[plugin.id][1] if plugin.id in live else None,
            _archive_blocked(plugin, held_by_active=plugin.id in live),
        )
        for plugin in page.items
    ]
    return _repage(page, rows)


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: PluginVersion
    live: bool  # the active release holds this version
    archive_blocked: str | None


@dataclass(frozen=True, slots=True)
class PluginView:
    plugin: Plugin
    live_version: str | None
    versions: Page[VersionRow]


def plugin_page(db: Database, who: Principal, key: str, size: int, cursor: Cursor | None) -> PluginView:
    plugin, page = plugin_versions.list_page(db, who, key, size, cursor)
    with db.read() as conn:
        live = configurations_store.live_versions(conn, who.account_sid, [plugin.id]).get(plugin.id)
    live_sid = live[0] if live else None
    rows = [
        VersionRow(
            version,
            version.sid == live_sid,
            _archive_blocked(version, held_by_active=version.sid == live_sid),
        )
        for version in page.items
    ]
    return PluginView(plugin, live[1] if live else None, _repage(page, rows))


@dataclass(frozen=True, slots=True)
class ConfigurationRow:
    configuration: Configuration
    active: bool  # the active release's configuration
    release_blocked: str | None  # why releasing it is refused; None: it is not
    archive_blocked: str | None


def configurations_page(
    db: Database, who: Principal, size: int, cursor: Cursor | None
) -> tuple[Page[ConfigurationRow], Release | None]:
    """A page of configurations and the active release: three statements, whatever the page size."""
    with db.read() as conn:
        page = configurations_store.list_page(conn, who.account_sid, size, cursor)
        active = releases_store.active(conn, who.account_sid)
        # Only the archived entries: the others never stop a release.
        archived = configurations_store.configured_in(
            conn, who.account_sid, [c.sid for c in page.items], only_archived=True
        )
    rows = [
        _configuration_row(configuration, active, archived[configuration.sid]) for configuration in page.items
    ]
    return _repage(page, rows), active


def _configuration_row(
    configuration: Configuration, active: Release | None, items: Sequence[ConfiguredPlugin]
) -> ConfigurationRow:
    is_active = active is not None and active.configuration_sid == configuration.sid
    return ConfigurationRow(
        configuration,
        is_active,
        _release_blocked(configuration, items),
        _archive_blocked(configuration, held_by_active=is_active),
    )


def configuration_page(
    db: Database, who: Principal, key: str
) -> tuple[ConfigurationRow, list[ConfiguredPlugin], Release | None]:
    configuration, items = configurations_service.all_configured(db, who, key)
    with db.read() as conn:
        active = releases_store.active(conn, who.account_sid)
    return _configuration_row(configuration, active, items), items, active


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    release: Release
    configuration: Configuration
    previous: Release | None  # the release before it (possibly on the next page); None: the first
    change: str  # what it changed from the release before, in words
    made_by: AuditEvent | None
    rollback_blocked: str | None  # why rolling back to it is refused; None: it is not


@dataclass(frozen=True, slots=True)
class Timeline:
    page: Page[Release]
    entries: list[TimelineEntry]
    active: Release | None
    events: list[AuditEvent]


def _slots(items: Iterable[ConfiguredPlugin]) -> list[release_changes.Slot]:
    return [
        release_changes.Slot(i.unique_name, i.plugin_sid, i.plugin_version_sid, i.version, i.phase)
        for i in items
    ]


def timeline(db: Database, who: Principal, size: int, cursor: Cursor | None, recent_events: int) -> Timeline:
    """One page of the release timeline, each release with its change against the one before.

    Bounded: the page, the release beyond it, the active release (on a later page), the creators,
    the configurations and their plugins (one statement each for the whole page), and on the first
    page the recent audit events.
    """
    account = who.account_sid
    with db.read() as conn:
        page = releases_store.list_page(conn, account, size, cursor)
        items = page.items
        # The newest release is the active one: on the newest page it is the first item; on any
        # other page it is asked for, so that the rollback buttons and the mark stay right.
        active = items[0] if items and not page.has_previous else releases_store.active(conn, account)
        previous: list[Release | None] = [*items[1:], None] if items else []
        if items and page.has_next and page.last_key is not None:
            beyond = releases_store.list_page(conn, account, 1, Cursor("after", page.last_key))
            previous[-1] = beyond.items[0] if beyond.items else None
        wanted = [r.configuration_sid for r in items] + [
            r.configuration_sid for r in previous if r is not None
        ]
        configurations = configurations_store.get_many(conn, account, wanted)
        configured = configurations_store.configured_in(conn, account, wanted)
        made_by = audit_store.first_events(conn, account, [r.sid for r in items])
        events = (
            audit_store.list_events(conn, account, recent_events, None, None).items if cursor is None else []
        )
    entries = []
    for release, before in zip(items, previous, strict=True):
        after_items = configured[release.configuration_sid]
        before_items = configured[before.configuration_sid] if before is not None else []
        change = release_changes.describe(release_changes.between(_slots(before_items), _slots(after_items)))
        is_active = active is not None and release.sid == active.sid
        configuration = configurations[release.configuration_sid]
        entries.append(
            TimelineEntry(
                release,
                configuration,
                before,
                change,
                made_by.get(release.sid),
                None if is_active else _release_blocked(configuration, after_items),
            )
        )
    return Timeline(page, entries, active, events)
