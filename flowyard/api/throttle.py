"""Failed-authentication throttling, per client address and per account/key SID.

The state is in memory, per process: a failed guess never costs a database write (an attacker
could otherwise turn failures into write load), and secrets are 128-bit, so the limits are
there to shed load and noise, not to make guessing feasible. With N processes an address may
fail N times the figure; a limit shared across nodes belongs in the proxy in front.

- Per address: once an address has used up its failures, every authentication from it is
  answered 429 until the bucket refills, right credentials included.
- Per SID: once a SID has used up its failures, a *wrong* credential for it gets 429 instead of
  401; a right one is still accepted, so failures from one address never lock the owner out
  on another.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict

from starlette.requests import Request

from flowyard.errors import TwilioError, too_many_requests, unauthenticated


class FailureBuckets:
    """Token buckets of failures: ``per_minute`` at once, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # sync endpoints authenticate on worker threads

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self._capacity, now))
        return min(self._capacity, tokens + (now - at) * self._rate)

    def wait(self, key: str) -> int:
        """Seconds until ``key`` may fail again; 0 when it may now (or limits are off)."""
        if self._capacity <= 0:
            return 0
        with self._lock:
            if key not in self._buckets:
                return 0
            level = self._level(key, time.monotonic())
        return 0 if level >= 1 else math.ceil((1 - level) / self._rate)

    def fail(self, key: str) -> None:
        """Take one failure from ``key``'s bucket."""
        if self._capacity <= 0:
            return
        with self._lock:
            now = time.monotonic()
            level = self._level(key, now)
            self._buckets[key] = (max(0.0, level - 1), now)
            self._buckets.move_to_end(key)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)


class AuthThrottle:
    """The two kinds of buckets and the answers they lead to."""

    def __init__(self, per_address: int, per_sid: int) -> None:
        self.addresses = FailureBuckets(per_address)
        self.sids = FailureBuckets(per_sid)

    def check(self, address: str) -> None:
        """Raise 429 when this address has used up its failures."""
        wait = self.addresses.wait(address)
        if wait:
            raise too_many_requests(wait)

    def failed(self, address: str, sid: str | None) -> TwilioError:
        """Count a failed attempt; the error to answer it with (401, or 429 over the SID limit)."""
        self.addresses.fail(address)
        if sid:
            wait = self.sids.wait(sid)
            self.sids.fail(sid)
            if wait:
                return too_many_requests(wait)
        return unauthenticated()


def client_address(request: Request) -> str:
    """The bucket key of the client: its IPv4 address, or its IPv6 /64 (one host's range).

    Behind a proxy, uvicorn already replaced the peer with the ``X-Forwarded-For`` client when
    the peer is trusted (``FORWARDED_ALLOW_IPS``, loopback by default).
    """
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def throttle_of(request: Request) -> AuthThrottle:
    return request.app.state.throttle
