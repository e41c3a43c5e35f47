"""The read path: SQLAlchemy-built statements, compiled once, run straight on a DBAPI connection.

Reads are the hot path of the service (every agent's page load asks for the active release), and
SQLAlchemy's per-execution machinery costs several times the query itself on an indexed SQLite
lookup. So statements are still written with SQLAlchemy Core, compiled once per dialect, and run
on a connection each thread keeps from the engine's pool. Rows come back as tuples with the
same Python types SQLAlchemy would give (booleans and datetimes are converted on SQLite).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.compiler import SQLCompiler

_CACHE_LIMIT = 512


class _Compiled:
    __slots__ = ("sql", "names", "positional", "converters", "_defaults")

    def __init__(self, stmt: sa.Executable, engine: Engine) -> None:
        assert isinstance(stmt, sa.ClauseElement)
        compiled = stmt.compile(dialect=engine.dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.positional = engine.dialect.positional
        self.names: list[str] = list(compiled.positiontup or []) if self.positional else []
        self._defaults: dict[str, Any] = {
            name: bind.value for name, bind in compiled.binds.items() if bind.value is not None
        }
        # (column index, converter) for the columns SQLite hands back as text or integers.
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        if engine.dialect.name == "sqlite" and isinstance(stmt, sa.Select):
            for index, column in enumerate(stmt.selected_columns):
                if isinstance(column.type, sa.DateTime):
                    self.converters.append((index, datetime.fromisoformat))
                elif isinstance(column.type, sa.Boolean):
                    self.converters.append((index, bool))

    def params(self, given: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.positional:
            return [given[name] if name in given else self._defaults.get(name) for name in self.names]
        if not self._defaults:
            return given
        merged = dict(self._defaults)
        merged.update(given)
        return merged

    def convert(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        if not self.converters:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in self.converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            converted.append(tuple(values))
        return converted


class Rows:
    """The subset of SQLAlchemy's Result that storage code uses."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound("expected exactly one row")
        return self._rows[0][0]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)


class Reader:
    """Runs read statements on this thread's connection. Not for writes: there is no transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._compiled: OrderedDict[int, tuple[sa.Executable, _Compiled]] = OrderedDict()
        self._lock = threading.Lock()

    def _compile(self, stmt: sa.Executable) -> _Compiled:
        key = id(stmt)
        entry = self._compiled.get(key)
        if entry is not None and entry[0] is stmt:
            return entry[1]
        compiled = _Compiled(stmt, self._engine)
        with self._lock:
            self._compiled[key] = (stmt, compiled)
            if len(self._compiled) > _CACHE_LIMIT:
                self._compiled.popitem(last=False)
        return compiled

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._engine.raw_connection()
            self._local.conn = conn
        return conn

    def discard(self) -> None:
        """Drop this thread's connection after an error; the next read opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                conn.invalidate()

    def execute(self, stmt: sa.Executable, params: Mapping[str, Any] | None = None) -> Rows:
        compiled = self._compile(stmt)
        cursor = self._connection().cursor()
        try:
            cursor.execute(compiled.sql, compiled.params(params or {}))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return Rows(compiled.convert(rows))

    def exec_driver_sql(self, sql: str) -> Rows:
        cursor = self._connection().cursor()
        try:
            cursor.execute(sql)
            return Rows([tuple(row) for row in cursor.fetchall()])
        finally:
            cursor.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
