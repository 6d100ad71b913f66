"""A lossy, jittery path on a real transport, for tests, benchmarks and the
demo: each SRTP packet a :class:`~cloudlink.rtc.transport.Transport` sends
(uplink, before encryption) or receives (downlink, before decryption) goes
through a :class:`~cloudlink.media.network_sim.NetworkSimulator`, which
loses it or holds it back by its one-way delay on the event loop.

ICE and DTLS packets are not impaired (they do not pass through here), so a
transport connects as fast as on a clean path; what suffers is the media and
its RTCP, as on a congested link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cloudlink.media.network_sim import NetworkConditions, NetworkSimulator

__all__ = ["Impairment"]


class Impairment:
    """Loss and delay in one direction; counts what it dropped."""

    def __init__(self, conditions: NetworkConditions) -> None:
        self.conditions = conditions
        self._simulator = NetworkSimulator(conditions)
        self._pending: set[asyncio.Task[None]] = set()
        self.packets_dropped = 0
        self.packets_delayed = 0

    def deliver(self, packet: bytes, handler: Callable[[bytes], None]) -> None:
        """Calls ``handler(packet)`` after the packet's delay, or never."""
        delay_ms = self._simulator.delay_ms()
        if delay_ms is None:
            self.packets_dropped += 1
            return
        if delay_ms <= 0.0:
            handler(packet)
            return
        self.packets_delayed += 1
        asyncio.get_running_loop().call_later(delay_ms / 1000.0, handler, packet)

    async def send(self, packet: bytes, sender: Callable[[bytes], Awaitable[None]]) -> None:
        """Sends ``packet`` through ``sender`` after its delay, or never;
        returns at once (the delayed send runs as its own task)."""
        delay_ms = self._simulator.delay_ms()
        if delay_ms is None:
            self.packets_dropped += 1
            return
        if delay_ms <= 0.0:
            await sender(packet)
            return
        self.packets_delayed += 1
        task = asyncio.create_task(self._send_later(delay_ms, packet, sender))
        # The loop keeps only weak references to tasks.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _send_later(
        delay_ms: float, packet: bytes, sender: Callable[[bytes], Awaitable[None]]
    ) -> None:
        await asyncio.sleep(delay_ms / 1000.0)
        await sender(packet)
