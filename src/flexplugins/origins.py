"""Origins (scheme, host and port) compared the way browsers write them, for every "same site?" question."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """An origin as browsers send it: lowercase scheme and host, no default port, no path."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.lower()
    if not parts.scheme or not parts.hostname:
        return text.lower()  # "null", or something no browser sends
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    suffix = "" if port is None or port == default else f":{port}"
    return f"{parts.scheme.lower()}://{host}{suffix}"
