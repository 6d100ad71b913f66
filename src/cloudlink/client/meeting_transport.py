"""The client's media path to the SFU, kept across ICE restarts.

The RTP session sends and receives through a :class:`MeetingTransport`,
which carries one :class:`~cloudlink.rtc.transport.Transport` at a time.
An ICE restart (RFC 8445 section 9, done here as a new transport, as the
SFU does on ``restart-ice``) gathers and connects a new transport beside
the old one, then moves the packets to it and closes the old: the session,
its SSRCs, sequence numbers and statistics go on unchanged.

The participant is the ICE controlled side and so the DTLS client
(docs/signaling.md); the SFU controls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from cloudlink.rtc.impairment import Impairment
from cloudlink.rtc.transport import PacketHandler, Transport, TransportParameters

__all__ = ["MeetingTransport", "Negotiator"]

logger = logging.getLogger(__name__)

# Sends our parameters to the SFU (``transport`` or ``restart-ice``) and
# returns the SFU's.
Negotiator = Callable[[TransportParameters], Awaitable[TransportParameters]]


def _noop(_: bytes) -> None:
    pass


class MeetingTransport:
    """A :class:`~cloudlink.rtc.transport.PacketTransport` whose
    underlying transport can be replaced. ``uplink`` and ``downlink``
    (simulated impairments, for tests and the demo) stay on the path
    across restarts."""

    def __init__(self, *, loopback: bool = True, ice_servers: Sequence[str] = ()) -> None:
        self._loopback = loopback
        self._ice_servers = tuple(ice_servers)
        self._current: Transport | None = None
        self._on_rtp: PacketHandler = _noop
        self._on_rtcp: PacketHandler = _noop
        self._uplink: Impairment | None = None
        self._downlink: Impairment | None = None
        self._lock = asyncio.Lock()
        self.ice_restarts = 0
        # Counters of the transports already closed, so the totals survive restarts.
        self._retired = {
            "packets_sent": 0,
            "bytes_sent": 0,
            "packets_received": 0,
            "bytes_received": 0,
            "packets_not_sent": 0,
        }

    @property
    def current(self) -> Transport | None:
        """The transport in use (None before :meth:`connect`)."""
        return self._current

    @property
    def connected(self) -> bool:
        """True while the transport in use is connected."""
        return self._current is not None and self._current.connected

    @property
    def uplink(self) -> Impairment | None:
        """A simulated path on what this client sends (None: the real one)."""
        return self._uplink

    @uplink.setter
    def uplink(self, impairment: Impairment | None) -> None:
        self._uplink = impairment
        if self._current is not None:
            self._current.uplink = impairment

    @property
    def downlink(self) -> Impairment | None:
        """A simulated path on what this client receives."""
        return self._downlink

    @downlink.setter
    def downlink(self, impairment: Impairment | None) -> None:
        self._downlink = impairment
        if self._current is not None:
            self._current.downlink = impairment

    def set_handlers(self, *, on_rtp: PacketHandler, on_rtcp: PacketHandler) -> None:
        """Where decrypted RTP packets and RTCP compounds go (every transport's)."""
        self._on_rtp, self._on_rtcp = on_rtp, on_rtcp
        if self._current is not None:
            self._current.set_handlers(on_rtp=on_rtp, on_rtcp=on_rtcp)

    async def send(self, packet: bytes) -> None:
        """Sends through the transport in use; dropped (and counted there)
        while it is not connected."""
        if self._current is not None:
            await self._current.send(packet)

    async def connect(self, negotiate: Negotiator) -> None:
        """The first transport: gathers, exchanges parameters through
        ``negotiate``, connects. ConnectionError if ICE or DTLS fail."""
        async with self._lock:
            self._current = await self._new_transport(negotiate)

    async def restart(self, negotiate: Negotiator) -> None:
        """Replaces the transport: a new one is connected through
        ``negotiate`` (``restart-ice``), the packets move to it, the old
        one is closed. On failure the old one stays in place."""
        async with self._lock:
            replacement = await self._new_transport(negotiate)
            previous, self._current = self._current, replacement
            self.ice_restarts += 1
            if previous is not None:
                self._retire(previous)
                await previous.close()
        logger.info("ice restarted [restarts:%d]", self.ice_restarts)

    async def close(self) -> None:
        """Closes the transport in use."""
        async with self._lock:
            if self._current is not None:
                self._retire(self._current)
                await self._current.close()

    def counters(self) -> dict[str, int]:
        """Packets and bytes through every transport so far."""
        totals = dict(self._retired)
        if self._current is not None:
            for key in totals:
                totals[key] += int(getattr(self._current, key))
        return totals

    def _retire(self, transport: Transport) -> None:
        for key in self._retired:
            self._retired[key] += int(getattr(transport, key))
        # Late packets of a closed transport must not count twice or reach the session.
        transport.set_handlers(on_rtp=_noop, on_rtcp=_noop)
        for key in self._retired:
            setattr(transport, key, 0)

    async def _new_transport(self, negotiate: Negotiator) -> Transport:
        transport = Transport(loopback=self._loopback, ice_servers=self._ice_servers)
        transport.uplink, transport.downlink = self._uplink, self._downlink
        try:
            local = await transport.gather()
            remote = await negotiate(local)
            transport.set_handlers(on_rtp=self._on_rtp, on_rtcp=self._on_rtcp)
            await transport.connect(remote, controlling=False)
        except BaseException:
            await transport.close()
            raise
        return transport
