"""Accounts, API keys and runtime tokens: creating them and checking the credentials callers send.

Secrets are random 128-bit (or longer) values, so a SHA-256 digest is a sufficient one-way store:
there is nothing to brute-force that a slow hash would protect (an auth token an operator chooses
is refused when obviously weak, and failed attempts are throttled, api/throttle.py). Digests are compared with
hmac.compare_digest, and an unknown SID is checked against a dummy digest so that its timing
does not reveal which SIDs exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import exc

from .. import sids
from ..domain import rules
from ..domain.errors import ApiError, invalid, not_found
from ..domain.model import Account, Principal
from ..storage import accounts as store
from ..storage import console_sessions
from ..storage.db import Database, now

_DUMMY_DIGEST = hashlib.sha256(b"flexplugins-no-such-credential").hexdigest()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewCredential:
    sid: str
    secret: str


def create_account(
    db: Database, friendly_name: str = "flexplugins account", sid: str | None = None, token: str | None = None
) -> tuple[Account, str]:
    """A new account and its auth token (returned once; only its digest is stored).

    A token given here is the operator's choice (TWILIO_AUTH_TOKEN), refused when obviously weak.
    """
    if sid is not None and not sids.is_sid(sid, sids.ACCOUNT):
        raise invalid(f"Account SID must be AC followed by 32 hex digits (got {sid!r})")
    if token is not None:
        rules.chosen_secret("TWILIO_AUTH_TOKEN", token)
    account_sid = sids.normalise(sid) if sid else sids.new_sid(sids.ACCOUNT)
    auth_token = token or secrets.token_hex(16)
    with db.write() as conn:
        account = store.insert_account(conn, account_sid, friendly_name, digest(auth_token), now())
    return account, auth_token


class Bootstrap(Enum):
    """What ensure_account found."""

    CREATED = "created"
    MATCHES = "matches"  # the account exists and the token is its auth token
    WEAK = "weak"  # it exists, the token matches, but would be refused as a new choice
    MISMATCH = "mismatch"  # it exists with another auth token


def ensure_account(db: Database, sid: str, token: str) -> Bootstrap:
    """Create the account with this token unless it exists; else say whether the token is its own."""
    if not sids.is_sid(sid, sids.ACCOUNT):
        raise invalid(f"Account SID must be AC followed by 32 hex digits (got {sid!r})")
    with db.read() as conn:
        stored = store.token_hash(conn, sids.normalise(sid))
    if stored is None:
        try:
            create_account(db, sid=sid, token=token)
            return Bootstrap.CREATED
        except exc.IntegrityError:
            # Several servers started at once on one database, each creating it: one of them won.
            with db.read() as conn:
                stored = store.token_hash(conn, sids.normalise(sid))
            if stored is None:
                raise
    if not hmac.compare_digest(stored, digest(token)):
        return Bootstrap.MISMATCH
    try:
        rules.chosen_secret("TWILIO_AUTH_TOKEN", token)
    except ApiError:
        return Bootstrap.WEAK
    return Bootstrap.MATCHES


def rotate_token(db: Database, account_sid: str) -> str:
    """Give the account a new random auth token (returned once) and end its console sessions.

    The old token is refused at once by verify(); server processes that verified it in the last
    auth-cache interval (Settings.auth_cache_seconds) keep accepting it until that runs out.
    """
    if not sids.is_sid(account_sid, sids.ACCOUNT):
        raise invalid(f"Account SID must be AC followed by 32 hex digits (got {account_sid!r})")
    account_sid = sids.normalise(account_sid)
    token = secrets.token_hex(16)
    with db.write() as conn:
        if not store.set_token_hash(conn, account_sid, digest(token)):
            raise not_found(f"Account {account_sid} was not found")
        console_sessions.delete_of_account(conn, account_sid)
    return token


def list_accounts(db: Database) -> list[Account]:
    with db.read() as conn:
        return store.list_accounts(conn)


def count_accounts(db: Database) -> int:
    with db.read() as conn:
        return store.count_accounts(conn)


def create_key(db: Database, account_sid: str, friendly_name: str = "", kind: str = "api") -> NewCredential:
    """An API key (kind "api") or a read-only runtime token (kind "runtime") of the account."""
    if not sids.is_sid(account_sid, sids.ACCOUNT):
        raise invalid(f"Account SID must be AC followed by 32 hex digits (got {account_sid!r})")
    account_sid = sids.normalise(account_sid)
    sid = sids.new_sid(sids.API_KEY)
    secret = secrets.token_urlsafe(24)
    with db.write() as conn:
        if not store.account_exists(conn, account_sid):
            raise not_found(f"Account {account_sid} was not found")
        store.insert_key(conn, sid, account_sid, friendly_name or kind, digest(secret), kind, now())
    return NewCredential(sid, secret)


def list_keys(db: Database, account_sid: str, kind: str = "api") -> list[tuple[str, str, str, bool]]:
    with db.read() as conn:
        return [
            (sid, name, when.isoformat(), revoked)
            for sid, name, when, revoked in store.list_keys(conn, sids.normalise(account_sid), kind)
        ]


def revoke_key(db: Database, account_sid: str, key_sid: str) -> None:
    """Revoke the key and end the console sessions signed in with it."""
    with db.write() as conn:
        if not store.revoke_key(conn, sids.normalise(account_sid), sids.normalise(key_sid)):
            raise not_found(f"Key {key_sid} of account {account_sid} was not found")
        console_sessions.delete_of_credential(conn, sids.normalise(key_sid))


def verify(db: Database, username: str, password: str) -> Principal | None:
    """The principal these Basic-auth credentials stand for, or None."""
    offered = digest(password)
    with db.read() as conn:
        if sids.is_sid(username, sids.ACCOUNT):
            account_sid = sids.normalise(username)
            stored = store.token_hash(conn, account_sid)
            if hmac.compare_digest(stored or _DUMMY_DIGEST, offered) and stored is not None:
                return Principal(account_sid, account_sid)
            return None
        if sids.is_sid(username, sids.API_KEY):
            key_sid = sids.normalise(username)
            row = store.key_row(conn, key_sid)
            stored = row[1] if row else None
            if hmac.compare_digest(stored or _DUMMY_DIGEST, offered) and row is not None:
                return Principal(row[0], key_sid, runtime_only=row[2] == "runtime")
            return None
    hmac.compare_digest(_DUMMY_DIGEST, offered)
    return None


async def change_seq(db: Database, account_sid: str) -> int:
    """The account's write counter: changes whenever any process commits a change to its resources."""
    return await db.counters.get(account_sid)


def fetch(db: Database, who: Principal, sid: str) -> Account:
    """The caller's own account (the 2010 API's Accounts fetch); any other SID is not found."""
    found = None
    if sids.is_sid(sid, sids.ACCOUNT) and sids.normalise(sid) == who.account_sid:
        with db.read() as conn:
            found = store.get_account(conn, who.account_sid)
    if found is None:
        raise not_found(f"The requested resource /2010-04-01/Accounts/{sid}.json was not found")
    return found
