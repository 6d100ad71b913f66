"""One timer for many streams: a steady tick on the event loop that steps
every member in turn, instead of a timer per stream.

In a meeting each received stream wants a tick (audio playout every
10 ms, the video assembler's poll every 5 ms), so a client of n - 1 peers
ran 2 (n - 1) timers of its own; on one event loop the wake-ups of that
many timers cost more than the work they start. A :class:`SharedTicks`
keeps one task while it has members.

Deadlines are absolute (start + k * period), so the tick does not drift;
a late tick is served at once, so the ticks a member sees always match the
time elapsed since it joined.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cloudlink.errors import ConfigError

__all__ = ["SharedTicks", "TickStep"]

logger = logging.getLogger(__name__)

# What a member does on each tick, given the tick's deadline (ms, on the
# clock of the SharedTicks): it returns None, or an awaitable to wait for
# before the next member is stepped.
TickStep = Callable[[float], Awaitable[None] | None]


class SharedTicks:
    """Ticks every ``period_ms`` on ``now_ms``'s clock (ms) for as long as
    one member is in :meth:`run`; each tick steps the members in the order
    they joined."""

    def __init__(self, now_ms: Callable[[], float], *, period_ms: float) -> None:
        if not period_ms > 0.0:
            raise ConfigError(f"period_ms must be positive, got {period_ms}")
        self.period_ms = period_ms
        self._now_ms = now_ms
        # Each member's future (done when it leaves) -> its step, ticks left.
        self._members: dict[asyncio.Future[None], tuple[TickStep, int | None]] = {}
        self._driver: asyncio.Task[None] | None = None

    @property
    def members(self) -> int:
        """How many members are stepped on each tick."""
        return len(self._members)

    async def run(self, step: TickStep, *, ticks: int | None = None) -> None:
        """Calls ``step`` once per tick, from the next one, ``ticks`` times
        or until cancelled; raises what ``step`` raised (the member then
        leaves, the others tick on)."""
        if ticks is not None and ticks <= 0:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._members[done] = (step, ticks)
        if self._driver is None:
            self._driver = loop.create_task(self._drive())
        try:
            await done
        finally:
            self._members.pop(done, None)
            if not self._members and self._driver is not None:
                self._driver.cancel()
                self._driver = None

    async def _drive(self) -> None:
        start_ms = self._now_ms()
        tick = 1
        while self._members:
            deadline_ms = start_ms + tick * self.period_ms
            wait_ms = deadline_ms - self._now_ms()
            if wait_ms > 0.0:
                await asyncio.sleep(wait_ms / 1000.0)
            tick += 1
            for done, (step, left) in list(self._members.items()):
                if done.done():
                    continue
                try:
                    result = step(deadline_ms)
                    if result is not None:
                        await result
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the member's own failure, raised in its run()
                    self._members.pop(done, None)
                    if not done.done():
                        done.set_exception(error)
                    continue
                if left is None or done.done():
                    continue
                if left > 1:
                    self._members[done] = (step, left - 1)
                else:
                    self._members.pop(done, None)
                    done.set_result(None)
