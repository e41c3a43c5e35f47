"""`db import`: an export file restored into an account of this database, in one transaction.

The file is read twice. The first pass verifies every checksum, the trailer and how the records fit
together (domain/imports.py) before anything is written; the second, inside the transaction, reads
the bundles' bytes again (verified again: a file changed in between rolls everything back). SIDs,
dates, flags and the order of every list are kept; releases are numbered 1..n oldest first and
the account's release counter set to n; the write counter is bumped, so no read cache serves the
account's old state.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import exc
from sqlalchemy.engine import Connection

from .. import __version__, exportfile, sids
from ..domain.errors import ApiError, conflict, invalid
from ..domain.imports import MAX_METADATA, Plan, PlanBuilder, check_bundle, decode_chunk, refused
from ..domain.model import Principal
from ..domain.rules import MAX_URL
from ..storage import accounts as account_store
from ..storage import audit, restore
from ..storage.db import Database, now
from .accounts import digest
from .bundles import parse_url, path_of

BUNDLE_CONTENT_TYPE = "application/javascript"
IMPORT_ACTION = "account.import"


@dataclass(frozen=True)
class ImportResult:
    account_sid: str
    auth_token: str | None  # set when the account was created by the import (shown once)
    replaced: bool
    counts: dict[str, int]


def read_plan(stream: IO[bytes]) -> Plan:
    """The first pass: every record verified and checked against the others; nothing written.

    The whole file is read even when a record does not fit the others, so that a damaged file is
    reported as damaged (a lost line first looks like a missing reference).
    """
    stream.seek(0)
    records = exportfile.read_records(stream)
    builder = PlanBuilder()
    for record in records:
        try:
            builder.add(record)
        except ApiError as unfit:
            for _ in records:
                pass
            raise unfit from None
    return builder.finish()


def _target_account(plan: Plan, account: str | None) -> str:
    if account is not None:
        if not sids.is_sid(account, sids.ACCOUNT):
            raise invalid(f"--account must be AC followed by 32 hex digits (got {account!r})")
        return sids.normalise(account)
    if plan.account_sid is None:
        raise invalid("The export file names no account (it holds no resources); give --account AC...")
    return plan.account_sid


def hosted_url(url: str, plan: Plan, account_sid: str, public_url: str | None) -> str:
    """The URL a version gets here: a bundle the file holds points at this server's copy.

    With a public URL, at `<public URL>/flexplugins/v1/Bundles/<account>/<sha256>.js`; without one,
    the host is kept and only the account in the path follows the import's. Any other URL is kept.
    """
    found = parse_url(url)
    if found is None or found[0] != plan.account_sid or found[1] not in plan.bundles:
        return url
    path = path_of(account_sid, found[1])
    if public_url:
        return public_url.rstrip("/") + path
    if account_sid == plan.account_sid:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def import_export(
    db: Database,
    stream: IO[bytes],
    *,
    account: str | None = None,
    replace: bool = False,
    public_url: str | None = None,
    friendly_name: str | None = None,
    plan: Plan | None = None,
) -> ImportResult:
    """Restore the export file in `stream` (seekable) into an account; one transaction, all or nothing.

    `plan` is read_plan's of the same stream when the caller verified the file already.
    """
    if plan is None:
        plan = read_plan(stream)
    account_sid = _target_account(plan, account)
    urls = {row.sid: hosted_url(row.plugin_url, plan, account_sid, public_url) for row in plan.versions}
    for sid, url in urls.items():
        if len(url) > MAX_URL:
            raise refused(f"plugin version {sid}", f"its bundle URL here would be longer than {MAX_URL}")
    try:
        return _write(db, stream, plan, account_sid, urls, replace, friendly_name)
    except (exc.IntegrityError, exc.DataError) as error:
        # The checks above should leave nothing for the database to refuse; if it does, say so plainly.
        reason = str(error.orig).splitlines()[0] if error.orig is not None else type(error).__name__
        raise conflict(f"The database refused the import ({reason}); nothing was imported") from None


def _write(
    db: Database,
    stream: IO[bytes],
    plan: Plan,
    account_sid: str,
    urls: dict[str, str],
    replace: bool,
    friendly_name: str | None,
) -> ImportResult:
    token: str | None = None
    replaced = False
    when = now()
    with db.write() as conn:
        if not account_store.account_exists(conn, account_sid):
            token = secrets.token_hex(16)
            name = friendly_name or f"imported from {plan.header.get('source') or 'an export'}"
            account_store.insert_account(conn, account_sid, name[:255], digest(token), when)
        db.lock_account(conn, account_sid)
        if token is None and restore.has_resources(conn, account_sid):
            if not replace:
                raise conflict(
                    f"Account {account_sid} already has plugins, configurations, releases, bundles or "
                    "audit events; give --replace to delete them and import in their place (nothing "
                    "was imported)"
                )
            restore.delete_resources(conn, account_sid)
            replaced = True
        for kind, wanted in plan.sids().items():
            taken = restore.foreign_sids(conn, account_sid, kind, wanted)
            if taken:
                sid, owner = taken[0]
                raise conflict(
                    f"{kind.replace('_', ' ').capitalize()} {sid} of the file already exists in account "
                    f"{owner} of this database ({len(taken)} such SIDs); SIDs are unique across "
                    "accounts, so this file cannot be imported here (nothing was imported)"
                )

        plugin_ids: dict[str, int] = {}
        for plugin in plan.plugins:
            plugin_ids[plugin.sid] = restore.insert_plugin(conn, account_sid, plugin)
        version_ids: dict[str, int] = {}
        for version in plan.versions:
            version_ids[version.sid] = restore.insert_version(
                conn, account_sid, plugin_ids[version.plugin_sid], version, urls[version.sid]
            )
        configuration_ids: dict[str, int] = {}
        for configuration in plan.configurations:
            contents = [
                (plugin_ids[item.plugin_sid], version_ids[item.plugin_version_sid], item.phase)
                for item in configuration.plugins
            ]
            configuration_ids[configuration.sid] = restore.insert_configuration(
                conn, account_sid, configuration, contents
            )
        for seq, release in enumerate(plan.releases, start=1):
            restore.insert_release(
                conn, account_sid, configuration_ids[release.configuration_sid], release, seq
            )
        restore.set_release_seq(conn, account_sid, len(plan.releases))
        _restore_bundles(conn, stream, plan, account_sid, _first_use(plan, when))
        for event in plan.audit_events:
            restore.insert_audit_event(conn, account_sid, event)
        metadata = f"flexplugins/{__version__} db import of an export of {plan.header.get('exported_at')}"
        who = Principal(account_sid, account_sid)
        audit.record(conn, who, IMPORT_ACTION, account_sid, metadata[:MAX_METADATA], when)
    counts = {
        "plugins": len(plan.plugins),
        "plugin_versions": len(plan.versions),
        "bundles": len(plan.bundles),
        "configurations": len(plan.configurations),
        "releases": len(plan.releases),
        "audit_events": len(plan.audit_events),
    }
    return ImportResult(account_sid, token, replaced, counts)


def _first_use(plan: Plan, default: datetime) -> dict[str, datetime]:
    """When each bundle was first named by a version: the date its copy here is given."""
    found: dict[str, datetime] = {}
    for version in plan.versions:
        parsed = parse_url(version.plugin_url)
        if parsed is not None and parsed[1] in plan.bundles:
            known = found.get(parsed[1])
            found[parsed[1]] = version.date_created if known is None else min(known, version.date_created)
    return {sha256: found.get(sha256, default) for sha256 in plan.bundles}


def _restore_bundles(
    conn: Connection, stream: IO[bytes], plan: Plan, account_sid: str, dates: dict[str, datetime]
) -> None:
    """The second pass: each bundle joined from its chunks, checked again and stored, one at a time."""
    stream.seek(0)
    pieces: list[bytes] = []
    current: str | None = None
    for record in exportfile.read_records(stream):
        kind = record["type"]
        if kind == exportfile.BUNDLE:
            current, pieces = str(record["sha256"]), []
        elif kind == exportfile.BUNDLE_CHUNK and current is not None:
            pieces.append(decode_chunk(record, f"bundle {current}"))
        else:
            current = None
            continue
        row = plan.bundles.get(current)
        if row is None or len(pieces) < row.chunks:
            continue
        data = b"".join(pieces)
        check_bundle(row, len(data), hashlib.sha256(data).hexdigest(), hashlib.sha384(data).digest())
        restore.insert_bundle(
            conn, account_sid, row.sha256, row.integrity, BUNDLE_CONTENT_TYPE, data, dates[row.sha256]
        )
        current, pieces = None, []
