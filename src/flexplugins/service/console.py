"""Sign-in for the web console: checking credentials and that a signed-in session still stands.

A console session names its credential and carries a fingerprint of the credential's stored
digest, so changing an auth token or revoking an API key ends every session made with it.
"""

from __future__ import annotations

import hashlib
import hmac

from .. import sids
from ..domain.errors import forbidden, unauthenticated
from ..domain.model import AuditEvent, Principal
from ..storage import accounts as account_store
from ..storage import audit as audit_store
from ..storage.db import Database
from . import accounts


def sign_in(db: Database, sid: str, secret: str) -> Principal:
    """The principal of an account SID and auth token, or an API key SID and secret."""
    found = accounts.verify(db, sid.strip(), secret.strip())
    if found is None:
        raise unauthenticated()
    if found.runtime_only:
        raise forbidden("A runtime token can only read the runtime manifest and bundles")
    return found


def fingerprint(db: Database, who: Principal, key: bytes) -> str | None:
    """A keyed digest of the credential as stored now; None once it is revoked or gone."""
    with db.read() as conn:
        if sids.is_sid(who.credential_sid, sids.ACCOUNT):
            stored = account_store.token_hash(conn, who.credential_sid)
        else:
            row = account_store.key_row(conn, who.credential_sid)
            stored = row[1] if row is not None and row[0] == who.account_sid and row[2] == "api" else None
    if stored is None:
        return None
    return hmac.new(key, f"{who.credential_sid}:{stored}".encode(), hashlib.sha256).hexdigest()[:32]


def creators(db: Database, who: Principal, resource_sids: list[str]) -> dict[str, AuditEvent]:
    """Who created each of these resources (their first audit event), in one query."""
    with db.read() as conn:
        return audit_store.first_events(conn, who.account_sid, resource_sids)
