"""Back-off after failed authentication: per client address first, then per account.

Each client address (IPv6 by its /64, which one subscriber usually holds whole) has a bucket of
`per_address` failures that refills over `window` seconds; while it is empty, every credential
that address sends is refused with 429 before it is checked, so a guesser learns nothing more. A
correct credential from any other address still works: an outsider cannot lock a real account
out. Each account SID (or key SID) also has a bucket, of `per_account` failures over the same
window, counting every address; while that is empty the account is under a spread-out attack, and
an address that fails against it loses its whole bucket at once (one guess per address per refill,
however many addresses the attacker has), while other addresses still sign in.

The state is in memory, per server process: N processes allow up to N times the failures. Memory
is bounded: at most MAX_TRACKED addresses and accounts each; at the bound, full buckets (nothing
owed) are forgotten first, then everything.
"""

from __future__ import annotations

import ipaddress
import math
import time

from starlette.requests import Request

from .. import sids
from ..domain.errors import too_many_requests

MAX_TRACKED = 100_000


# Peer address -> the address counted: asked on every authenticated request, so kept (bounded).
_counted: dict[str, str] = {}
_COUNTED_LIMIT = 10_000


def client_address(request: Request) -> str:
    """The address failures are counted against: the peer's (a trusted proxy's X-Forwarded-For
    when uvicorn is told to use it), IPv6 reduced to its /64."""
    client = request.scope.get("client")
    host = str(client[0]) if client else ""
    found = _counted.get(host)
    if found is None:
        found = _counted_address(host)
        if len(_counted) >= _COUNTED_LIMIT:
            _counted.clear()
        _counted[host] = found
    return found


def _counted_address(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_key(username: str) -> str:
    """What failures of this username count against: the SID as the server compares it."""
    return sids.normalise(username) if sids.looks_like_any_sid(username) else username[:64]


class _Buckets:
    """Failure allowances that refill linearly: `capacity` failures over `window` seconds."""

    def __init__(self, capacity: int, window: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window if window > 0 else math.inf
        self._state: dict[str, tuple[float, float]] = {}  # key -> (allowance, when)

    def allowance(self, key: str, now: float) -> float:
        found = self._state.get(key)
        if found is None:
            return self.capacity
        left, when = found
        return min(self.capacity, left + (now - when) * self.rate)

    def retry_after(self, key: str, now: float) -> int:
        """Seconds until this key may try once more (at least 1)."""
        owed = 1.0 - self.allowance(key, now)
        return max(1, math.ceil(owed / self.rate)) if self.rate != math.inf else 1

    def take(self, key: str, now: float, amount: float) -> None:
        if len(self._state) >= MAX_TRACKED and key not in self._state:
            self._state = {k: v for k, v in self._state.items() if self.allowance(k, now) < self.capacity}
            if len(self._state) >= MAX_TRACKED:
                self._state.clear()
        self._state[key] = (max(0.0, self.allowance(key, now) - amount), now)


class FailedAuthThrottle:
    def __init__(self, per_address: int, per_account: int, window: float) -> None:
        self._addresses = _Buckets(per_address, window) if per_address > 0 else None
        self._accounts = _Buckets(per_account, window) if per_account > 0 else None

    def check(self, address: str) -> None:
        """Refuse (429, with Retry-After) an address that has used up its failures."""
        if self._addresses is None:
            return
        now = time.monotonic()
        if self._addresses.allowance(address, now) < 1.0:
            wait = self._addresses.retry_after(address, now)
            raise too_many_requests(
                f"Too many failed authentications from this address; try again in {wait} seconds", wait
            )

    def failed(self, address: str, account: str) -> None:
        """Count a failed authentication of `account` (the SID sent, existing or not) from `address`."""
        now = time.monotonic()
        under_attack = False
        if self._accounts is not None and account:
            under_attack = self._accounts.allowance(account, now) < 1.0
            self._accounts.take(account, now, 1.0)
        if self._addresses is not None:
            self._addresses.take(address, now, self._addresses.capacity if under_attack else 1.0)
