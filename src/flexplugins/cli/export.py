"""`flexplugins export`: an account's whole state, read through the API, to one export file.

Only the vendor's 18 operations are needed; the bundle store and the audit trail are read too when
the server offers them. The file format is exportfile.py's (docs/export-format.md).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from .. import __version__, exportfile
from ..client import (
    AUDIT_EVENTS,
    BUNDLES,
    Client,
    FlexPluginsError,
    PluginVersion,
    Resource,
    bundle_location,
    integrity_of,
)
from ..domain.bundles import path_of
from .common import CliError, Session, client_command

NOTE_FULL = "The Plugin Service's resources, the hosted bundles and the audit trail."
NOTE_VENDOR_ONLY = (
    "The server offers none of flexplugins' extensions (a 404 for the bundle store and the audit "
    "trail): the Plugin Service's resources only; every plugin_url is kept as it is."
)

T = TypeVar("T")


@dataclass
class Summary:
    account_sid: str | None
    counts: dict[str, int] = field(default_factory=dict)
    bundle_bytes: int = 0
    missing_bundles: list[str] = field(default_factory=list)
    extensions: dict[str, bool] = field(default_factory=dict)


def _oldest_first(items: list[T]) -> list[T]:
    """The file holds the oldest first, the order they were made in.

    The API lists newest first (the vendor's clients rely on it), so the list is turned round;
    only a list that is plainly oldest first already (dates rising, not all equal) is kept as it is.
    """
    dates = [str(_raw(item).get("date_created") or "") for item in items]
    if dates != sorted(dates) or len(set(dates)) < 2:
        return list(reversed(items))
    return items


def _raw(item: Any) -> dict[str, Any]:
    return item.raw if isinstance(item, Resource) else item


def _account_of(username: str, *groups: list[dict[str, Any]]) -> str | None:
    found = {item["account_sid"] for group in groups for item in group if item.get("account_sid")}
    if len(found) > 1:
        raise CliError(f"The server answered with resources of several accounts: {', '.join(sorted(found))}")
    if found:
        return str(found.pop())
    return username if username.startswith("AC") else None


def write_export(client: Client, stream: IO[bytes], warn: Callable[[str], None]) -> Summary:
    """Read the account through `client` and write it to `stream` in the export format."""
    extensions = {"bundles": client.offers(BUNDLES), "audit": client.offers(AUDIT_EVENTS)}
    # Read what others point at after what points at it: a release made during the export then
    # finds its configuration, and a configuration its versions (resources are never deleted).
    releases = _oldest_first([release.raw for release in client.iter_releases()])
    configurations = _oldest_first([item.raw for item in client.list_configurations()])
    configured = {
        item["sid"]: [entry.raw for entry in client.list_configured_plugins(item["sid"])]
        for item in configurations
    }
    plugins = _oldest_first([plugin.raw for plugin in client.list_plugins()])
    versions: dict[str, list[PluginVersion]] = {
        plugin["sid"]: _oldest_first(client.list_versions(plugin["sid"])) for plugin in plugins
    }
    events = _oldest_first([event.raw for event in client.iter_audit_events()]) if extensions["audit"] else []
    every_version = [v.raw for group in versions.values() for v in group]
    account_sid = _account_of(client.username, releases, configurations, plugins, every_version)
    summary = Summary(account_sid, extensions=extensions)

    writer = exportfile.Writer(stream)
    writer.write(
        {
            "type": exportfile.HEADER,
            "format": exportfile.FORMAT,
            "version": exportfile.VERSION,
            "account_sid": account_sid,
            "source": client.url,
            "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exporter": f"flexplugins/{__version__}",
            "extensions": extensions,
            "note": NOTE_FULL if all(extensions.values()) else _note(extensions),
        }
    )
    for plugin in plugins:
        writer.write({"type": exportfile.PLUGIN, "data": plugin})
        for version in versions[plugin["sid"]]:
            writer.write({"type": exportfile.PLUGIN_VERSION, "data": version.raw})
    if extensions["bundles"] and account_sid is not None:
        _write_bundles(client, writer, account_sid, every_version, summary, warn)
    for configuration in configurations:
        writer.write(
            {
                "type": exportfile.CONFIGURATION,
                "data": configuration,
                "plugins": configured[configuration["sid"]],
            }
        )
    for release in releases:
        writer.write({"type": exportfile.RELEASE, "data": release})
    for event in events:
        writer.write({"type": exportfile.AUDIT_EVENT, "data": event})
    writer.close()
    summary.counts = dict(writer.counts)
    return summary


def _note(extensions: dict[str, bool]) -> str:
    if not any(extensions.values()):
        return NOTE_VENDOR_ONLY
    absent = [name for name, offered in extensions.items() if not offered]
    return f"The server does not offer: {', '.join(absent)} (a 404); the rest is exported."


def _write_bundles(
    client: Client,
    writer: exportfile.Writer,
    account_sid: str,
    versions: list[dict[str, Any]],
    summary: Summary,
    warn: Callable[[str], None],
) -> None:
    """The bytes of every bundle of this account's store that a version points at, once each."""
    wanted: list[str] = []
    for version in versions:
        found = bundle_location(str(version.get("plugin_url") or ""))
        if found is not None and found[0] == account_sid and found[1] not in wanted:
            wanted.append(found[1])
    for sha256 in wanted:
        try:
            data = client.fetch_bundle(path_of(account_sid, sha256))
        except FlexPluginsError as error:
            if error.status != 404:
                raise
            summary.missing_bundles.append(sha256)
            warn(f"bundle {sha256} is not in the server's bundle store; its URL is kept as it is")
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CliError(f"The server served bundle {sha256} with other bytes (its SHA-256 differs)")
        chunks = range(0, len(data), exportfile.CHUNK_BYTES)
        writer.write(
            {
                "type": exportfile.BUNDLE,
                "sha256": sha256,
                "integrity": integrity_of(data),
                "size": len(data),
                "chunks": len(chunks),
            }
        )
        for index, start in enumerate(chunks):
            piece = data[start : start + exportfile.CHUNK_BYTES]
            writer.write(
                {
                    "type": exportfile.BUNDLE_CHUNK,
                    "sha256": sha256,
                    "index": index,
                    "data": base64.b64encode(piece).decode("ascii"),
                }
            )
        summary.bundle_bytes += len(data)


@click.command("export")
@click.option(
    "--output",
    "-o",
    required=True,
    metavar="FILE",
    help="Where to write the export file ('-' for standard output).",
)
@client_command
def export(session: Session, output: str) -> None:
    """Write the account's whole state to FILE: plugins, versions, configurations, releases, bundles, audit.

    Everything is read through the API, so any wire-compatible server works, the vendor's own
    included (then only the Plugin Service's resources are exported, as the file's header says).
    `flexplugins db import FILE` restores it into a flexplugins database.
    """
    if output == "-" and session.as_json:
        raise CliError("--json and --output - both want standard output; give --output FILE")
    client = session.client

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    if output == "-":
        summary = write_export(client, sys.stdout.buffer, warn)
        target = "standard output"
    else:
        path = Path(output)
        partial = path.with_name(path.name + ".partial")
        # Written beside the target, readable by its owner only (private bundles are in it), and
        # renamed into place once complete, so FILE never names half an export.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                summary = write_export(client, handle, warn)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        target = str(path)
    result = {
        "output": target,
        "account_sid": summary.account_sid,
        "records": summary.counts,
        "bundle_bytes": summary.bundle_bytes,
        "missing_bundles": summary.missing_bundles,
        "extensions": summary.extensions,
    }

    def render() -> None:
        counts = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.counts.items()))
        stream = session.err if output == "-" else session.console
        stream.print(f"exported {summary.account_sid or 'the account'} to {target}: {counts}")
        if not all(summary.extensions.values()):
            stream.print(_note(summary.extensions))

    session.emit(result, render)
