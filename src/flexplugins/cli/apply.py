"""`flexplugins apply FILE`: make the active release match a TOML file kept in the repository.

Run on every merge by CI: versions that do not exist yet are deployed (with the deploy command's
bundle discovery and upload), an existing version string must name the same bundle (SHA-384) or URL,
and a release is made only when the result differs from what is live, with If-Match. Everything is
checked before anything is written. The file format is in docs/cli.md.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from .. import __version__
from ..client import Client, Plugin, PluginVersion, Release, bundle_location, etag_of, integrity_of
from ..domain import rules
from ..domain.errors import ApiError
from . import converge, plans, workflow
from .common import CliError, Session, client_command
from .promote import find_version

TOP_KEYS = {"prune", "release", "plugins"}
RELEASE_KEYS = {"name", "description"}
PLUGIN_KEYS = {
    "name",
    "version",
    "bundle",
    "plugin_url",
    "private",
    "phase",
    "changelog",
    "friendly_name",
    "description",
}


@dataclass(frozen=True, slots=True)
class Declared:
    """One plugin as the file declares it."""

    name: str
    version: str
    bundle: Path | None
    plugin_url: str | None
    private: bool
    phase: int
    changelog: str | None
    friendly_name: str | None
    description: str | None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class ApplyFile:
    path: Path
    prune: bool
    release_name: str | None
    release_description: str | None
    plugins: list[Declared]


# --- the file ---------------------------------------------------------------------------------


def _text(where: str, table: dict[str, Any], key: str, check: Any, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise CliError(f"{where}: `{key}` is required")
        return None
    if not isinstance(value, str):
        raise CliError(f"{where}: `{key}` must be a string")
    try:
        checked = check(value)
    except ApiError as error:
        raise CliError(f"{where}: `{key}`: {error.message}") from None
    return value if checked is None else str(checked)


def _unknown(where: str, table: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise CliError(f"{where}: unknown key(s) {', '.join(extra)} (known: {', '.join(sorted(allowed))})")


def _declared(where: str, table: Any, folder: Path) -> Declared:
    if not isinstance(table, dict):
        raise CliError(f"{where} must be a table ([[plugins]])")
    _unknown(where, table, PLUGIN_KEYS)
    name = _text(where, table, "name", rules.unique_name, required=True)
    assert name is not None
    where = f"{where} ({name})"
    version = _text(where, table, "version", rules.version, required=True)
    assert version is not None
    bundle = _text(where, table, "bundle", lambda value: None)
    plugin_url = _text(where, table, "plugin_url", rules.plugin_url)
    if (bundle is None) == (plugin_url is None):
        raise CliError(f"{where}: give either `bundle` (a .js file or its folder) or `plugin_url`")
    private = table.get("private", False)
    if not isinstance(private, bool):
        raise CliError(f"{where}: `private` must be true or false")
    phase = table.get("phase", rules.DEFAULT_PHASE)
    if isinstance(phase, bool) or not isinstance(phase, int) or not 0 <= phase <= rules.MAX_PHASE:
        raise CliError(f"{where}: `phase` must be an integer from 0 to {rules.MAX_PHASE}")
    return Declared(
        name,
        version,
        None if bundle is None else folder / bundle,
        plugin_url,
        private,
        phase,
        _text(where, table, "changelog", rules.changelog),
        _text(where, table, "friendly_name", rules.friendly_name),
        _text(where, table, "description", rules.description),
    )


def load(path: Path) -> ApplyFile:
    """The file, checked whole: unknown keys, wrong types and invalid values are refused."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError(f"Cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is not valid TOML: {error}") from None
    _unknown(str(path), data, TOP_KEYS)
    prune = data.get("prune", False)
    if not isinstance(prune, bool):
        raise CliError(f"{path}: `prune` must be true or false")
    release = data.get("release", {})
    if not isinstance(release, dict):
        raise CliError(f"{path}: `release` must be a table ([release])")
    _unknown(f"{path} [release]", release, RELEASE_KEYS)
    name = _text(f"{path} [release]", release, "name", rules.configuration_name)
    description = _text(f"{path} [release]", release, "description", rules.description)
    listed = data.get("plugins", [])
    if not isinstance(listed, list):
        raise CliError(f"{path}: `plugins` must be an array of tables ([[plugins]])")
    folder = path.parent
    plugins = [_declared(f"{path} plugins[{i}]", table, folder) for i, table in enumerate(listed)]
    seen: set[str] = set()
    for plugin in plugins:
        if plugin.name in seen:
            raise CliError(f"{path}: plugin {plugin.name} is declared more than once")
        seen.add(plugin.name)
    if len(plugins) > rules.MAX_CONFIGURED_PLUGINS:
        raise CliError(f"{path}: at most {rules.MAX_CONFIGURED_PLUGINS} plugins")
    return ApplyFile(path, prune, name, description, plugins)


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class Work:
    """What one declared plugin needs: a plugin created or updated, a version deployed."""

    declared: Declared
    plugin: Plugin | None  # the existing plugin (once created, the new one)
    new_plugin: bool = False
    update: bool = False
    version: PluginVersion | None = None  # the existing version
    bundle_file: Path | None = None
    data: bytes | None = None

    @property
    def deploys(self) -> bool:
        return self.version is None


@dataclass
class Plan:
    file: ApplyFile
    works: list[Work]
    live: list[plans.Item]
    step: converge.ReleaseStep
    created: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changes_anything(self) -> bool:
        return self.step.needed or any(w.new_plugin or w.update or w.deploys for w in self.works)


class _Integrities:
    """The integrity of an existing version's bundle: from the runtime manifest for live versions (one
    read), else from the bytes the server serves."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._manifest: dict[str, str] | None = None

    def of(self, version: PluginVersion) -> str:
        if self._manifest is None:
            body = self._client.runtime_manifest()
            self._manifest = {
                str(p["plugin_version_sid"]): str(p["integrity"])
                for p in body.get("plugins") or []
                if p.get("integrity")
            }
        found = self._manifest.get(version.sid)
        if found is not None:
            return found
        return integrity_of(self._client.fetch_bundle(urlsplit(version.plugin_url).path))


def _conflict(work: Work, found: PluginVersion, integrities: _Integrities) -> str | None:
    declared = work.declared
    if found.archived:
        return f"{declared.label} exists and is archived, so it cannot be released"
    if found.private != declared.private:
        kind = "private" if found.private else "public"
        return f"{declared.label} exists as a {kind} version; the file says otherwise"
    if declared.plugin_url is not None:
        if found.plugin_url != declared.plugin_url:
            return f"{declared.label} exists with the URL {found.plugin_url}, not {declared.plugin_url}"
        return None
    assert work.data is not None and work.bundle_file is not None
    hosted = bundle_location(found.plugin_url)
    if hosted is None or hosted[0] != found.account_sid:
        return (
            f"{declared.label} exists with a bundle hosted elsewhere ({found.plugin_url}), which cannot be "
            f"compared with {work.bundle_file}; declare its plugin_url or a new version"
        )
    if hosted[1] != hashlib.sha256(work.data).hexdigest() or integrities.of(found) != integrity_of(work.data):
        return f"{declared.label} exists with other bytes than {work.bundle_file}: deploy it as a new version"
    return None


def _wanted(file: ApplyFile, live: list[plans.Item]) -> list[converge.Wanted]:
    declared = {plugin.name: plugin for plugin in file.plugins}
    out: list[converge.Wanted] = []
    if not file.prune:
        # Plugins the file does not list keep their version, phase and place.
        for item in converge.wanted_of(live):
            found = declared.get(item.unique_name)
            out.append(item if found is None else converge.Wanted(found.name, found.version, found.phase))
    present = {entry.unique_name for entry in out}
    out += [converge.Wanted(p.name, p.version, p.phase) for p in file.plugins if p.name not in present]
    return out


def make_plan(client: Client, file: ApplyFile) -> Plan:
    """Everything apply would do, from reads only; refuses (writing nothing) on any conflict."""
    works: list[Work] = []
    for declared in file.plugins:
        work = Work(declared, None)
        if declared.bundle is not None:
            work.bundle_file = workflow.find_bundle(declared.bundle, declared.name)
            work.data = workflow.read_bundle(work.bundle_file)
        works.append(work)
    active, live = plans.active(client)
    integrities = _Integrities(client)
    conflicts: list[str] = []
    for work in works:
        declared = work.declared
        work.plugin = client.find_plugin(declared.name)
        if work.plugin is None:
            work.new_plugin = True
            continue
        if work.plugin.archived:
            conflicts.append(f"plugin {declared.name} is archived")
            continue
        work.update = (
            declared.friendly_name is not None and declared.friendly_name != work.plugin.friendly_name
        ) or (declared.description is not None and declared.description != work.plugin.description)
        work.version = find_version(client, work.plugin, declared.version)
        if work.version is not None:
            problem = _conflict(work, work.version, integrities)
            if problem is not None:
                conflicts.append(problem)
    if conflicts:
        raise CliError("Nothing was applied, versions are immutable: " + "; ".join(conflicts))
    step = converge.plan_release(active, live, _wanted(file, live))
    return Plan(file, works, live, step)


def _configuration_name(plan: Plan) -> str:
    if plan.file.release_name is not None:
        return plan.file.release_name
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    listed = ", ".join(f"{e.unique_name}@{e.version}" for e in plan.step.after) or "no plugins"
    name = f"{stamp} {plan.file.path.name}: {listed}"
    limit = rules.MAX_CONFIGURATION_NAME
    return name if len(name) <= limit else name[: limit - 3] + "..."


def carry_out(session: Session, plan: Plan) -> Release | None:
    client = session.client
    sids = {item.unique_name: item.plugin_version_sid for item in plan.live}
    for work in plan.works:
        declared = work.declared
        url = declared.plugin_url
        bundle: dict[str, Any] | None = None
        if work.deploys and work.bundle_file is not None and work.data is not None:
            # Uploaded first, as deploy does: a bundle the server refuses leaves nothing of its plugin.
            uploaded = workflow.upload(session, work.bundle_file, work.data, declared.private)
            url = uploaded.url
            bundle = {"file": str(work.bundle_file), "size": uploaded.size, "integrity": uploaded.integrity}
        if work.new_plugin or work.plugin is None:
            work.plugin = client.create_plugin(declared.name, declared.friendly_name, declared.description)
        elif work.update:
            work.plugin = client.update_plugin(work.plugin.sid, declared.friendly_name, declared.description)
        if work.version is not None:
            sids[declared.name] = work.version.sid
            continue
        assert url is not None
        made = client.create_version(
            work.plugin.sid,
            declared.version,
            url,
            changelog=declared.changelog,
            private=declared.private,
            cli_version=__version__,
        )
        sids[declared.name] = made.sid
        plan.created[declared.label] = {"plugin_url": made.plugin_url, "sid": made.sid, "bundle": bundle}
    if not plan.step.needed:
        return None
    return converge.carry_out(
        client, plan.step, sids, name=_configuration_name(plan), description=plan.file.release_description
    )


# --- output -----------------------------------------------------------------------------------


def _report(session: Session, plan: Plan, dry_run: bool, made: Release | None) -> None:
    step = plan.step
    works = plan.works
    data = {
        "changed": plan.changes_anything,
        "dry_run": dry_run,
        "file": str(plan.file.path),
        "prune": plan.file.prune,
        "plugins_created": [w.declared.name for w in works if w.new_plugin],
        "plugins_updated": [
            {
                "unique_name": w.declared.name,
                "friendly_name": w.declared.friendly_name,
                "description": w.declared.description,
            }
            for w in works
            if w.update
        ],
        "versions_created": [
            {
                "unique_name": w.declared.name,
                "version": w.declared.version,
                "private": w.declared.private,
                "changelog": w.declared.changelog,
                "bundle_file": None if w.bundle_file is None else str(w.bundle_file),
                **plan.created.get(w.declared.label, {"plugin_url": w.declared.plugin_url}),
            }
            for w in works
            if w.deploys
        ],
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

        if not plan.changes_anything:
            where = "nothing released" if step.active is None else f"release {step.active.sid}"
            out(f"No change: the active release ({where}) already matches {plan.file.path}")
            return
        head = f"Applying {plan.file.path}"
        out(f"Dry run, nothing written. {head} would:" if dry_run else f"{head}:")
        for work in works:
            declared = work.declared
            if work.new_plugin:
                out(f"  create plugin  {declared.name}")
            elif work.update:
                out(f"  update plugin  {declared.name} (friendly name, description)")
            if work.deploys:
                source = f"upload {work.bundle_file}" if work.bundle_file else str(declared.plugin_url)
                if work.data is not None:
                    source += f" ({len(work.data):,} bytes, {integrity_of(work.data)})"
                out(f"  deploy version {declared.label}{' (private)' if declared.private else ''}: {source}")
        if step.needed:
            out(f"  release ({step.method}, If-Match {etag_of(step.active)}):")
            for difference in step.differences():
                out("    " + difference.describe())
        if made is not None:
            out(f"Released {made.sid}")

    session.emit(data, render)


@click.command("apply")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
@client_command
def apply_file(session: Session, file: Path, dry_run: bool) -> None:
    """Make the active release match FILE (TOML): deploy missing versions, release if anything differs.

    Exit status 0 whether something changed or not; --json says which ("changed").
    """
    loaded = load(file)
    plan = make_plan(session.client, loaded)
    made = None
    if not dry_run:
        try:
            made = carry_out(session, plan)
        except converge.ActiveReleaseChanged as error:
            kept = len(plan.created)
            note = f"; the {kept} version(s) deployed stay (versions are immutable)" if kept else ""
            raise CliError(f"{error}{note}. Run apply again to plan against what is live now") from None
    _report(session, plan, dry_run, made)
