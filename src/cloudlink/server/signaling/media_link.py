"""The SFU's end of one participant's WebRTC transport.

A :class:`MediaLink` is the :class:`~cloudlink.sfu.transport.DatagramTransport`
the room sends through, and owns the :class:`~cloudlink.rtc.transport.Transport`
underneath. The room's sends are synchronous and must not block; they go
into a bounded queue that a task hands to the transport's async ``send``
(full: the packet is dropped and counted). The transport can be replaced
(``restart-ice``): the room keeps the same link, so the participant's tracks
and subscriptions keep their SSRCs, and media moves to the new transport
once it connects. Towards a participant that sent transport parameters
the SFU is ICE controlling, hence the DTLS server; towards a full-ICE SDP
offerer (a browser) it is controlled, hence the DTLS client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from cloudlink.rtc.transport import Transport, TransportParameters

__all__ = ["MediaLink"]

_log = logging.getLogger(__name__)

# Packets waiting for the transport: about 0.3 s of a 720p camera, Opus and
# their RTCP at 1.5 Mbit/s.
DEFAULT_QUEUE_PACKETS: Final = 512

PacketHandler = Callable[[bytes], None]


class MediaLink:
    """Sends the room's datagrams to one participant; hands its datagrams to the room."""

    def __init__(
        self,
        *,
        on_rtp: PacketHandler,
        on_rtcp: PacketHandler,
        queue_packets: int = DEFAULT_QUEUE_PACKETS,
    ) -> None:
        self._on_rtp = on_rtp
        self._on_rtcp = on_rtcp
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(queue_packets)
        # The connected transport media goes through, and the one connecting.
        self._transport: Transport | None = None
        self._pending: Transport | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._send_task: asyncio.Task[None] | None = None
        self._closed = False
        self.opened = False
        self.packets_dropped_full = 0
        self.packets_dropped_unconnected = 0
        self.connect_failures = 0

    @property
    def connected(self) -> bool:
        """True once a transport has connected (and until close)."""
        return self._transport is not None and not self._closed

    # --- DatagramTransport ---

    def send_rtp(self, data: bytes) -> None:
        """Queues one RTP packet for the participant (never blocks)."""
        self._enqueue(data)

    def send_rtcp(self, data: bytes) -> None:
        """Queues one RTCP compound for the participant (never blocks)."""
        self._enqueue(data)

    def _enqueue(self, data: bytes) -> None:
        if self._transport is None or self._closed:
            self.packets_dropped_unconnected += 1
            return
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.packets_dropped_full += 1
            # Logged at the 1st, 2nd, 4th, 8th... drop, not per packet.
            count = self.packets_dropped_full
            if count & (count - 1) == 0:
                _log.warning("send queue full, packets dropped [count:%d]", count)

    # --- the transport ---

    async def open(
        self, remote: TransportParameters, *, controlling: bool = True
    ) -> TransportParameters:
        """A new transport towards ``remote``: returns its parameters and
        connects in the background, in the ICE role ``controlling`` says; a
        transport still connecting is abandoned, a connected one keeps the
        media until the new one connects."""
        transport = Transport(loopback=True)
        transport.set_handlers(on_rtp=self._on_rtp, on_rtcp=self._on_rtcp)
        try:
            local = await transport.gather()
        except BaseException:
            await transport.close()
            raise
        if self._closed:
            await transport.close()
            raise ConnectionError("the participant left")
        self.opened = True
        await self._abandon_pending()
        self._pending = transport
        self._connect_task = asyncio.create_task(self._connect(transport, remote, controlling))
        return local

    async def _connect(
        self, transport: Transport, remote: TransportParameters, controlling: bool
    ) -> None:
        try:
            await transport.connect(remote, controlling=controlling)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # TODO(#5): the client is not told; it sees no media and must send restart-ice itself
            self.connect_failures += 1
            _log.warning("participant transport failed: %s", error)
            self._pending = None
            await transport.close()
            return
        self._pending = None
        previous, self._transport = self._transport, transport
        if self._send_task is None:
            self._send_task = asyncio.create_task(self._send_forever())
        if previous is not None:
            await previous.close()

    async def _send_forever(self) -> None:
        while True:
            packet = await self._queue.get()
            transport = self._transport
            if transport is not None:
                await transport.send(packet)

    async def _abandon_pending(self) -> None:
        task, self._connect_task = self._connect_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending.close()

    async def close(self) -> None:
        """Stops the tasks and closes both transports."""
        self._closed = True
        await self._abandon_pending()
        task, self._send_task = self._send_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()
