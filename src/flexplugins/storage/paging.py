"""Keyset pagination: a page is found by its key, never by an offset, so page 1,000 costs what page 1 does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ..domain.model import Page

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: after (older than) or before (newer than) a key, or an offset."""

    direction: Literal["after", "before", "offset"]
    value: int


def fetch_page(
    conn: Connection,
    stmt: sa.Select[Any],
    key: sa.ColumnElement[Any],
    size: int,
    cursor: Cursor | None,
    make: Callable[[Row[Any]], T],
    *,
    descending: bool = True,
) -> Page[T]:
    """Run stmt (whose first column is the key) for one page of size items."""
    forward_order = key.desc() if descending else key.asc()
    backward_order = key.asc() if descending else key.desc()
    has_previous = False
    if cursor is None:
        rows: Sequence[Row[Any]] = conn.execute(stmt.order_by(forward_order).limit(size + 1)).all()
        has_next = len(rows) > size
        rows = rows[:size]
    elif cursor.direction == "offset":
        rows = conn.execute(stmt.order_by(forward_order).offset(cursor.value).limit(size + 1)).all()
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = cursor.value > 0
    elif cursor.direction == "after":
        beyond = key < cursor.value if descending else key > cursor.value
        rows = conn.execute(stmt.where(beyond).order_by(forward_order).limit(size + 1)).all()
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = True
    else:
        before = key > cursor.value if descending else key < cursor.value
        rows = conn.execute(stmt.where(before).order_by(backward_order).limit(size + 1)).all()
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_next = True
    items = [make(row) for row in rows]
    first_key = rows[0][0] if rows else None
    last_key = rows[-1][0] if rows else None
    return Page(items, has_next, has_previous, first_key, last_key)
