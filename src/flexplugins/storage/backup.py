"""Online backups of the SQLite database, with SQLite's own backup API.

The copy is taken in one step of `sqlite3.Connection.backup`, inside one read transaction on the
source: it is the database exactly as of one commit, whatever the server writes meanwhile (in WAL
mode the server's writers are not blocked, and what they commit after the copy began is not in
it). The copy is written to a private temporary file beside the target (mode 0600: it holds the
account tokens' hashes and the server's secrets), checked, switched out of WAL mode so it is one
self-contained file, flushed to disk, and only then renamed to the target name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    """The backup cannot be taken; the message says why, for the operator."""


@dataclass(frozen=True)
class Backup:
    source: Path
    target: Path
    size: int
    revision: str | None


def backup_sqlite(source: Path, target: Path) -> Backup:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists; remove it or choose another file")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        # Created here, private, before SQLite opens it: never readable by others, not even briefly.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # mode=rw: a missing or moved database is an error, never a new empty one.
        src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=rw", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    raise BackupError(f"the copy failed its integrity check: {check}")
                revision = _revision(dst)
            finally:
                dst.close()
        finally:
            src.close()
        with open(partial, "rb+") as copied:
            os.fsync(copied.fileno())
        os.rename(partial, target)
        _fsync_directory(target.parent)
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source}: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Backup(source, target, target.stat().st_size, revision)


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
