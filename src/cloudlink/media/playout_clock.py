"""A steady 10 ms tick on the asyncio event loop, to drive playout.

Deadlines are absolute (start + n * period), so the clock does not drift
however late a tick is served; a late tick is served at once, so the number
of ticks always matches the elapsed time, as a sound card would demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from cloudlink.errors import ConfigError
from cloudlink.media.frame import FRAME_MS

__all__ = ["PlayoutClock"]


class PlayoutClock:
    """Ticks every ``period_ms`` on the running event loop's clock."""

    def __init__(self, *, period_ms: float = FRAME_MS) -> None:
        if not period_ms > 0.0:
            raise ConfigError(f"period_ms must be positive, got {period_ms}")
        self.period_ms = period_ms
        self.ticks_served = 0
        self.late_ticks = 0
        self._start_s: float | None = None

    def now_ms(self) -> float:
        """Milliseconds since the first tick (0 before it)."""
        if self._start_s is None:
            return 0.0
        return (asyncio.get_running_loop().time() - self._start_s) * 1000.0

    async def ticks(self, count: int | None = None) -> AsyncIterator[float]:
        """Yields each tick's scheduled time in ms, ``count`` times or forever."""
        loop = asyncio.get_running_loop()
        if self._start_s is None:
            self._start_s = loop.time()
        while count is None or count > 0:
            deadline_ms = self.ticks_served * self.period_ms
            wait_s = self._start_s + deadline_ms / 1000.0 - loop.time()
            if wait_s > 0.0:
                await asyncio.sleep(wait_s)
            elif wait_s < -self.period_ms / 1000.0:
                self.late_ticks += 1
            self.ticks_served += 1
            if count is not None:
                count -= 1
            yield deadline_ms
