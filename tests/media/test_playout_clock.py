"""The asyncio playout clock: steady ticks without drift."""

from __future__ import annotations

import asyncio
import time

import pytest

from cloudlink.errors import ConfigError
from cloudlink.media.playout_clock import PlayoutClock


def test_ticks_come_every_period_on_the_loop_clock() -> None:
    clock = PlayoutClock(period_ms=10.0)

    async def run() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        ticks = [t async for t in clock.ticks(6)]
        return ticks, (loop.time() - start) * 1000.0

    ticks, elapsed_ms = asyncio.run(run())
    assert ticks == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert elapsed_ms >= 49.0
    assert clock.ticks_served == 6


def test_a_blocked_loop_is_caught_up_without_losing_ticks() -> None:
    clock = PlayoutClock(period_ms=10.0)

    async def run() -> tuple[list[float], float]:
        ticks = []
        async for t in clock.ticks(8):
            ticks.append(t)
            if len(ticks) == 2:
                time.sleep(0.05)  # noqa: ASYNC251 (stalls the loop for 5 periods on purpose)
        return ticks, clock.now_ms()

    ticks, now_ms = asyncio.run(run())
    assert ticks == [10.0 * n for n in range(8)]
    assert clock.late_ticks >= 3
    # The late ticks were served at once: 8 ticks took about 70 ms, not 120.
    assert 60.0 <= now_ms < 110.0


def test_period_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        PlayoutClock(period_ms=0.0)
