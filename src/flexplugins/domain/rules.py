"""Validation of user input and the invariants of plugins, versions, configurations and releases.

Every function here either returns the clean value or raises ApiError with a message that names
the parameter and says what is wrong. Nothing here touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import orjson

from .. import sids
from .errors import ApiError, conflict, invalid, missing
from .model import Configuration, Plugin, PluginRef, PluginVersion

MAX_UNIQUE_NAME = 100
MAX_FRIENDLY_NAME = 255
MAX_DESCRIPTION = 500
MAX_VERSION = 64
MAX_URL = 2048
MAX_CHANGELOG = 2000
MAX_SHORT_TEXT = 64
MAX_CONFIGURATION_NAME = 255
MAX_CONFIGURED_PLUGINS = 1000
MAX_PHASE = 1000
DEFAULT_PHASE = 0

_UNIQUE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(param: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    if value is None or (required and value.strip() == ""):
        if required:
            raise missing(param)
        return None
    if len(value) > limit:
        raise invalid(f"{param} must be at most {limit} characters long (got {len(value)})")
    if _CONTROL_RE.search(value):
        raise invalid(f"{param} must not contain control characters")
    return value


def unique_name(value: str | None) -> str:
    name = _text("UniqueName", value, MAX_UNIQUE_NAME, required=True)
    assert name is not None
    if not _UNIQUE_NAME_RE.match(name):
        raise invalid(
            "UniqueName must start with a letter or digit and contain only letters, digits, "
            f"'.', '_' and '-' (got {name!r})"
        )
    if sids.looks_like_any_sid(name):
        raise invalid("UniqueName must not have the shape of a SID")
    return name


def friendly_name(value: str | None) -> str | None:
    return _text("FriendlyName", value, MAX_FRIENDLY_NAME)


def description(value: str | None) -> str | None:
    return _text("Description", value, MAX_DESCRIPTION)


def version(value: str | None) -> str:
    text = _text("Version", value, MAX_VERSION, required=True)
    assert text is not None
    if not _VERSION_RE.match(text):
        raise invalid(
            "Version must start with a letter or digit and contain only letters, digits, "
            f"'.', '+', '_' and '-', such as 1.2.0 (got {text!r})"
        )
    if sids.looks_like_any_sid(text):
        raise invalid("Version must not have the shape of a SID")
    return text


def plugin_url(value: str | None) -> str:
    url = _text("PluginUrl", value, MAX_URL, required=True)
    assert url is not None
    try:
        parts = urlsplit(url)
    except ValueError:
        raise invalid(f"PluginUrl must be an absolute http or https URL (got {url!r})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise invalid(f"PluginUrl must be an absolute http or https URL (got {url!r})")
    return url


def changelog(value: str | None) -> str | None:
    return _text("Changelog", value, MAX_CHANGELOG)


def short_text(param: str, value: str | None) -> str | None:
    return _text(param, value, MAX_SHORT_TEXT)


def boolean(param: str, value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise invalid(f"{param} must be true or false (got {value!r})")


def configuration_name(value: str | None) -> str:
    name = _text("Name", value, MAX_CONFIGURATION_NAME, required=True)
    assert name is not None
    return name


def plugin_refs(values: Sequence[str]) -> list[PluginRef]:
    """Parse the repeated Plugins field: each value one JSON object with plugin_version and phase."""
    if len(values) > MAX_CONFIGURED_PLUGINS:
        raise invalid(f"Plugins may hold at most {MAX_CONFIGURED_PLUGINS} entries (got {len(values)})")
    refs: list[PluginRef] = []
    seen: set[str] = set()
    for index, raw in enumerate(values):
        where = f"Plugins[{index}]"
        try:
            # orjson, not the json module: it refuses nesting past 1,024 levels, integers past
            # 64 bits and NaN with an error instead of a RecursionError (or a slow huge int).
            item = orjson.loads(raw)
        except ValueError:
            raise invalid(
                f'{where} must be a JSON object such as {{"plugin_version": "FV...", "phase": 3}}'
            ) from None
        if not isinstance(item, dict):
            raise invalid(f"{where} must be a JSON object with a plugin_version")
        sid = item.get("plugin_version")
        if not isinstance(sid, str) or not sids.is_sid(sid, sids.PLUGIN_VERSION):
            raise invalid(f"{where}.plugin_version must be a plugin version SID (FV...)")
        sid = sids.normalise(sid)
        phase = item.get("phase", DEFAULT_PHASE)
        if isinstance(phase, bool) or not isinstance(phase, int) or not 0 <= phase <= MAX_PHASE:
            raise invalid(f"{where}.phase must be an integer from 0 to {MAX_PHASE}")
        if sid in seen:
            raise invalid(f"{where}: plugin version {sid} is listed more than once")
        seen.add(sid)
        refs.append(PluginRef(sid, phase))
    return refs


def check_configurable(refs: Sequence[PluginRef], versions: dict[str, tuple[PluginVersion, Plugin]]) -> None:
    """A configuration holds live versions of live plugins, at most one version per plugin."""
    plugins_seen: dict[str, str] = {}
    for ref in refs:
        found = versions.get(ref.plugin_version_sid)
        if found is None:
            raise invalid(f"Plugin version {ref.plugin_version_sid} was not found")
        version_, plugin = found
        if plugin.archived:
            raise invalid(f"Plugin {plugin.unique_name} ({plugin.sid}) is archived and cannot be configured")
        if version_.archived:
            raise invalid(
                f"Plugin version {plugin.unique_name}@{version_.version} ({version_.sid}) is archived "
                "and cannot be configured"
            )
        other = plugins_seen.get(plugin.sid)
        if other is not None:
            raise invalid(
                f"A configuration holds one version per plugin; {plugin.unique_name} is listed with "
                f"{other} and {version_.version}"
            )
        plugins_seen[plugin.sid] = version_.version


def check_releasable(configuration: Configuration, contents: Iterable[tuple[str, str, bool, bool]]) -> None:
    """contents: (unique_name, version, plugin_archived, version_archived) for each configured plugin."""
    if configuration.archived:
        raise invalid(f"Configuration {configuration.sid} is archived and cannot be released")
    for name, ver, plugin_archived, version_archived in contents:
        if plugin_archived:
            raise invalid(
                f"Configuration {configuration.sid} holds plugin {name}, which is archived; "
                "it cannot be released"
            )
        if version_archived:
            raise invalid(
                f"Configuration {configuration.sid} holds plugin version {name}@{ver}, which is "
                "archived; it cannot be released"
            )


def archive_refusal(item: Plugin | PluginVersion | Configuration, *, held_by_active: bool) -> ApiError | None:
    """Why archiving this plugin, version or configuration is refused (409), or None when it may be.

    The service raises it; the console shows its message beside a disabled Archive button, so both
    follow this one rule. (Archiving what is archived already is no refusal: it is idempotent.)
    """
    if not held_by_active:
        return None
    if isinstance(item, Plugin):
        what = f"Plugin {item.unique_name} ({item.sid})"
    elif isinstance(item, PluginVersion):
        what = f"Plugin version {item.version} ({item.sid})"
    else:
        what = f"Configuration {item.sid}"
    return conflict(
        f"{what} is part of the active release and cannot be archived; "
        "release a configuration without it first"
    )


def refuse_new_version_of_archived(plugin: Plugin) -> ApiError:
    return invalid(f"Plugin {plugin.unique_name} ({plugin.sid}) is archived; it cannot get new versions")


# --- Secrets an operator chooses (TWILIO_AUTH_TOKEN at bootstrap, FLEXPLUGINS_SECRET_KEY) ---------

MIN_CHOSEN_SECRET = 32
MAX_CHOSEN_SECRET = 128
_MIN_DISTINCT_CHARACTERS = 8
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def _longest_step_run(value: str) -> int:
    """The longest run of characters each one code point above (or below) the one before."""
    longest = run = 1
    step = 0
    for previous, current in zip(value, value[1:], strict=False):
        delta = ord(current) - ord(previous)
        if delta in (1, -1) and delta == step:
            run += 1
        elif delta in (1, -1):
            step, run = delta, 2
        else:
            step, run = 0, 1
        longest = max(longest, run)
    return longest


def chosen_secret(name: str, value: str) -> str:
    """An operator-chosen secret, refused when it is obviously weak (short, repetitive, a sequence).

    Generated secrets (32 random hex digits and up) always pass; this catches the
    `change-me`, `aaaa…`, `abcabc…` and `0123456789…` kind of value, not every weak one.
    """
    hint = "generate one, e.g. with `openssl rand -hex 16`"
    if not MIN_CHOSEN_SECRET <= len(value) <= MAX_CHOSEN_SECRET:
        raise invalid(
            f"{name} must be {MIN_CHOSEN_SECRET} to {MAX_CHOSEN_SECRET} characters long "
            f"(got {len(value)}); {hint}"
        )
    if not _SECRET_RE.match(value):
        raise invalid(f"{name} may contain only letters, digits, '-' and '_'; {hint}")
    if len(set(value)) < _MIN_DISTINCT_CHARACTERS:
        raise invalid(
            f"{name} is too repetitive (fewer than {_MIN_DISTINCT_CHARACTERS} different characters); {hint}"
        )
    for period in range(1, len(value) // 2 + 1):
        if len(value) % period == 0 and value == value[:period] * (len(value) // period):
            raise invalid(f"{name} is one short string repeated; {hint}")
    if _longest_step_run(value) * 2 >= len(value):
        raise invalid(f"{name} is mostly a sequence of consecutive characters; {hint}")
    return value
