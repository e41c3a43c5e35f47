"""HTTP Basic authentication with an account SID and auth token, or an API key SID and secret.

A verified Authorization header is remembered for a couple of seconds (Settings.auth_cache_seconds)
so that the hot read paths do not hash and query on every request; a revoked key or a changed
token stops working within that time on every process. Failed attempts are throttled per client
address and per account (api/throttle.py) before any credential is checked.
"""

from __future__ import annotations

import base64
import binascii
import time

from starlette.requests import Request

from ..config import Settings
from ..domain.errors import ApiError, forbidden, too_many_requests, unauthenticated
from ..domain.model import Principal
from ..service import accounts
from ..storage.db import Database
from .observe import PRINCIPAL
from .throttle import FailedAuthThrottle, account_key, client_address
from .wire import check_request

_CACHE_LIMIT = 10_000


class Authenticator:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._ttl = settings.auth_cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._rate = settings.rate_limit
        self._buckets: dict[str, tuple[float, float]] = {}
        self.throttle = FailedAuthThrottle(
            settings.failed_auth_per_address,
            settings.failed_auth_per_account,
            settings.failed_auth_window_seconds,
        )

    def principal(self, header: str | None, address: str) -> Principal:
        """The principal of an Authorization header sent from this client address."""
        if not header:
            raise unauthenticated(
                "Authentication required: send HTTP Basic auth with your Account SID "
                "and Auth Token (or an API key SID and secret)"
            )
        now = time.monotonic()
        cached = self._cache.get(header)
        if cached is not None and cached[0] > now:
            return cached[1]
        self.throttle.check(address)
        scheme, _, encoded = header.partition(" ")
        username = ""
        try:
            if scheme.lower() != "basic" or not encoded:
                raise unauthenticated("Authentication must use the HTTP Basic scheme")
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise unauthenticated(
                    "The Authorization header is not valid HTTP Basic credentials"
                ) from None
            username, sep, password = decoded.partition(":")
            if not sep:
                raise unauthenticated("The Authorization header is not valid HTTP Basic credentials")
            found = accounts.verify(self._db, username, password)
            if found is None:
                raise unauthenticated()
        except ApiError:
            self.throttle.failed(address, account_key(username))
            raise
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[header] = (now + self._ttl, found)
        return found

    def limit(self, who: Principal) -> None:
        """A token bucket per account and process: `rate` requests per second, bursts of 2x rate."""
        if self._rate <= 0:
            return
        now = time.monotonic()
        capacity = max(1.0, self._rate * 2)
        tokens, last = self._buckets.get(who.account_sid, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[who.account_sid] = (tokens, now)
            raise too_many_requests(
                f"Too many requests for account {who.account_sid}: the limit is {self._rate:g} per second"
            )
        self._buckets[who.account_sid] = (tokens - 1.0, now)


def caller(request: Request) -> Principal:
    """The authenticated caller of an API operation; runtime tokens are refused."""
    check_request(request)
    auth: Authenticator = request.app.state.auth
    who = auth.principal(request.headers.get("authorization"), client_address(request))
    request.scope[PRINCIPAL] = who  # for the access log
    if who.runtime_only:
        raise forbidden("A runtime token can only read the runtime manifest and bundles")
    auth.limit(who)
    return who


def reader(request: Request) -> Principal:
    """The caller of a read-only runtime resource: runtime tokens are welcome."""
    check_request(request)
    auth: Authenticator = request.app.state.auth
    who = auth.principal(request.headers.get("authorization"), client_address(request))
    request.scope[PRINCIPAL] = who  # for the access log
    auth.limit(who)
    return who
