"""What the SFU needs of a participant's transport: a way to send RTP and
RTCP datagrams to that participant. The WebRTC transport (SRTP over DTLS
over ICE) provides it; tests use an in-memory list."""

from __future__ import annotations

from typing import Protocol

__all__ = ["DatagramTransport"]


class DatagramTransport(Protocol):
    """Sends one datagram each call; must not block (queue or drop instead)."""

    def send_rtp(self, data: bytes) -> None: ...

    def send_rtcp(self, data: bytes) -> None: ...
