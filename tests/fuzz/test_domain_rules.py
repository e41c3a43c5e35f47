"""Property tests of the domain rules and page tokens: any input either gives the clean value or one
ApiError with a 4xx status; accepted values satisfy the documented rule; tokens cannot be forged."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexplugins import sids
from flexplugins.api.wire import PageTokens
from flexplugins.domain import rules
from flexplugins.domain.errors import ApiError
from flexplugins.domain.model import Plugin, PluginRef, PluginVersion

SETTINGS = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
text = st.text(st.characters(codec="utf-8"), max_size=300) | st.text(max_size=20)


def outcome(rule: Any, *args: Any) -> Any:
    try:
        return rule(*args)
    except ApiError as error:
        assert 400 <= error.status < 500 and error.message
        return error


@SETTINGS
@given(st.one_of(st.none(), text, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}", fullmatch=True)))
def test_unique_name(value: str | None) -> None:
    result = outcome(rules.unique_name, value)
    valid = (
        value is not None
        and 0 < len(value) <= rules.MAX_UNIQUE_NAME
        and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value) is not None
        and not sids.looks_like_any_sid(value)
    )
    assert (result == value) if valid else isinstance(result, ApiError)


@SETTINGS
@given(st.one_of(st.none(), text, st.from_regex(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,70}", fullmatch=True)))
def test_version(value: str | None) -> None:
    result = outcome(rules.version, value)
    valid = (
        value is not None
        and 0 < len(value) <= rules.MAX_VERSION
        and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+_-]*", value) is not None
        and not sids.looks_like_any_sid(value)
    )
    assert (result == value) if valid else isinstance(result, ApiError)


@SETTINGS
@given(
    st.one_of(
        text, st.just("https://cdn.example.com/x.js"), st.from_regex(r"https?://[a-z]{1,10}\.[a-z]{2,3}/\S*")
    )
)
def test_plugin_url(value: str) -> None:
    result = outcome(rules.plugin_url, value)
    if not isinstance(result, ApiError):
        assert result.startswith(("http://", "https://")) and len(result) <= rules.MAX_URL
        assert not any(c.isspace() for c in result) and "\x00" not in result


@SETTINGS
@given(text)
def test_free_text_never_holds_control_characters(value: str) -> None:
    for rule in (rules.friendly_name, rules.description, rules.changelog, rules.configuration_name):
        result = outcome(rule, value)
        if isinstance(result, str):
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", result)


version_sids = st.builds(lambda h: "FV" + h, st.text("0123456789abcdef", min_size=32, max_size=32))
entries = st.lists(
    st.one_of(
        st.builds(
            lambda sid, phase: json.dumps({"plugin_version": sid, "phase": phase}),
            version_sids,
            st.integers(-5, 1005),
        ),
        st.builds(lambda sid: json.dumps({"plugin_version": sid}), version_sids),
        text,
        st.builds(json.dumps, st.one_of(st.integers(), st.lists(st.integers()), st.dictionaries(text, text))),
    ),
    max_size=8,
)


@SETTINGS
@given(entries)
def test_plugin_refs(values: list[str]) -> None:
    result = outcome(rules.plugin_refs, values)
    if isinstance(result, ApiError):
        return
    assert len(result) == len(values)
    assert len({ref.plugin_version_sid for ref in result}) == len(result)
    for ref, raw in zip(result, values, strict=True):
        item = json.loads(raw)
        assert ref.plugin_version_sid == item["plugin_version"]
        assert ref.phase == item.get("phase", rules.DEFAULT_PHASE) and 0 <= ref.phase <= rules.MAX_PHASE


when = datetime(2026, 1, 1, tzinfo=UTC)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=6))
def test_check_configurable(items: list[tuple[int, bool, bool]]) -> None:
    """(plugin number, plugin archived, version archived): refused iff anything is archived or a
    plugin repeats."""
    refs, found = [], {}
    archived_plugins: dict[int, bool] = {}
    for index, (plugin_no, plugin_archived, version_archived) in enumerate(items):
        plugin_archived = archived_plugins.setdefault(plugin_no, plugin_archived)
        plugin = Plugin(
            plugin_no,
            f"FP{plugin_no:032x}",
            "AC" + "0" * 32,
            f"p{plugin_no}",
            None,
            None,
            plugin_archived,
            when,
            when,
        )
        sid = f"FV{index:032x}"
        found[sid] = (
            PluginVersion(
                index,
                sid,
                "AC" + "0" * 32,
                plugin.sid,
                f"1.0.{index}",
                "https://a.b/c.js",
                None,
                False,
                version_archived,
                False,
                when,
            ),
            plugin,
        )
        refs.append(PluginRef(sid, 0))
    plugins = [p for p, _, _ in items]
    should_refuse = (
        any(archived_plugins[p] for p in plugins)
        or any(v for _, _, v in items)
        or len(set(plugins)) != len(plugins)
    )
    result = outcome(rules.check_configurable, refs, found)
    assert isinstance(result, ApiError) == should_refuse


tokens = PageTokens("a-secret")
# Scopes are built from an account SID, a list name and a SID or unique name: these characters.
scopes = st.from_regex(r"[A-Za-z0-9:._-]{0,60}", fullmatch=True)


@SETTINGS
@given(scopes, st.sampled_from(["after", "before"]), st.integers(-(2**63), 2**63 - 1))
def test_page_tokens_round_trip(scope: str, direction: str, value: int) -> None:
    cursor = tokens.read(scope, tokens.make(scope, direction, value))
    assert (cursor.direction, cursor.value) == (direction, value)


@SETTINGS
@given(scopes, scopes, st.integers(0, 2**40), st.data())
def test_page_tokens_cannot_be_forged_or_moved(
    scope: str, other: str, value: int, data: st.DataObject
) -> None:
    token = tokens.make(scope, "after", value)
    if other != scope:
        with pytest.raises(ApiError):
            tokens.read(other, token)  # another list or account
    with pytest.raises(ApiError):
        PageTokens("another-secret").read(scope, token)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCabc012-_.="))
    tampered = token[:position] + replacement + token[position + 1 :]
    if tampered != token:
        result = outcome(tokens.read, scope, tampered)
        # A tampered token is refused, unless the change is invisible to base64 decoding (padding bits).
        if not isinstance(result, ApiError):
            assert (result.direction, result.value) == ("after", value)
    outcome(tokens.read, scope, data.draw(text))  # arbitrary text: an ApiError or a cursor, never a crash
