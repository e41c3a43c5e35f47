"""What every Serverless operation needs: the service in the path, found within the caller's account."""

from __future__ import annotations

from ... import sids
from ...domain.errors import not_found
from ...domain.serverless import Service
from ...storage.paging import Executor
from ...storage.serverless import services


def missing(path: str) -> Exception:
    return not_found(f"The requested resource {path} was not found")


def service(conn: Executor, account_sid: str, key: str) -> Service:
    found = services.get(conn, account_sid, key)
    if found is None:
        raise missing(f"/Services/{key}")
    return found


def sid_key(value: str, prefix: str) -> str | None:
    """A path SID of this kind, normalised; None when it cannot name one (so: not found)."""
    return sids.normalise(value) if sids.is_sid(value, prefix) else None
