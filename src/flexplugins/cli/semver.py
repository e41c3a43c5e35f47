"""Semantic versions (semver.org 2.0): parse, order, and bump a patch, minor or major version."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
BUMPS = ("patch", "minor", "major")


@dataclass(frozen=True, slots=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return core + ("-" + ".".join(self.prerelease) if self.prerelease else "")

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """Precedence: a pre-release sorts before its release; numeric identifiers before others."""
        identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, identifiers)

    def bump(self, part: str) -> Version:
        """The next version; a pre-release is bumped to its own release when that is the next one."""
        if part == "major":
            if self.prerelease and self.minor == 0 and self.patch == 0:
                return Version(self.major, 0, 0)
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            if self.prerelease and self.patch == 0:
                return Version(self.major, self.minor, 0)
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            if self.prerelease:
                return Version(self.major, self.minor, self.patch)
            return Version(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown part {part!r}; use one of {', '.join(BUMPS)}")


def parse(text: str) -> Version | None:
    found = _SEMVER.match(text.strip())
    if found is None:
        return None
    prerelease = tuple(found.group(4).split(".")) if found.group(4) else ()
    return Version(int(found.group(1)), int(found.group(2)), int(found.group(3)), prerelease)


def check_given(text: str) -> str:
    """A version given on the command line: exactly MAJOR.MINOR.PATCH, with an optional -pre-release
    and +build, as the vendor's CLI takes it; `v1.2.0` and `1.2` are refused with what to write."""
    given = text.strip()
    found = parse(given)
    if found is not None and not given.startswith("v"):
        return given
    if found is not None:
        hint = f"; write {given[1:]}"
    else:
        parts = given.removeprefix("v").split(".")
        hint = ""
        if 1 <= len(parts) < 3 and all(part.isdigit() for part in parts):
            hint = f"; write {'.'.join(parts + ['0'] * (3 - len(parts)))}"
    raise ValueError(
        f"--version must be a semantic version MAJOR.MINOR.PATCH such as 1.2.0 (got {text!r}){hint}"
    )


def next_version(existing: Iterable[str], part: str) -> str:
    """Bump the highest semantic version among `existing` (0.0.0 when there is none)."""
    versions = [v for v in (parse(text) for text in existing) if v is not None]
    latest = max(versions, key=Version.key) if versions else Version(0, 0, 0)
    return str(latest.bump(part))
