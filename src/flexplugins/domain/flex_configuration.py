"""The Flex Configuration of an account: the part `flex:plugins:deploy` reads and writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import sids
from .errors import invalid

# The Flex UI version a new account is pinned to: the deploy script calls `.replace` on it and
# checks it against ">=1.19.0", and chooses React 17 for 2.x.
DEFAULT_UI_VERSION = "2.17.1"
MAX_SERVICE_SIDS = 100
_UI_VERSION_RE = re.compile(r"^[0-9]+(\.[0-9a-z]+){0,3}$")


@dataclass(frozen=True, slots=True)
class FlexConfiguration:
    account_sid: str
    ui_version: str
    serverless_service_sids: list[str]
    date_created: datetime
    date_updated: datetime


def _shown(value: Any) -> str:
    """A client's value, short, for an error message. JSON arrays and objects are only named: str()
    of one nested a thousand deep raises RecursionError (a 500 instead of this 400)."""
    if isinstance(value, list | dict):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    return repr(str(value)[:40])


def account_sid(value: Any, caller: str) -> None:
    """A given account_sid must be the caller's own (the vendor's clients echo it back)."""
    if value is None:
        return
    if not isinstance(value, str) or not sids.is_sid(value, sids.ACCOUNT):
        raise invalid(f"account_sid must be an account SID (got {_shown(value)})")
    if sids.normalise(value) != caller:
        raise invalid("account_sid must be the SID of the account whose credentials were sent")


def ui_version(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 32 or not _UI_VERSION_RE.match(value):
        raise invalid(
            f"ui_version must be a version such as {DEFAULT_UI_VERSION!r} (got {_shown(value)})"
        )
    return value


def service_sids(value: Any) -> list[str]:
    """The list of Serverless service SIDs, in order, without repeats."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not sids.is_sid(item, sids.SERVERLESS_SERVICE):
            raise invalid(f"serverless_service_sids must hold ZS SIDs (got {_shown(item)})")
        sid = sids.normalise(item)
        if sid not in out:
            out.append(sid)
    if len(out) > MAX_SERVICE_SIDS:
        raise invalid(f"serverless_service_sids may hold at most {MAX_SERVICE_SIDS} SIDs")
    return out
