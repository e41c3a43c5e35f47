"""The audit trail: one row per write, with the credential and the Flex-Metadata that made it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.model import AuditEvent, Page, Principal
from .paging import Cursor, Executor, ListQuery
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


_all = ListQuery(_columns.where(audit_events.c.account_sid == sa.bindparam("account")), audit_events.c.id)
_of_resource = ListQuery(
    _columns.where(
        audit_events.c.account_sid == sa.bindparam("account"),
        audit_events.c.resource_sid == sa.bindparam("resource"),
    ),
    audit_events.c.id,
)


def list_events(
    conn: Executor, account_sid: str, size: int, cursor: Cursor | None, resource_sid: str | None = None
) -> Page[AuditEvent]:
    if resource_sid is None:
        return _all.page(conn, {"account": account_sid}, size, cursor, lambda row: AuditEvent(*row))
    params = {"account": account_sid, "resource": resource_sid}
    return _of_resource.page(conn, params, size, cursor, lambda row: AuditEvent(*row))


def first_events(conn: Executor, account_sid: str, resource_sids: list[str]) -> dict[str, AuditEvent]:
    """The first event of each resource (the one that created it), in one query."""
    if not resource_sids:
        return {}
    # Explicit parameters, not an expanding IN: the fast reader runs statements as compiled.
    names = [f"r{index}" for index in range(len(resource_sids))]
    stmt = _columns.where(
        audit_events.c.account_sid == sa.bindparam("account"),
        audit_events.c.resource_sid.in_([sa.bindparam(name) for name in names]),
    ).order_by(audit_events.c.id.desc())
    params = dict(zip(names, resource_sids, strict=True))
    params["account"] = account_sid
    found: dict[str, AuditEvent] = {}
    for row in conn.execute(stmt, params):
        found[row[4]] = AuditEvent(*row)
    return found
