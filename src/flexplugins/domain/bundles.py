"""Which hosted bundle a URL names: one normalised key, the bundle's identity (account SID, SHA-256).

Whether a bundle is private, and which integrity value a manifest gives a PluginUrl, are decided
from this key alone, never from a string match on the URL as it was written. The URL is read the
way a browser and this server read it: a query or fragment names the same resource, backslashes
are slashes, tabs and newlines are dropped, percent-encodings are decoded (once, as the server
decodes the request path), dot segments are resolved, repeated or trailing slashes and trailing
dots are ignored, and letters are compared without case. The host is ignored on purpose: a
version may name the bundle through a proxy or a CDN in front of this server. When in doubt the
answer is "this bundle": taking a near-spelling for the bundle can only make it private, never
public.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

PREFIX = "/flexplugins/v1/Bundles"
_TAIL = re.compile(r"/flexplugins/v1/bundles/ac([0-9a-f]{32})/([0-9a-f]{64})\.js$")
_SCHEME_AND_AUTHORITY = re.compile(r"^[a-z][a-z0-9+.\-]*:(//[^/]*)?")
_DROPPED = re.compile(r"[\t\n\r]")


def path_of(account_sid: str, sha256: str) -> str:
    """The canonical path of a hosted bundle."""
    return f"{PREFIX}/{account_sid}/{sha256}.js"


def _resolved(path: str) -> str:
    """The path with dot segments resolved and empty segments (repeated slashes) dropped."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    return "/" + "/".join(kept)


def bundle_key(url: str) -> tuple[str, str] | None:
    """(account SID, SHA-256) of the hosted bundle a URL names, on any host; None for anything else."""
    text = _DROPPED.sub("", url).strip().replace("\\", "/").lower()
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    text = _SCHEME_AND_AUTHORITY.sub("", text, count=1)
    # A decoded "%3F" or "%23" is part of the path, as it is for the server.
    path = _resolved(unquote(text).lower()).rstrip("./")
    found = _TAIL.search(path)
    if found is None:
        return None
    return "AC" + found.group(1), found.group(2)
