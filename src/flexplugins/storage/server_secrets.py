"""Queries of the server's secrets held in the database (the halves of its signing keys)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import console_sessions, server_secrets


def replace_all(conn: Connection, values: dict[str, str]) -> None:
    """Forget every stored secret and keep these: the others are made afresh on next use."""
    conn.execute(server_secrets.delete())
    if values:
        conn.execute(server_secrets.insert(), [{"name": k, "value": v} for k, v in values.items()])


def end_every_console_session(conn: Connection) -> int:
    return int(conn.execute(console_sessions.delete()).rowcount)


def value(conn: Connection, name: str) -> str | None:
    found = conn.execute(sa.select(server_secrets.c.value).where(server_secrets.c.name == name)).scalar()
    return None if found is None else str(found)
