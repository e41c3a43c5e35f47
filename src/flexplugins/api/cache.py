"""A per-process cache of rendered read responses, never stale.

Each account has a write counter in the database (accounts.change_seq) that every transaction
changing its resources increments (Database.lock_account). A cached body is stored under the
counter value read *before* the body was built, so it is at least as new as that value; a read
first asks the database for the current value (one primary-key lookup) and serves from the cache
only under that exact value. A write committed by any process on any host therefore retires every
cached response of its account on the very next request, with no messaging between processes.

What a hit saves is the building of the response: the queries behind a list page, a configured
plugin list or the runtime manifest, the JSON rendering, the absolute URLs.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import metrics
from ..domain.model import Principal
from ..service import accounts
from .auth import caller
from .wire import base_url

# Bounds per process: responses kept per account (for one value of its counter), accounts kept,
# bytes kept in all, and the largest body worth keeping (a 1,000-item page is not a hot read).
PER_ACCOUNT = 2_000
ACCOUNTS = 1_000
MAX_BYTES = 64 * 1024 * 1024
MAX_BODY = 256 * 1024


class _Table:
    """One account's responses for one value of its counter."""

    __slots__ = ("seq", "items", "size")

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.items: dict[Hashable, Any] = {}
        self.size = 0


class ResponseCache:
    """Rendered responses by account, counter value and request; cleared when a bound is reached."""

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}
        self._bytes = 0

    def get(self, account_sid: str, seq: int, key: Hashable) -> Any:
        table = self._tables.get(account_sid)
        found = None if table is None or table.seq != seq else table.items.get(key)
        (metrics.READ_CACHE_MISS if found is None else metrics.READ_CACHE_HIT).inc()
        return found

    def clear(self) -> None:
        self._tables.clear()
        self._bytes = 0

    def put(self, account_sid: str, seq: int, key: Hashable, value: Any, size: int) -> None:
        if size > MAX_BODY:
            return
        table = self._tables.get(account_sid)
        if table is not None and table.seq > seq:
            return  # built from an older counter than what is already cached
        if table is None or table.seq < seq or len(table.items) >= PER_ACCOUNT:
            if table is not None:
                self._bytes -= table.size
            elif len(self._tables) >= ACCOUNTS:
                self.clear()
            table = self._tables[account_sid] = _Table(seq)
        if self._bytes + size > MAX_BYTES:
            self.clear()
            table = self._tables[account_sid] = _Table(seq)
        if key not in table.items:  # the same response twice (two requests missed at once)
            table.items[key] = value
            table.size += size
            self._bytes += size


def request_key(request: Request) -> Hashable:
    """What a read response depends on besides the account's data: path, query and URL base."""
    scope = request.scope
    return (scope["method"], scope["path"], scope["query_string"], base_url(request))


class CachedResponse(Response):
    """A 200 response replayed from the cache: body and headers as they were first rendered."""

    def __init__(self, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.body = body
        self.background = None
        self.raw_headers = list(raw_headers)


Handler = Callable[[Request, Principal], Awaitable[Response]]


def cached_read(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A JSON read endpoint whose 200 responses are served from the cache while the account is unchanged."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        who = caller(request)
        cache: ResponseCache = request.app.state.responses
        seq = await accounts.change_seq(request.app.state.db, who.account_sid)
        key = request_key(request)
        hit = cache.get(who.account_sid, seq, key)
        if hit is not None:
            return CachedResponse(*hit)
        response = await handler(request, who)
        if response.status_code == 200:
            body = bytes(response.body)
            cache.put(who.account_sid, seq, key, (body, list(response.raw_headers)), len(body))
        return response

    return endpoint
