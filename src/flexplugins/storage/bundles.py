"""The bundle store: a small interface, and its database back end (shared by every server process).

A bundle is known by its identity, the account and the SHA-256 of its bytes. Whether it is private
is answered from that identity alone (one primary-key lookup and one indexed equality on the
versions that name it), and its bytes are read in slices, so a large bundle is never held whole in
memory to be served.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import exc

from .db import Database
from .paging import Executor
from .tables import bundles as b
from .tables import plugin_versions as v
from .tables import serverless_asset_versions as av


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What is known of a stored bundle without its bytes."""

    account_sid: str
    sha256: str
    integrity: str
    size: int
    content_type: str
    date_created: datetime
    # Served only to the account's callers: uploaded as private, or named by a private version.
    private: bool = False


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

    def read(self, account_sid: str, sha256: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes of a stored bundle from `offset` (b"" past its end or when absent)."""
        ...

    def info(self, account_sid: str, sha256: str) -> BundleInfo | None:
        """What is known of the bundle, its privacy included, without its bytes."""
        ...

    def infos(self, account_sid: str, sha256s: Iterable[str]) -> dict[str, BundleInfo]: ...


# Private: uploaded so, or named by a private version of its account (an indexed equality on
# plugin_versions.bundle_sha256, the key domain/bundles.py reads from each PluginUrl), ...
_named_by_private_version = (
    sa.exists()
    .where(
        v.c.account_sid == b.c.account_sid,
        v.c.bundle_sha256 == b.c.sha256,
        v.c.private == sa.true(),
    )
    .correlate(b)
)
# ... or held by a Protected or Private Serverless asset version (an indexed equality too).
_held_by_protected_asset = (
    sa.exists()
    .where(
        av.c.account_sid == b.c.account_sid,
        av.c.sha256 == b.c.sha256,
        av.c.visibility != "public",
    )
    .correlate(b)
)
_private = sa.or_(
    b.c.private == sa.true(), _named_by_private_version, _held_by_protected_asset
).label("private")
_info_columns = (
    b.c.account_sid,
    b.c.sha256,
    b.c.integrity,
    b.c.size,
    b.c.content_type,
    b.c.date_created,
    _private,
)
_key = (b.c.account_sid == sa.bindparam("account"), b.c.sha256 == sa.bindparam("sha256"))
_get = sa.select(*_info_columns, b.c.data).where(*_key)
_info = sa.select(*_info_columns).where(*_key)
_rowid = sa.select(sa.literal_column("rowid", sa.Integer)).select_from(b).where(*_key)
# PostgreSQL's substring(bytea, int, int) takes 32-bit positions: bundles stay far below 2 GiB.
_slice = sa.select(
    sa.func.substring(
        b.c.data, sa.bindparam("start", type_=sa.Integer), sa.bindparam("length", type_=sa.Integer)
    )
).where(*_key)
_MAX_IN = 1024


@functools.cache
def _infos(size: int) -> sa.Select[tuple[object, ...]]:
    """Info of up to `size` bundles in one statement. Sizes are powers of two, padded by repeating a
    digest, so that few shapes exist and each stays compiled on the fast read path."""
    digests: list[sa.BindParameter[str]] = [sa.bindparam(f"d{i}", type_=sa.String) for i in range(size)]
    return sa.select(*_info_columns).where(
        b.c.account_sid == sa.bindparam("account"), b.c.sha256.in_(digests)
    )


_mark_private = b.update().where(*_key, b.c.private == sa.false()).values(private=True)


def _info_of(row: tuple[object, ...]) -> BundleInfo:
    account_sid, sha256, integrity, size, content_type, date_created, private = row[:7]
    assert isinstance(date_created, datetime)
    return BundleInfo(
        str(account_sid),
        str(sha256),
        str(integrity),
        int(str(size)),
        str(content_type),
        date_created,
        bool(private),
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
                    return self._keep_private(conn, found, info.private), False
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
                        private=info.private,
                    )
                )
                # A private version may have named these bytes before they were uploaded.
                created = _fetch_info(conn, info.account_sid, info.sha256)
        except exc.IntegrityError:
            # Another process stored the same bytes between our look and our insert.
            with self._db.write() as conn:
                found = _fetch_info(conn, info.account_sid, info.sha256)
                if found is None:
                    raise
                return self._keep_private(conn, found, info.private), False
        assert created is not None
        return created, True

    def _keep_private(self, conn: Executor, found: BundleInfo, private: bool) -> BundleInfo:
        """An upload marked private makes stored bytes private; an unmarked one never makes them public."""
        if not private or found.private:
            return found
        conn.execute(_mark_private, {"account": found.account_sid, "sha256": found.sha256})
        return replace(found, private=True)

    def get(self, account_sid: str, sha256: str) -> Bundle | None:
        # Not through the fast reader (which keeps its statements compiled): a plain connection.
        with self._db.read(), self._db.read_engine.connect() as conn:
            row = conn.execute(_get, {"account": account_sid, "sha256": sha256}).first()
        if row is None:
            return None
        return Bundle(_info_of(tuple(row)), bytes(row[7]))

    def read(self, account_sid: str, sha256: str, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        key = {"account": account_sid, "sha256": sha256}
        with self._db.read(), self._db.read_engine.connect() as conn:
            if self._db.is_sqlite:
                # SQLite's substr() loads the whole value first; incremental blob I/O reads the slice.
                rowid: int | None = conn.execute(_rowid, key).scalar()
                if rowid is None:
                    return b""
                driver = conn.connection.driver_connection
                assert driver is not None
                with driver.blobopen("bundles", "data", rowid, readonly=True) as blob:
                    if offset >= len(blob):
                        return b""
                    blob.seek(offset)
                    return bytes(blob.read(length))
            value = conn.execute(_slice, {**key, "start": offset + 1, "length": length}).scalar()
        return b"" if value is None else bytes(value)

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
