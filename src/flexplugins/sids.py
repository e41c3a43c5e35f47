"""SIDs: a two-letter prefix and 32 lowercase hex digits, as the vendor issues them."""

from __future__ import annotations

import re
import uuid

ACCOUNT = "AC"
API_KEY = "SK"
PLUGIN = "FP"
PLUGIN_VERSION = "FV"
CONFIGURATION = "FJ"
RELEASE = "FK"
RUNTIME_TOKEN = "RT"
# The Serverless API's resources (what `flex:plugins:deploy` uploads bundles through).
SERVERLESS_SERVICE = "ZS"
ENVIRONMENT = "ZE"
ASSET = "ZH"
ASSET_VERSION = "ZN"
BUILD = "ZB"
DEPLOYMENT = "ZD"

_SID_RE = re.compile(r"^([A-Z]{2})[0-9a-fA-F]{32}$")


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def is_sid(value: str, prefix: str) -> bool:
    """True when value is shaped like a SID with this prefix (case of the hex digits ignored)."""
    if len(value) != 34 or not value.startswith(prefix):
        return False
    return _SID_RE.match(value) is not None


def looks_like_any_sid(value: str) -> bool:
    return len(value) == 34 and _SID_RE.match(value) is not None


def normalise(value: str) -> str:
    """SIDs are compared with lowercase hex digits, as we issue them."""
    return value[:2] + value[2:].lower()
