"""Keyset pagination: a page is found by its key, never by an offset, so page 1,000 costs what page 1 does.

A ListQuery is built once per list at import time, with bind parameters for everything that
varies, so that its four shapes (first page, after a key, before a key, by offset) compile once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import sqlalchemy as sa

from ..domain.model import Page

T = TypeVar("T")


class Executor(Protocol):
    def execute(self, stmt: Any, params: Any = ..., /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: after (older than) or before (newer than) a key, or an offset."""

    direction: Literal["after", "before", "offset"]
    value: int


class ListQuery:
    """One list: a select whose first column is the key, in the given order."""

    def __init__(self, stmt: sa.Select[Any], key: sa.ColumnElement[Any], *, descending: bool = True) -> None:
        forward = key.desc() if descending else key.asc()
        backward = key.asc() if descending else key.desc()
        limit = sa.bindparam("limit", type_=sa.Integer)
        cursor = sa.bindparam("cursor", type_=sa.BigInteger)
        beyond = key < cursor if descending else key > cursor
        before = key > cursor if descending else key < cursor
        self.first = stmt.order_by(forward).limit(limit)
        self.after = stmt.where(beyond).order_by(forward).limit(limit)
        self.before = stmt.where(before).order_by(backward).limit(limit)
        offset = sa.bindparam("offset", type_=sa.BigInteger)
        self.offset = stmt.order_by(forward).limit(limit).offset(offset)

    def page(
        self,
        conn: Executor,
        params: Mapping[str, Any],
        size: int,
        cursor: Cursor | None,
        make: Callable[[Any], T],
    ) -> Page[T]:
        args = dict(params)
        args["limit"] = size + 1
        has_previous = False
        if cursor is None:
            rows = list(conn.execute(self.first, args).all())
            has_next = len(rows) > size
            rows = rows[:size]
        elif cursor.direction == "offset":
            args["offset"] = cursor.value
            rows = list(conn.execute(self.offset, args).all())
            has_next = len(rows) > size
            rows = rows[:size]
            has_previous = cursor.value > 0
        elif cursor.direction == "after":
            args["cursor"] = cursor.value
            rows = list(conn.execute(self.after, args).all())
            has_next = len(rows) > size
            rows = rows[:size]
            has_previous = True
        else:
            args["cursor"] = cursor.value
            rows = list(conn.execute(self.before, args).all())
            has_previous = len(rows) > size
            rows = list(reversed(rows[:size]))
            has_next = True
        items = [make(row) for row in rows]
        first_key = rows[0][0] if rows else None
        last_key = rows[-1][0] if rows else None
        return Page(items, has_next, has_previous, first_key, last_key)
