"""The bundle store: a small interface, and its database back end (shared by every server process)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import exc

from .db import Database
from .paging import Executor
from .tables import bundles as b
from .tables import plugin_versions as v


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What is known of a stored bundle without its bytes."""

    account_sid: str
    sha256: str
    integrity: str
    size: int
    content_type: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Bundle:
    info: BundleInfo
    data: bytes


class BundleStore(Protocol):
    """Where bundle bytes live. A deployment may swap the database for object storage."""

    def put(self, bundle: Bundle) -> tuple[BundleInfo, bool]:
        """Store the bundle unless it is there already; the stored info, and whether it was new."""
        ...

    def get(self, account_sid: str, sha256: str) -> Bundle | None: ...

    def info(self, account_sid: str, sha256: str) -> BundleInfo | None: ...

    def infos(self, account_sid: str, sha256s: Iterable[str]) -> dict[str, BundleInfo]: ...


_info_columns = (b.c.account_sid, b.c.sha256, b.c.integrity, b.c.size, b.c.content_type, b.c.date_created)
_key = (b.c.account_sid == sa.bindparam("account"), b.c.sha256 == sa.bindparam("sha256"))
_get = sa.select(*_info_columns, b.c.data).where(*_key)
_info = sa.select(*_info_columns).where(*_key)
_MAX_IN = 1024


@functools.cache
def _infos(size: int) -> sa.Select[tuple[object, ...]]:
    """Info of up to `size` bundles in one statement. Sizes are powers of two, padded by repeating a
    digest, so that few shapes exist and each stays compiled on the fast read path."""
    digests: list[sa.BindParameter[str]] = [sa.bindparam(f"d{i}", type_=sa.String) for i in range(size)]
    return sa.select(*_info_columns).where(
        b.c.account_sid == sa.bindparam("account"), b.c.sha256.in_(digests)
    )


_private_use = (
    sa.select(v.c.id)
    .where(
        v.c.account_sid == sa.bindparam("account"),
        v.c.private == sa.true(),
        v.c.plugin_url.like(sa.bindparam("pattern")),
    )
    .limit(1)
)


def _info_of(row: tuple[object, ...]) -> BundleInfo:
    account_sid, sha256, integrity, size, content_type, date_created = row[:6]
    assert isinstance(date_created, datetime)
    return BundleInfo(
        str(account_sid), str(sha256), str(integrity), int(str(size)), str(content_type), date_created
    )


def _fetch_info(conn: Executor, account_sid: str, sha256: str) -> BundleInfo | None:
    row = conn.execute(_info, {"account": account_sid, "sha256": sha256}).first()
    return None if row is None else _info_of(tuple(row))


class DatabaseBundleStore:
    """Bundles as rows of the `bundles` table, so every process on the same database serves them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, bundle: Bundle) -> tuple[BundleInfo, bool]:
        info = bundle.info
        try:
            with self._db.write() as conn:
                found = _fetch_info(conn, info.account_sid, info.sha256)
                if found is not None:
                    return found, False
                # A new bundle can complete the integrity of a manifest already released.
                self._db.lock_account(conn, info.account_sid)
                conn.execute(
                    b.insert().values(
                        account_sid=info.account_sid,
                        sha256=info.sha256,
                        integrity=info.integrity,
                        size=info.size,
                        content_type=info.content_type,
                        data=bundle.data,
                        date_created=info.date_created,
                    )
                )
        except exc.IntegrityError:
            # Another process stored the same bytes between our look and our insert.
            with self._db.write() as conn:
                found = _fetch_info(conn, info.account_sid, info.sha256)
            if found is None:
                raise
            return found, False
        return info, True

    def get(self, account_sid: str, sha256: str) -> Bundle | None:
        # Not through the fast reader (which keeps its statements compiled): a plain connection.
        with self._db.read(), self._db.read_engine.connect() as conn:
            row = conn.execute(_get, {"account": account_sid, "sha256": sha256}).first()
        if row is None:
            return None
        return Bundle(_info_of(tuple(row)), bytes(row[6]))

    def info(self, account_sid: str, sha256: str) -> BundleInfo | None:
        with self._db.read() as conn:
            return _fetch_info(conn, account_sid, sha256)

    def infos(self, account_sid: str, sha256s: Iterable[str]) -> dict[str, BundleInfo]:
        wanted = sorted(set(sha256s))
        found: dict[str, BundleInfo] = {}
        with self._db.read() as conn:
            for start in range(0, len(wanted), _MAX_IN):
                chunk = wanted[start : start + _MAX_IN]
                size = 1 << (len(chunk) - 1).bit_length()
                params: dict[str, str] = {"account": account_sid}
                params.update((f"d{i}", chunk[min(i, len(chunk) - 1)]) for i in range(size))
                for row in conn.execute(_infos(size), params).all():
                    found[str(row[1])] = _info_of(tuple(row))
        return found


def used_by_private_version(conn: Executor, account_sid: str, path: str) -> bool:
    """Whether a private version of the account points at this bundle path (on any host)."""
    # Bundle paths hold only letters, digits, '/' and '.', so nothing in them needs escaping for LIKE.
    return conn.execute(_private_use, {"account": account_sid, "pattern": "%" + path}).first() is not None
