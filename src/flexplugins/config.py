"""Settings: environment variables and command-line options, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .origins import origin_of

ENV_DATABASE_URL = "FLEXPLUGINS_DATABASE_URL"
ENV_DATA_DIR = "FLEXPLUGINS_DATA_DIR"
ENV_PUBLIC_URL = "FLEXPLUGINS_PUBLIC_URL"
ENV_MAX_BODY = "FLEXPLUGINS_MAX_BODY_BYTES"
ENV_MAX_BUNDLE = "FLEXPLUGINS_MAX_BUNDLE_BYTES"
ENV_RATE_LIMIT = "FLEXPLUGINS_RATE_LIMIT"
ENV_AUTH_CACHE = "FLEXPLUGINS_AUTH_CACHE_SECONDS"
ENV_MAX_HEADER = "FLEXPLUGINS_MAX_HEADER_BYTES"
ENV_HEADER_TIMEOUT = "FLEXPLUGINS_HEADER_TIMEOUT"
ENV_BODY_TIMEOUT = "FLEXPLUGINS_BODY_TIMEOUT"
ENV_KEEP_ALIVE = "FLEXPLUGINS_KEEP_ALIVE_TIMEOUT"
ENV_MAX_CONNECTIONS = "FLEXPLUGINS_MAX_CONNECTIONS"
ENV_VENDOR_PROXY = "FLEXPLUGINS_VENDOR_PROXY"
# Set by `serve` for its workers once it has migrated the database itself.
ENV_MIGRATED = "FLEXPLUGINS_MIGRATED"
ENV_SECRET_KEY = "FLEXPLUGINS_SECRET_KEY"
ENV_FAILED_AUTH_PER_ADDRESS = "FLEXPLUGINS_FAILED_AUTH_PER_ADDRESS"
ENV_FAILED_AUTH_PER_ACCOUNT = "FLEXPLUGINS_FAILED_AUTH_PER_ACCOUNT"
ENV_FAILED_AUTH_WINDOW = "FLEXPLUGINS_FAILED_AUTH_WINDOW_SECONDS"
ENV_ALLOWED_ORIGINS = "FLEXPLUGINS_ALLOWED_ORIGINS"
ENV_METRICS = "FLEXPLUGINS_METRICS"
ENV_ACCESS_LOG = "FLEXPLUGINS_ACCESS_LOG"


def sqlite_url_for(data_dir: str | os.PathLike[str]) -> str:
    """The default database: the SQLite file flexplugins.db in the data directory (nothing is made
    here: `serve` and `db upgrade` create it, the other commands refuse it when missing)."""
    return f"sqlite:///{Path(data_dir).absolute() / 'flexplugins.db'}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _origins(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name) or ""
    return tuple(origin_of(item) for item in raw.split(",") if item.strip())


def _flag(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in ("1", "on", "true", "yes")


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path = field(default_factory=lambda: Path(".flexplugins"))
    # Base of the absolute URLs in responses when behind a proxy; else the request's own host.
    public_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    max_bundle_bytes: int = 20 * 1024 * 1024
    # Requests per second allowed to one account (a token bucket per process); 0 turns it off.
    rate_limit: float = 0.0
    # How long a verified credential is trusted before it is checked against the database again.
    auth_cache_seconds: float = 2.0
    # The HTTP server's bounds on every connection (server.py): the request line and headers of one
    # request, the time to send them, the longest pause while sending a body, the idle time between
    # requests, and the connections one process holds open.
    max_header_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 2048
    # HOST:PORT of the vendor proxy listener (proxy/), or None when it is off.
    vendor_proxy: str | None = None
    # The server secret held outside the database (else the file `secret.key` in the data
    # directory); a copy of the database alone cannot forge a console session or a page token.
    # Read from the environment only, never written to it (worker processes inherit it).
    secret_key: str | None = field(default_factory=lambda: os.environ.get(ENV_SECRET_KEY) or None)
    # Failed authentications allowed per client address, and per account from all addresses,
    # in each window before the back-off (429); 0 turns that limit off.
    failed_auth_per_address: int = 10
    failed_auth_per_account: int = 100
    failed_auth_window_seconds: float = 60.0
    # Browser origins (besides the server's own) allowed to make API writes; "*" allows any.
    allowed_origins: tuple[str, ...] = ()
    # Who may read GET /metrics: off (the default), on, or token:<secret> (api/observe.py).
    metrics: str = "off"
    # One JSON line per request on stderr (api/observe.py).
    access_log: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        data_dir = Path(os.environ.get(ENV_DATA_DIR) or ".flexplugins")
        url = os.environ.get(ENV_DATABASE_URL) or ""
        settings = cls(
            database_url=url,
            data_dir=data_dir,
            public_url=(os.environ.get(ENV_PUBLIC_URL) or None),
            max_body_bytes=_int(ENV_MAX_BODY, 1024 * 1024),
            max_bundle_bytes=_int(ENV_MAX_BUNDLE, 20 * 1024 * 1024),
            rate_limit=_float(ENV_RATE_LIMIT, 0.0),
            auth_cache_seconds=_float(ENV_AUTH_CACHE, 2.0),
            max_header_bytes=_int(ENV_MAX_HEADER, 32 * 1024),
            header_timeout=_float(ENV_HEADER_TIMEOUT, 10.0),
            body_timeout=_float(ENV_BODY_TIMEOUT, 30.0),
            keep_alive_timeout=_float(ENV_KEEP_ALIVE, 5.0),
            max_connections=_int(ENV_MAX_CONNECTIONS, 2048),
            vendor_proxy=(os.environ.get(ENV_VENDOR_PROXY) or None),
            failed_auth_per_address=_int(ENV_FAILED_AUTH_PER_ADDRESS, 10),
            failed_auth_per_account=_int(ENV_FAILED_AUTH_PER_ACCOUNT, 100),
            failed_auth_window_seconds=_float(ENV_FAILED_AUTH_WINDOW, 60.0),
            allowed_origins=_origins(ENV_ALLOWED_ORIGINS),
            metrics=os.environ.get(ENV_METRICS) or "off",
            access_log=_flag(ENV_ACCESS_LOG),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(settings, **clean)  # type: ignore[arg-type]
        if not settings.database_url:
            settings = replace(settings, database_url=sqlite_url_for(settings.data_dir))
        return settings

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables, for server worker processes."""
        return {
            ENV_DATABASE_URL: self.database_url,
            ENV_DATA_DIR: str(self.data_dir),
            ENV_PUBLIC_URL: self.public_url or "",
            ENV_MAX_BODY: str(self.max_body_bytes),
            ENV_MAX_BUNDLE: str(self.max_bundle_bytes),
            ENV_RATE_LIMIT: str(self.rate_limit),
            ENV_AUTH_CACHE: str(self.auth_cache_seconds),
            ENV_MAX_HEADER: str(self.max_header_bytes),
            ENV_HEADER_TIMEOUT: str(self.header_timeout),
            ENV_BODY_TIMEOUT: str(self.body_timeout),
            ENV_KEEP_ALIVE: str(self.keep_alive_timeout),
            ENV_MAX_CONNECTIONS: str(self.max_connections),
            ENV_VENDOR_PROXY: self.vendor_proxy or "",
            ENV_FAILED_AUTH_PER_ADDRESS: str(self.failed_auth_per_address),
            ENV_FAILED_AUTH_PER_ACCOUNT: str(self.failed_auth_per_account),
            ENV_FAILED_AUTH_WINDOW: str(self.failed_auth_window_seconds),
            ENV_ALLOWED_ORIGINS: ",".join(self.allowed_origins),
            ENV_METRICS: self.metrics,
            ENV_ACCESS_LOG: "on" if self.access_log else "off",
        }
