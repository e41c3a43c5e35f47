"""Version bumps of `deploy --patch/--minor/--major`."""

from __future__ import annotations

import pytest

from flexplugins.cli.semver import next_version, parse


@pytest.mark.parametrize(
    ("existing", "part", "expected"),
    [
        ([], "patch", "0.0.1"),
        ([], "minor", "0.1.0"),
        ([], "major", "1.0.0"),
        (["1.2.3"], "patch", "1.2.4"),
        (["1.2.3"], "minor", "1.3.0"),
        (["1.2.3"], "major", "2.0.0"),
        # The highest version counts, not the newest: a hotfix of an old line does not collide.
        (["1.5.0", "2.0.0", "1.9.9"], "patch", "2.0.1"),
        (["1.10.0", "1.9.0"], "minor", "1.11.0"),
        # A pre-release is bumped to its own release when that is the next version.
        (["2.0.0-beta.1"], "major", "2.0.0"),
        (["2.0.0-beta.1", "1.9.0"], "patch", "2.0.0"),
        (["1.3.0-rc.1"], "minor", "1.3.0"),
        (["1.3.1-rc.1"], "minor", "1.4.0"),
        (["1.0.0", "1.0.0-rc.2"], "patch", "1.0.1"),
        (["v1.2.3", "not-semver", "nightly"], "patch", "1.2.4"),
        (["1.0.0+build.5"], "patch", "1.0.1"),
    ],
)
def test_next_version(existing: list[str], part: str, expected: str) -> None:
    assert next_version(existing, part) == expected


def test_precedence_of_prereleases() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0"]
    parsed = [parse(text) for text in ordered]
    assert all(p is not None for p in parsed)
    keys = [p.key() for p in parsed if p is not None]
    assert keys == sorted(keys)


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "one", "1.2.3.4", ""])
def test_not_semver(text: str) -> None:
    assert parse(text) is None
