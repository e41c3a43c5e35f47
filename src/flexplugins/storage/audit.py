"""The audit trail: one row per write, with the credential and the Flex-Metadata that made it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.model import AuditEvent, Page, Principal
from .paging import Cursor, fetch_page
from .tables import audit_events


def record(
    conn: Connection, who: Principal, action: str, resource_sid: str, metadata: str | None, when: datetime
) -> None:
    conn.execute(
        audit_events.insert().values(
            account_sid=who.account_sid,
            credential_sid=who.credential_sid,
            action=action,
            resource_sid=resource_sid,
            flex_metadata=metadata,
            date_created=when,
        )
    )


_columns = sa.select(
    audit_events.c.id,
    audit_events.c.account_sid,
    audit_events.c.credential_sid,
    audit_events.c.action,
    audit_events.c.resource_sid,
    audit_events.c.flex_metadata,
    audit_events.c.date_created,
)


def list_events(
    conn: Connection, account_sid: str, size: int, cursor: Cursor | None, resource_sid: str | None = None
) -> Page[AuditEvent]:
    stmt = _columns.where(audit_events.c.account_sid == account_sid)
    if resource_sid is not None:
        stmt = stmt.where(audit_events.c.resource_sid == resource_sid)
    return fetch_page(conn, stmt, audit_events.c.id, size, cursor, lambda row: AuditEvent(*row))
