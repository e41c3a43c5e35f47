"""The audit trail of an account: who changed what, with which tool, and when."""

from __future__ import annotations

from ..domain.model import AuditEvent, Page, Principal
from ..storage import audit as store
from ..storage.db import Database
from ..storage.paging import Cursor


def list_page(
    db: Database, who: Principal, size: int, cursor: Cursor | None, resource_sid: str | None = None
) -> Page[AuditEvent]:
    with db.read() as conn:
        return store.list_events(conn, who.account_sid, size, cursor, resource_sid)
