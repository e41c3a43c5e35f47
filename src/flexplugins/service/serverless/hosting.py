"""What an environment's domain (`<label>.twil.io`) serves: the asset version at a path of its build."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from ...domain.serverless import HostedAsset, hosted_domain
from ...storage.db import Database
from ...storage.serverless import environments
from .. import bundles


def hosted(db: Database, domain_name: str, path: str) -> HostedAsset | None:
    with db.read() as conn:
        return environments.hosted(conn, domain_name.lower(), path)


def locate_url(url: str) -> tuple[str, str] | None:
    """(domain name, asset path) of an `https://<label>.twil.io/<path>` URL, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not hosted_domain(host) or not parts.path:
        return None
    return host, unquote(parts.path)


def integrities(db: Database, account_sid: str, urls: Iterable[str]) -> dict[str, str]:
    """URL -> SRI value for the `<label>.twil.io` URLs of this account's deployed assets.

    One lookup per URL: a release names a handful of plugins, and the manifest is cached under
    the account's write counter (which every deployment bumps)."""
    digests: dict[str, str] = {}
    for url in urls:
        located = locate_url(url)
        if located is None:
            continue
        found = hosted(db, *located)
        if found is not None and found.account_sid == account_sid:
            digests[url] = found.sha256
    if not digests:
        return {}
    infos = bundles.bundle_store(db).infos(account_sid, digests.values())
    return {url: infos[digest].integrity for url, digest in digests.items() if digest in infos}
