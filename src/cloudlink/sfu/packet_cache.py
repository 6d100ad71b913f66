"""The recent packets of one published stream, so that subscribers' NACKs
(RFC 4585 section 6.2.1) are answered by the SFU instead of the publisher."""

from __future__ import annotations

from typing import Final

from cloudlink.sfu.rtp_view import RtpView

__all__ = ["PacketCache"]

# About 2 s of 720p VP8 at 2 Mbit/s (~200 packets/s), beyond the 1 s a
# receiver keeps asking for a packet; a power of two for the slot index.
DEFAULT_CAPACITY_PACKETS: Final = 1024


class PacketCache:
    """A ring of the last ``capacity_packets`` packets indexed by their
    unwrapped sequence number; a slot holds the newest packet mapping to it."""

    def __init__(self, *, capacity_packets: int = DEFAULT_CAPACITY_PACKETS) -> None:
        if capacity_packets < 1 or capacity_packets & (capacity_packets - 1):
            raise ValueError(f"capacity_packets must be a power of two, got {capacity_packets}")
        self._mask = capacity_packets - 1
        self._slots: list[RtpView | None] = [None] * capacity_packets
        self.capacity_packets = capacity_packets

    def put(self, view: RtpView) -> None:
        """Keeps ``view`` (its ``sequence`` must be set)."""
        self._slots[view.sequence & self._mask] = view

    def get(self, sequence: int) -> RtpView | None:
        """The packet with unwrapped sequence number ``sequence``, if kept."""
        view = self._slots[sequence & self._mask]
        if view is None or view.sequence != sequence:
            return None
        return view

    def clear(self) -> None:
        self._slots = [None] * self.capacity_packets
