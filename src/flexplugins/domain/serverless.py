"""The Serverless API's resources (services, environments, assets, builds, deployments) and their rules.

Only the part `twilio flex:plugins:deploy` and the archive commands use: there are no Functions,
and a build has nothing to compile, so it is complete when it is created.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import sids
from .errors import invalid, missing
from .rules import boolean

DOMAIN = "twil.io"
MAX_LABEL = 63  # one DNS label: the vendor proxy's certificate covers `*.twil.io`, one label deep
MAX_SERVICE_NAME = 50
MAX_ENVIRONMENT_NAME = 100
MAX_SUFFIX = 16
MAX_FRIENDLY = 255
MAX_PATH = 255
MAX_DEPENDENCIES = 1000
VISIBILITIES = ("public", "protected", "private")
RUNTIMES = ("node8", "node10", "node12", "node14", "node16", "node18", "node20", "node22")
DEFAULT_RUNTIME = "node22"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SUFFIX_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    sid: str
    account_sid: str
    unique_name: str
    friendly_name: str
    include_credentials: bool
    ui_editable: bool
    domain_base: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class Environment:
    id: int
    sid: str
    account_sid: str
    service_sid: str
    unique_name: str
    domain_suffix: str | None
    domain_name: str
    build_sid: str | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class Asset:
    id: int
    sid: str
    account_sid: str
    service_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class AssetVersion:
    id: int
    sid: str
    account_sid: str
    service_sid: str
    asset_sid: str
    path: str
    visibility: str
    sha256: str
    content_type: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Build:
    id: int
    sid: str
    account_sid: str
    service_sid: str
    status: str
    runtime: str
    dependencies: list[dict[str, Any]]
    asset_versions: list[AssetVersion]
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    sid: str
    account_sid: str
    service_sid: str
    environment_sid: str
    build_sid: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class HostedAsset:
    """What an environment's domain serves at a path: the bytes' key and who may read them."""

    account_sid: str
    sha256: str
    visibility: str
    content_type: str


def _text(param: str, value: str | None, limit: int, *, required: bool) -> str | None:
    if value is None or value.strip() == "":
        if required:
            raise missing(param)
        return None
    if len(value) > limit:
        raise invalid(f"{param} must be at most {limit} characters long (got {len(value)})")
    if _CONTROL_RE.search(value):
        raise invalid(f"{param} must not contain control characters")
    return value


def _name(param: str, value: str | None, limit: int) -> str:
    name = _text(param, value, limit, required=True)
    assert name is not None
    if not _NAME_RE.match(name):
        raise invalid(
            f"{param} must start with a letter or digit and contain only letters, digits, "
            f"'.', '_' and '-' (got {name!r})"
        )
    if sids.looks_like_any_sid(name):
        raise invalid(f"{param} must not have the shape of a SID")
    return name


def service_unique_name(value: str | None) -> str:
    return _name("UniqueName", value, MAX_SERVICE_NAME)


def environment_unique_name(value: str | None) -> str:
    return _name("UniqueName", value, MAX_ENVIRONMENT_NAME)


def friendly_name(value: str | None, *, required: bool) -> str | None:
    return _text("FriendlyName", value, MAX_FRIENDLY, required=required)


def flag(param: str, value: str | None, default: bool) -> bool:
    return boolean(param, value, default)


def domain_suffix(value: str | None) -> str | None:
    suffix = _text("DomainSuffix", value, MAX_SUFFIX, required=False)
    if suffix is not None and not _SUFFIX_RE.match(suffix):
        raise invalid(
            "DomainSuffix must contain only letters, digits and '-', and start and end with a "
            f"letter or digit (got {suffix!r})"
        )
    return suffix


def domain_base(unique_name: str) -> str:
    """A service's domain base: its name made DNS-safe and a random part (the vendor's `name-1234`)."""
    slug = _SLUG_RE.sub("-", unique_name.lower()).strip("-")[: MAX_LABEL - MAX_SUFFIX - 1 - 9] or "service"
    return f"{slug.strip('-')}-{secrets.randbelow(10**8):08d}"


def domain_name(base: str, suffix: str | None) -> str:
    """`<base>-<suffix>.twil.io`: one label under twil.io, as the vendor proxy's certificate needs."""
    label = base if suffix is None else f"{base}-{suffix.lower()}"
    assert _LABEL_RE.match(label), label
    return f"{label}.{DOMAIN}"


def hosted_domain(host: str) -> bool:
    """Whether a host name is one label under twil.io (where environments are served)."""
    label, dot, rest = host.partition(".")
    return bool(dot) and rest == DOMAIN and _LABEL_RE.match(label) is not None


def asset_path(value: str | None) -> str:
    path = _text("Path", value, MAX_PATH, required=True)
    assert path is not None
    if not _PATH_RE.match(path) or "//" in path or "/../" in path + "/" or "/./" in path + "/":
        raise invalid(
            f"Path must start with '/' and be a plain URL path without '.' or '..' segments (got {path!r})"
        )
    return path


def visibility(value: str | None) -> str:
    if value is None or value == "":
        raise missing("Visibility")
    lowered = value.lower()
    if lowered not in VISIBILITIES:
        raise invalid(f"Visibility must be one of Public, Protected or Private (got {value!r})")
    return lowered


def runtime(value: str | None) -> str:
    """The runtime of a build; the deploy script asks for `latest`, which is the newest we name."""
    if value is None or value == "" or value == "latest":
        return DEFAULT_RUNTIME
    if value not in RUNTIMES:
        raise invalid(f"Runtime must be one of {', '.join(RUNTIMES)} or latest (got {value!r})")
    return value


def _dependency(item: Any) -> dict[str, Any]:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("name"), str)
        or not isinstance(item.get("version"), str)
        or set(item) - {"name", "version"}
    ):
        raise invalid('Each of Dependencies must be an object {"name": "...", "version": "..."}')
    if len(item["name"]) > 214 or len(item["version"]) > 64:
        raise invalid("A dependency's name must be at most 214 characters and its version at most 64")
    return {"name": item["name"], "version": item["version"]}


def dependencies(values: list[str], names: list[str], versions: list[str]) -> list[dict[str, Any]]:
    """Dependencies as the vendor's clients send them: JSON text (an array or one object) per
    value; an empty value (what the deploy script sends for an object) adds nothing; or the
    `Dependencies[name]` and `Dependencies[version]` pairs the Node helper library writes."""
    found: list[dict[str, Any]] = []
    for value in values:
        if value.strip() == "":
            continue
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise invalid("Dependencies must be JSON: an array of {name, version} objects") from None
        items = parsed if isinstance(parsed, list) else [parsed]
        found.extend(_dependency(item) for item in items)
    if len(names) != len(versions):
        raise invalid("Each Dependencies[name] needs a Dependencies[version]")
    found.extend(_dependency({"name": n, "version": v}) for n, v in zip(names, versions, strict=True))
    if len(found) > MAX_DEPENDENCIES:
        raise invalid(f"A build may have at most {MAX_DEPENDENCIES} dependencies")
    return found


def sid_list(param: str, values: list[str], prefix: str) -> list[str]:
    """Repeated SID values of one kind; empty values are skipped (an empty list is sent as one)."""
    out: list[str] = []
    for value in values:
        if value == "":
            continue
        if not sids.is_sid(value, prefix):
            raise invalid(f"{param} must hold {prefix} SIDs (got {value[:40]!r})")
        out.append(sids.normalise(value))
    if len(out) > MAX_DEPENDENCIES:
        raise invalid(f"{param} may hold at most {MAX_DEPENDENCIES} SIDs")
    return out
