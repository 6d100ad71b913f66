"""The sliding-window attempt counter, on a fake clock."""

from __future__ import annotations

import pytest

from cloudlink.accounts.rate_limiter import RateLimiter
from cloudlink.errors import RateLimitedError


def test_limits_each_key_within_its_window() -> None:
    now = [0.0]
    limiter = RateLimiter(max_attempts=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("a")
    limiter.hit("b")
    with pytest.raises(RateLimitedError) as raised:
        limiter.hit("a", code="too_many_attempts")
    assert raised.value.code == "too_many_attempts"
    assert raised.value.retry_after_s == pytest.approx(60)
    now[0] = 60.5
    limiter.hit("a")


def test_reset_forgets_a_key_and_old_keys_are_evicted() -> None:
    now = [0.0]
    limiter = RateLimiter(max_attempts=1, window_s=10, clock=lambda: now[0], max_keys=2)
    limiter.hit("a")
    limiter.reset("a")
    limiter.hit("a")
    limiter.hit("b")
    now[0] = 20.0
    limiter.hit("c")  # evicts the stale keys instead of growing without bound
    limiter.hit("a")
