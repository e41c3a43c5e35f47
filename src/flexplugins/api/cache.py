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

from ..domain.model import Principal
from ..service import accounts
from .auth import caller
from .wire import base_url

# Responses kept per account (for one value of its counter), and accounts kept per process.
PER_ACCOUNT = 2_000
ACCOUNTS = 1_000


class ResponseCache:
    def __init__(self) -> None:
        self._accounts: dict[str, tuple[int, dict[Hashable, Any]]] = {}

    def get(self, account_sid: str, seq: int, key: Hashable) -> Any:
        entry = self._accounts.get(account_sid)
        if entry is None or entry[0] != seq:
            return None
        return entry[1].get(key)

    def clear(self) -> None:
        self._accounts.clear()

    def put(self, account_sid: str, seq: int, key: Hashable, value: Any) -> None:
        entry = self._accounts.get(account_sid)
        if entry is None or entry[0] < seq:
            if entry is None and len(self._accounts) >= ACCOUNTS:
                self._accounts.clear()
            entry = (seq, {})
            self._accounts[account_sid] = entry
        elif entry[0] > seq:
            return  # built from an older counter than what is already cached
        items = entry[1]
        if len(items) >= PER_ACCOUNT:
            items.clear()
        items[key] = value


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
            cache.put(who.account_sid, seq, key, (bytes(response.body), list(response.raw_headers)))
        return response

    return endpoint
