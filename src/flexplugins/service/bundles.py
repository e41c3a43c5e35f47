"""Bundles: JavaScript uploads stored by their SHA-256, served by URL, with their integrity value.

A bundle's identity is its account and SHA-256; every question about a bundle named by a URL
(is it private, what is its integrity) goes through domain/bundles.py:bundle_key, never through a
match on the URL's text.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from .. import sids
from ..domain import bundles as identity
from ..domain import rules
from ..domain.errors import invalid, not_found, too_large, unsupported_media
from ..domain.model import Principal
from ..storage.bundles import Bundle, BundleInfo, BundleStore, DatabaseBundleStore
from ..storage.db import Database, now

PATH = identity.PREFIX
CONTENT_TYPES = ("application/javascript", "text/javascript", "application/x-javascript")
SERVED_CONTENT_TYPE = "application/javascript; charset=utf-8"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def bundle_store(db: Database) -> BundleStore:
    """The one place that chooses the back end of the bundle store."""
    return DatabaseBundleStore(db)


path_of = identity.path_of


def parse_url(url: str) -> tuple[str, str] | None:
    """(account SID, SHA-256) of the bundle hosted here that a URL names (any host, any spelling)."""
    return identity.bundle_key(url)


def private_flag(value: str | None) -> bool:
    """The upload's `Private` parameter, read like the API's booleans (absent: public)."""
    return rules.boolean("Private", value)


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def check_content(data: bytes, content_type: str | None, max_bytes: int) -> str:
    """The media type to store, or the reason the upload is not a JavaScript bundle."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in CONTENT_TYPES:
        raise unsupported_media(
            "A bundle must be uploaded as the raw JavaScript with Content-Type application/javascript "
            f"or text/javascript (got {media or 'none'!r})"
        )
    if len(data) > max_bytes:
        raise too_large(f"The bundle is {len(data)} bytes; the largest bundle accepted is {max_bytes} bytes")
    if not data.strip():
        raise invalid("The bundle is empty; upload the built JavaScript file")
    if b"\x00" in data:
        raise invalid("The bundle holds NUL bytes: it is binary, not JavaScript")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("The bundle is not valid UTF-8 text, so it is not a JavaScript bundle") from None
    return media


def upload(
    db: Database,
    who: Principal,
    data: bytes,
    content_type: str | None,
    max_bytes: int,
    private: bool = False,
) -> tuple[BundleInfo, bool]:
    """Store the bundle (one transaction); its info, and whether it was new to this account.

    `private` makes it private from the start (and stored bytes private from now on); without it,
    stored bytes keep their privacy: an upload never makes a bundle public.
    """
    media = check_content(data, content_type, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    info = BundleInfo(who.account_sid, digest, integrity(data), len(data), media, now(), private)
    return bundle_store(db).put(Bundle(info, data))


def store_asset(
    db: Database,
    account_sid: str,
    data: bytes,
    content_type: str | None,
    max_bytes: int,
    *,
    private: bool = False,
) -> BundleInfo:
    """Store the bytes of any asset, JavaScript or not (a source map, an image), under the same
    account + SHA-256 key as bundles; only the size limit applies. The Serverless asset versions
    keep their bytes here. `upload` (the bundle endpoint) still accepts JavaScript only."""
    if len(data) > max_bytes:
        raise too_large(f"The asset is {len(data)} bytes; the largest accepted is {max_bytes} bytes")
    media = (content_type or "").split(";")[0].strip().lower()[:100] or "application/octet-stream"
    digest = hashlib.sha256(data).hexdigest()
    info = BundleInfo(account_sid, digest, integrity(data), len(data), media, now(), private)
    return bundle_store(db).put(Bundle(info, data))[0]


def _missing(account_sid: str, sha256: str) -> Exception:
    return not_found(f"The requested resource {path_of(account_sid, sha256)} was not found")


def locate(db: Database, account_sid: str, sha256: str) -> tuple[BundleInfo, bool]:
    """A stored bundle's info, and whether it is private (so readers must sign in): one lookup."""
    if not sids.is_sid(account_sid, sids.ACCOUNT) or not _SHA256_RE.match(sha256):
        raise _missing(account_sid, sha256)
    info = bundle_store(db).info(account_sid, sha256)
    if info is None:
        raise _missing(account_sid, sha256)
    return info, info.private


def content(db: Database, account_sid: str, sha256: str) -> Bundle:
    """The whole bundle, bytes included: for small bundles only (serving reads slices)."""
    found = bundle_store(db).get(account_sid, sha256)
    if found is None:
        raise _missing(account_sid, sha256)
    return found


def read_slice(db: Database, info: BundleInfo, offset: int, length: int) -> bytes:
    """Bytes [offset, offset + length) of a located bundle."""
    return bundle_store(db).read(info.account_sid, info.sha256, offset, length)


def integrity_for_url(db: Database, account_sid: str, url: str) -> str | None:
    """The SRI value of a bundle of this account hosted here; None for a URL of anything else."""
    return integrities_for_urls(db, account_sid, [url]).get(url)


def integrities_for_urls(db: Database, account_sid: str, urls: Iterable[str]) -> dict[str, str]:
    """integrity_for_url for many URLs in one query: URL -> SRI value, for the URLs hosted here."""
    wanted: dict[str, str] = {}
    for url in urls:
        parsed = parse_url(url)
        if parsed is not None and parsed[0] == account_sid:
            wanted[url] = parsed[1]
    if not wanted:
        return {}
    found = bundle_store(db).infos(account_sid, wanted.values())
    return {url: found[digest].integrity for url, digest in wanted.items() if digest in found}
