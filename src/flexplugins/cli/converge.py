"""Making the active release hold a wanted set of plugin versions at given phases, in a given order.

`promote` and `apply` both end here: compare what is live with what is wanted (in load order), and
when they differ release it on top of the release that was planned against (`If-Match`). A delta
release does it in one transaction when it gives exactly the wanted result; it cannot set a phase
(a plugin it adds gets the default phase, after the others), so otherwise the configuration is
created explicitly and then released.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..client import Client, FlexPluginsError, PluginRef, Release, etag_of
from ..domain import release_changes
from ..domain.rules import DEFAULT_PHASE
from . import plans
from .common import CliError

NONE = "none"
DELTA = "delta"
CONFIGURATION = "configuration"


@dataclass(frozen=True, slots=True)
class Wanted:
    """One plugin of a configuration as a host application sees it: name, version and phase."""

    unique_name: str
    version: str
    phase: int

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "phase": self.phase}

    def label(self) -> str:
        return f"{self.unique_name}@{self.version} (phase {self.phase})"


def load_order(entries: Sequence[Wanted]) -> list[Wanted]:
    """By phase, then as listed: the order a configuration keeps and host applications load."""
    return sorted(entries, key=lambda entry: entry.phase)


def wanted_of(items: Sequence[plans.Item]) -> list[Wanted]:
    return load_order(
        [
            Wanted(item.unique_name, item.version, DEFAULT_PHASE if item.phase is None else item.phase)
            for item in items
        ]
    )


@dataclass(frozen=True, slots=True)
class Difference:
    unique_name: str
    change: str  # added, removed, changed (another version) or moved (another phase or place)
    before: Wanted | None
    after: Wanted | None

    def as_dict(self) -> dict[str, object]:
        return {
            "unique_name": self.unique_name,
            "change": self.change,
            "before": None if self.before is None else self.before.as_dict(),
            "after": None if self.after is None else self.after.as_dict(),
        }

    def describe(self) -> str:
        if self.change == "added" and self.after is not None:
            return f"+ {self.after.label()}"
        if self.change == "removed" and self.before is not None:
            return f"- {self.before.label()}"
        assert self.before is not None and self.after is not None
        if self.change == "changed":
            versions = f"{self.before.version} -> {self.after.version}"
            return f"~ {self.unique_name}: {versions} (phase {self.after.phase})"
        moved = f"phase {self.before.phase} -> {self.after.phase}"
        if self.before.phase == self.after.phase:
            moved = f"another place in phase {self.after.phase}"
        return f"~ {self.after.label()}: {moved}"


def differences(before: Sequence[Wanted], after: Sequence[Wanted]) -> list[Difference]:
    """What turns `before` into `after` (both in load order), plugin by plugin."""
    old = {entry.unique_name: entry for entry in before}
    new = {entry.unique_name: entry for entry in after}

    def place(side: Sequence[Wanted], entry: Wanted) -> int:
        # Its place among the plugins that keep this phase on both sides: a move of another plugin
        # to another phase does not move this one.
        same = [e.unique_name for e in side if e.phase == entry.phase]
        return [n for n in same if n in old and n in new and old[n].phase == new[n].phase].index(
            entry.unique_name
        )

    out: list[Difference] = []
    for entry in after:
        previous = old.get(entry.unique_name)
        if previous is None:
            out.append(Difference(entry.unique_name, "added", None, entry))
        elif previous.version != entry.version:
            out.append(Difference(entry.unique_name, "changed", previous, entry))
        elif previous.phase != entry.phase or place(before, previous) != place(after, entry):
            out.append(Difference(entry.unique_name, "moved", previous, entry))
    out += [Difference(e.unique_name, "removed", e, None) for e in before if e.unique_name not in new]
    return out


def _slot(entry: Wanted) -> release_changes.Slot:
    # The server's rule compares versions by SID; name@version identifies one here just as well.
    label = f"{entry.unique_name}@{entry.version}"
    return release_changes.Slot(entry.unique_name, entry.unique_name, label, entry.version, entry.phase)


def _delta_result(current: Sequence[Wanted], enable: Sequence[Wanted], disable: set[str]) -> list[Wanted]:
    """What the server's delta release makes of `current`: the server's own rule, applied here."""
    result, _ = release_changes.apply([_slot(e) for e in current], [_slot(e) for e in enable], disable)
    return [Wanted(slot.unique_name, slot.version, slot.phase) for slot in result]


@dataclass(frozen=True, slots=True)
class ReleaseStep:
    """The release that makes `after` live on top of `active` (method `none` when it already is)."""

    active: Release | None
    before: list[Wanted]
    after: list[Wanted]
    method: str
    enable: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.method != NONE

    def differences(self) -> list[Difference]:
        return differences(self.before, self.after)

    def as_dict(self) -> dict[str, object]:
        return {
            "needed": self.needed,
            "method": self.method,
            "if_match": etag_of(self.active),
            "changes": [difference.as_dict() for difference in self.differences()],
            "plugins": [{"unique_name": e.unique_name, **e.as_dict()} for e in self.after],
        }


def plan_release(active: Release | None, live: Sequence[plans.Item], wanted: Sequence[Wanted]) -> ReleaseStep:
    before = wanted_of(live)
    after = load_order(wanted)
    if before == after:
        return ReleaseStep(active, before, after, NONE)
    current = {entry.unique_name: entry for entry in before}
    enable = [e for e in after if e.unique_name not in current or current[e.unique_name].version != e.version]
    names = {entry.unique_name for entry in after}
    disable = [entry.unique_name for entry in before if entry.unique_name not in names]
    if (enable or disable) and _delta_result(before, enable, set(disable)) == after:
        return ReleaseStep(
            active, before, after, DELTA, [f"{e.unique_name}@{e.version}" for e in enable], disable
        )
    return ReleaseStep(active, before, after, CONFIGURATION)


class ActiveReleaseChanged(CliError):
    """Another release landed after the plan was made (412 to the If-Match); nothing was released."""


def carry_out(
    client: Client,
    step: ReleaseStep,
    version_sids: Mapping[str, str],
    *,
    name: str,
    description: str | None,
) -> Release:
    """Release `step` with If-Match on the release it was planned against; check what went live.

    `version_sids`: the plugin version SID of each wanted plugin (needed for a configuration).
    """
    assert step.needed
    if_match = etag_of(step.active)
    planned = step.active.sid if step.active is not None else "none (nothing released)"
    try:
        if step.method == DELTA:
            done = client.delta_release(
                step.enable, step.disable, name=name, description=description, if_match=if_match
            )
            if done.release is None:
                raise CliError("The server created no release for a delta release that changes something")
            made = done.release
        else:
            refs = [PluginRef(version_sids[entry.unique_name], entry.phase) for entry in step.after]
            configuration = client.create_configuration(name, refs, description)
            try:
                made = client.create_release(configuration.sid, if_match=if_match)
            except FlexPluginsError as error:
                if error.status == 412:
                    # Never released: archive it so that it is not mistaken for a candidate.
                    with contextlib.suppress(FlexPluginsError):
                        client.archive_configuration(configuration.sid)
                raise
    except FlexPluginsError as error:
        if error.status == 412:
            raise ActiveReleaseChanged(
                f"The active release changed meanwhile (it was {planned} when planned); nothing was "
                "released"
            ) from None
        raise
    live = wanted_of(plans.configuration_items(client, made.configuration_sid))
    if live != step.after:
        got = ", ".join(entry.label() for entry in live) or "no plugins"
        raise CliError(f"Release {made.sid} holds {got}, not what was planned; look at it before going on")
    return made
