"""The server key: a secret held outside the database, combined with the database's own secrets.

Console sessions and page tokens are signed with keys derived from both halves, so a copy of the
database alone (a backup, another local user reading the SQLite file) cannot forge either. The
outside half is FLEXPLUGINS_SECRET_KEY, else the file `secret.key` in the data directory (0600,
made on first start). Every server process of one database must use the same one: the database
holds a check value of it (an HMAC of a constant, which tells nothing of the key), and a process
started with another key is refused instead of signing sessions the others reject.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..config import ENV_SECRET_KEY, Settings
from ..domain import rules
from ..domain.errors import ApiError, conflict
from ..storage import server_secrets
from ..storage.db import Database

KEY_FILE = "secret.key"
CHECK = "server_key_check"
# The database-held halves, one per use.
CONSOLE_SESSIONS = "console_sessions"
PAGE_TOKENS = "page_tokens"


@dataclass(frozen=True, slots=True)
class ServerKey:
    value: bytes
    source: str  # where it came from, for messages: the variable's name or the file's path

    def check_value(self) -> str:
        return hmac.new(self.value, b"flexplugins server key check", hashlib.sha256).hexdigest()


def private_dir(path: Path) -> Path:
    """The data directory, made 0700 when it does not exist yet (an existing one is left as it is)."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _write_new(path: Path, value: str, *, replace: bool) -> None:
    """Write the key file whole, 0600, atomically: readers see no file or the whole key, never part."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(value + "\n")
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs stands
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def load(settings: Settings) -> ServerKey:
    """The outside half: FLEXPLUGINS_SECRET_KEY, else the key file (made when missing)."""
    if settings.secret_key:
        rules.chosen_secret(ENV_SECRET_KEY, settings.secret_key)
        return ServerKey(settings.secret_key.encode(), ENV_SECRET_KEY)
    path = settings.data_dir / KEY_FILE
    try:
        private_dir(settings.data_dir)
        if not path.exists():
            _write_new(path, secrets.token_hex(32), replace=False)
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        value = path.read_text().strip()
    except OSError as error:
        raise ApiError(
            500,
            20500,
            f"Cannot read or create the server key file {path.absolute()}: {error.strerror or error}; "
            f"make the data directory writable, or set {ENV_SECRET_KEY}",
        ) from None
    if len(value) < rules.MIN_CHOSEN_SECRET:
        raise conflict(f"The server key file {path} holds no key (or a short one); restore it from a backup")
    return ServerKey(value.encode(), str(path.absolute()))


def check(db: Database, key: ServerKey) -> None:
    """Refuse a key other than the one this database's other server processes use (first one wins)."""
    expected = key.check_value()
    stored = db.server_secret(CHECK, default=expected)
    if not hmac.compare_digest(stored, expected):
        raise conflict(
            f"The server key ({key.source}) is not the one this database was set up with: every "
            f"server process of one database needs the same key. Copy {KEY_FILE} from the data "
            f"directory of another server (or set {ENV_SECRET_KEY} to the same value everywhere); "
            "after a deliberate change of key, run `flexplugins secret-key rotate`"
        )


def load_checked(settings: Settings, db: Database) -> ServerKey:
    key = load(settings)
    check(db, key)
    return key


def signing_key(db: Database, key: ServerKey, purpose: str) -> bytes:
    """The key of one use (CONSOLE_SESSIONS, PAGE_TOKENS): both halves are needed to make it."""
    stored = db.server_secret(purpose)
    return hmac.new(key.value, f"flexplugins {purpose} {stored}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Rotated:
    source: str
    sessions_ended: int


def rotate(settings: Settings, db: Database) -> Rotated:
    """A new server key (a new file, unless FLEXPLUGINS_SECRET_KEY names it) and new database halves.

    Every console session and page token ends. Processes already running keep their keys until
    restarted: restart every server process of the database afterwards.
    """
    if settings.secret_key:
        key, path = load(settings), None
    else:
        path = private_dir(settings.data_dir) / KEY_FILE
        value = secrets.token_hex(32)
        key = ServerKey(value.encode(), str(path.absolute()))
    with db.write() as conn:
        server_secrets.replace_all(conn, {CHECK: key.check_value()})
        ended = server_secrets.end_every_console_session(conn)
    if path is not None:  # after the database, so that a failed transaction changes nothing
        _write_new(path, key.value.decode(), replace=True)
    return Rotated(key.source, ended)
