"""Releases as changes: the preconditions on the active release (If-Match), delta releases, and
the change from one release's plugins to the next one's, in words.

A delta release names plugins to enable (at a version, or `latest`) and plugins to disable; applied
to the active configuration it gives the next one. Pure rules: the service looks the versions up
and stores the result in one transaction. The console's release timeline says what each release
changed (`between`, `describe`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .errors import ApiError, invalid
from .rules import DEFAULT_PHASE, MAX_CONFIGURED_PLUGINS, unique_name

LATEST = "latest"


@dataclass(frozen=True, slots=True)
class ActivePrecondition:
    """If-Match on a release: the release that must still be the active one (None: no release yet)."""

    release_sid: str | None


def precondition_failed(message: str) -> ApiError:
    return ApiError(412, 20412, message)


def check_active(precondition: ActivePrecondition | None, active_sid: str | None) -> None:
    """Refuse (412) when the active release is not the one the caller based its change on."""
    if precondition is None or precondition.release_sid == active_sid:
        return
    now = f"release {active_sid} is active" if active_sid else "nothing has been released yet"
    wanted = precondition.release_sid or "none"
    raise precondition_failed(f"The active release has changed: {now}, not {wanted} (If-Match)")


@dataclass(frozen=True, slots=True)
class Slot:
    """One plugin version in a configuration, as a delta release reasons about it."""

    unique_name: str
    plugin_sid: str
    plugin_version_sid: str
    version: str
    phase: int

    def as_dict(self) -> dict[str, object]:
        return {
            "plugin_sid": self.plugin_sid,
            "plugin_version_sid": self.plugin_version_sid,
            "version": self.version,
            "phase": self.phase,
        }


@dataclass(frozen=True, slots=True)
class Change:
    unique_name: str
    change: str  # added, removed, changed (another version) or moved (same version, another phase)
    before: Slot | None
    after: Slot | None

    def as_dict(self) -> dict[str, object]:
        return {
            "unique_name": self.unique_name,
            "change": self.change,
            "before": None if self.before is None else self.before.as_dict(),
            "after": None if self.after is None else self.after.as_dict(),
        }


def parse_enable(values: Sequence[str]) -> list[tuple[str, str]]:
    """Each `Enable` value, `NAME@VERSION` or `NAME@latest` (NAME alone: latest) -> (name, version)."""
    parsed = []
    for index, raw in enumerate(values):
        name, sep, version = raw.strip().partition("@")
        if sep and not version.strip():
            raise invalid(f"Enable[{index}] {raw!r} names no version: write NAME@VERSION or NAME@latest")
        parsed.append((_name(f"Enable[{index}]", name), version.strip() if sep else LATEST))
    return parsed


def parse_disable(values: Sequence[str]) -> list[str]:
    return [_name(f"Disable[{index}]", raw.strip()) for index, raw in enumerate(values)]


def _name(param: str, value: str) -> str:
    try:
        return unique_name(value)
    except ApiError as error:
        raise invalid(f"{param}: {error.message}") from None


def check_requested(enable: Sequence[tuple[str, str]], disable: Sequence[str]) -> None:
    """At least one change, each plugin named once, nothing both enabled and disabled."""
    if not enable and not disable:
        raise invalid("Nothing to change: give Enable=NAME@VERSION or Disable=NAME (repeatable)")
    if len(enable) + len(disable) > MAX_CONFIGURED_PLUGINS:
        raise invalid(f"At most {MAX_CONFIGURED_PLUGINS} changes may be given at once")
    seen: set[str] = set()
    for name in [name for name, _ in enable] + list(disable):
        if name in seen:
            raise invalid(f"Plugin {name} is named more than once among Enable and Disable")
        seen.add(name)


def apply(
    current: Sequence[Slot], enable: Sequence[Slot], disable: Collection[str]
) -> tuple[list[Slot], list[Change]]:
    """The next configuration's plugins, in load order, and what changed.

    A plugin already configured keeps its place and phase and takes the new version; a new one is
    added at the default phase after the others of that phase; a disabled one is dropped (disabling
    a plugin the configuration does not hold changes nothing).
    """
    wanted = {slot.unique_name: slot for slot in enable}
    result: list[Slot] = []
    changes: list[Change] = []
    for slot in current:
        if slot.unique_name in disable:
            changes.append(Change(slot.unique_name, "removed", slot, None))
            continue
        replacement = wanted.pop(slot.unique_name, None)
        if replacement is None or replacement.plugin_version_sid == slot.plugin_version_sid:
            result.append(slot)
            continue
        moved = Slot(
            replacement.unique_name,
            replacement.plugin_sid,
            replacement.plugin_version_sid,
            replacement.version,
            slot.phase,
        )
        result.append(moved)
        changes.append(Change(slot.unique_name, "changed", slot, moved))
    for slot in enable:
        if slot.unique_name in wanted:
            added = Slot(
                slot.unique_name, slot.plugin_sid, slot.plugin_version_sid, slot.version, DEFAULT_PHASE
            )
            result.append(added)
            changes.append(Change(slot.unique_name, "added", None, added))
    if len(result) > MAX_CONFIGURED_PLUGINS:
        raise invalid(f"A configuration holds at most {MAX_CONFIGURED_PLUGINS} plugins")
    # Load order is by phase, then position: a stable sort keeps the order within each phase.
    result.sort(key=lambda slot: slot.phase)
    return result, changes


def between(before: Sequence[Slot], after: Sequence[Slot]) -> list[Change]:
    """What going from `before` to `after` changes, per plugin (by unique name).

    Grouped as a release manager reads it: other versions first, then plugins added, then those
    only moved to another phase (each group in the load order of `after`), then those removed (in
    the load order of `before`). A plugin at the same version and phase is no change.
    """
    old = {slot.unique_name: slot for slot in before}
    new = {slot.unique_name for slot in after}
    changed: list[Change] = []
    added: list[Change] = []
    moved: list[Change] = []
    for slot in after:
        previous = old.get(slot.unique_name)
        if previous is None:
            added.append(Change(slot.unique_name, "added", None, slot))
        elif previous.plugin_version_sid != slot.plugin_version_sid:
            changed.append(Change(slot.unique_name, "changed", previous, slot))
        elif previous.phase != slot.phase:
            moved.append(Change(slot.unique_name, "moved", previous, slot))
    removed = [
        Change(slot.unique_name, "removed", slot, None) for slot in before if slot.unique_name not in new
    ]
    return changed + added + moved + removed


NO_CHANGE = "no change to the plugins"


def describe(changes: Sequence[Change]) -> str:
    """The changes in words, e.g. `crm-panel 1.0.0 → 1.1.0, theme 2.0.0 added, old-widget removed`.

    Plain text: whoever shows it escapes it for its medium (HTML, a terminal's markup).
    """
    if not changes:
        return NO_CHANGE
    return ", ".join(_phrase(change) for change in changes)


def _phrase(change: Change) -> str:
    before, after = change.before, change.after
    if change.change == "added" and after is not None:
        return f"{change.unique_name} {after.version} added"
    if change.change == "removed":
        return f"{change.unique_name} removed"
    assert before is not None and after is not None
    phase = f" (phase {before.phase} → {after.phase})" if before.phase != after.phase else ""
    if change.change == "moved":
        return f"{change.unique_name} phase {before.phase} → {after.phase}"
    return f"{change.unique_name} {before.version} → {after.version}{phase}"
