"""A sliding-window attempt counter, kept in memory per server process.

Used to bound login attempts per anonymised client network and meeting
password attempts per account. Persistent lockout of an account lives in
the store (``Account.failed_logins``); this limiter only slows down floods.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Hashable

from cloudlink.errors import RateLimitedError

__all__ = ["RateLimiter"]


# Counts live in this process: with N server nodes each limit is N times looser.
# TODO(#4): per-process counters; N nodes multiply limits until they move to Redis
class RateLimiter:
    """At most ``max_attempts`` per key in any ``window_s`` seconds."""

    def __init__(
        self,
        *,
        max_attempts: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.max_attempts = max_attempts
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._attempts: dict[Hashable, collections.deque[float]] = {}

    def hit(self, key: Hashable, *, code: str = "rate_limited") -> None:
        """Counts one attempt for ``key``; raises RateLimitedError when over the limit."""
        now = self._clock()
        attempts = self._attempts.get(key)
        if attempts is None:
            if len(self._attempts) >= self._max_keys:
                self._evict(now)
            attempts = self._attempts[key] = collections.deque()
        while attempts and attempts[0] <= now - self.window_s:
            attempts.popleft()
        if len(attempts) >= self.max_attempts:
            retry_after_s = attempts[0] + self.window_s - now
            raise RateLimitedError(
                "too many attempts, try again later", retry_after_s=retry_after_s, code=code
            )
        attempts.append(now)

    def reset(self, key: Hashable) -> None:
        """Forgets ``key``'s attempts (after a success)."""
        self._attempts.pop(key, None)

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._attempts.items() if not v or v[-1] <= now - self.window_s]
        for key in stale:
            del self._attempts[key]
        if len(self._attempts) >= self._max_keys:
            self._attempts.clear()
