"""Sign-in for the web console: checking credentials, and the sessions they open and close.

A console session is a row of console_sessions named by a random id that only the browser's
signed cookie holds (the database keeps its SHA-256 digest). Signing out deletes the row, and so do
rotating the account's auth token (every session of the account) and revoking an API key (the
sessions signed in with it), so a session ends on every server process at its next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain.errors import forbidden, unauthenticated
from ..domain.model import AuditEvent, Principal
from ..storage import audit as audit_store
from ..storage import console_sessions as store
from ..storage.db import Database, now
from . import accounts

SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Opened:
    session_id: str  # for the cookie only: never stored
    who: Principal


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def sign_in(db: Database, sid: str, secret: str) -> Principal:
    """The principal of an account SID and auth token, or an API key SID and secret."""
    found = accounts.verify(db, sid.strip(), secret.strip())
    if found is None:
        raise unauthenticated()
    if found.runtime_only:
        raise forbidden("A runtime token can only read the runtime manifest and bundles")
    return found


def open_session(db: Database, who: Principal) -> Opened:
    """A new session of this principal; sessions that have expired are cleared out on the way."""
    session_id = secrets.token_urlsafe(32)
    when = now()
    with db.write() as conn:
        store.delete_expired(conn, when)
        store.insert(
            conn, _id_hash(session_id), who.account_sid, who.credential_sid, when, when + SESSION_LIFETIME
        )
    return Opened(session_id, who)


def session(db: Database, session_id: str) -> Principal | None:
    """Who the session is signed in as, or None once it has ended (signed out, expired, revoked)."""
    with db.read() as conn:
        found = store.find(conn, _id_hash(session_id))
    if found is None or found[2] <= now():
        return None
    return Principal(found[0], found[1])


def close_session(db: Database, session_id: str) -> None:
    with db.write() as conn:
        store.delete(conn, _id_hash(session_id))


def creators(db: Database, who: Principal, resource_sids: list[str]) -> dict[str, AuditEvent]:
    """Who created each of these resources (their first audit event), in one query."""
    with db.read() as conn:
        return audit_store.first_events(conn, who.account_sid, resource_sids)
