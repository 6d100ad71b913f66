"""Rewriting one forwarded stream into what a subscriber sees as a single
unbroken RTP stream (RFC 3550 section 5.1; RFC 7741 section 4.2 for VP8).

The subscriber's stream has its own SSRC. Its sequence numbers count only
the packets forwarded, so packets the SFU drops (upper temporal layers, a
source not shown) leave no gap the subscriber would NACK. Its timestamps
continue across a change of source, advanced by the wall-clock time between
the last packet of the old source and the first of the new. VP8 picture
ids count the frames forwarded, and TL0PICIDX continues across sources, so
the subscriber's frame assembler sees no missing frame.

Within one source, a packet's output sequence number is its input number
plus an offset, minus the input packets dropped before it; the dropped
numbers are kept (sorted) for that, so a late packet is numbered as if it
had come in order. A packet dropped after later ones were forwarded cannot
be taken out of their numbers any more: it leaves a hole (the subscriber's
NACK for it goes unanswered) rather than two packets under one number.
"""

from __future__ import annotations

import bisect
import secrets
import struct
from typing import Final

from cloudlink.sfu.rtp_view import RtpView
from cloudlink.sfu.vp8_descriptor import rewrite_vp8_descriptor

__all__ = ["StreamRewriter"]

# Dropped sequence numbers kept before the oldest half is folded into the
# offset; packets older than the folded ones are then too old to forward
# (4096 packets is many seconds of video).
_MAX_DROPS: Final = 4096
_SEQUENCE_MASK: Final = 0xFFFF
_TIMESTAMP_MASK: Final = 0xFFFFFFFF
_PICTURE_ID_MASK: Final = 0x7FFF
_TL0_MASK: Final = 0xFF
_HEADER: Final = struct.Struct("!HII")


class StreamRewriter:
    """Maps input (sequence, timestamp, picture id, TL0PICIDX) of the
    current source to the subscriber's stream."""

    def __init__(self, *, ssrc: int, clock_rate_hz: int) -> None:
        self.ssrc = ssrc
        self.clock_rate_hz = clock_rate_hz
        # The subscriber's stream starts at random values (RFC 3550 section 5.1).
        self.last_sequence = secrets.randbelow(1 << 16)
        self.last_timestamp = secrets.randbelow(1 << 32)
        self.last_picture_id = secrets.randbelow(1 << 15)
        self.last_tl0_pic_idx = secrets.randbelow(1 << 8)
        self._last_forward_ms: float | None = None
        self._sequence_offset = 0
        self._timestamp_offset = 0
        self._picture_id_offset = 0
        self._tl0_offset = 0
        self._drops: list[int] = []
        self._floor = 0
        self._highest_forwarded = -1
        self.holes = 0
        self.started = False

    def start_source(self, view: RtpView, now_ms: float) -> None:
        """Makes ``view`` (the first packet of a keyframe, or any audio
        packet) the continuation of the subscriber's stream."""
        self._sequence_offset = self.last_sequence + 1 - view.sequence
        self._drops = []
        self._floor = view.sequence
        self._highest_forwarded = -1
        gap_ticks = 0
        if self._last_forward_ms is not None:
            elapsed_ms = max(0.0, now_ms - self._last_forward_ms)
            gap_ticks = max(1, round(elapsed_ms * self.clock_rate_hz / 1000.0))
        self._timestamp_offset = (self.last_timestamp + gap_ticks - view.timestamp) & (
            _TIMESTAMP_MASK
        )
        if view.picture_id is not None:
            self._picture_id_offset = self.last_picture_id + 1 - view.picture_id
        if view.tl0_pic_idx is not None:
            self._tl0_offset = self.last_tl0_pic_idx + 1 - view.tl0_pic_idx
        self.started = True

    def drop(self, view: RtpView) -> None:
        """Leaves a packet of the current source out of the subscriber's numbering."""
        sequence = view.sequence
        if sequence < self._floor:
            return
        if sequence < self._highest_forwarded:
            # TODO(#5): a hole the subscriber NACKs in vain; avoiding it costs holding packets back.
            self.holes += 1
            return
        drops = self._drops
        if not drops or sequence > drops[-1]:
            drops.append(sequence)
        else:
            index = bisect.bisect_left(drops, sequence)
            if index < len(drops) and drops[index] == sequence:
                return
            drops.insert(index, sequence)
        if len(drops) > _MAX_DROPS:
            half = _MAX_DROPS // 2
            self._sequence_offset -= half
            self._floor = drops[half - 1] + 1
            del drops[:half]

    def drop_frame(self) -> None:
        """Leaves a whole VP8 frame out: later frames' picture ids close the gap."""
        self._picture_id_offset -= 1

    def output_sequence(self, view: RtpView) -> int | None:
        """The subscriber's unwrapped sequence number for a packet of the
        current source, None when it is older than the source's start."""
        sequence = view.sequence
        if sequence < self._floor:
            return None
        if sequence > self._highest_forwarded:
            self._highest_forwarded = sequence
        drops = self._drops
        dropped = (
            len(drops)
            if not drops or sequence > drops[-1]
            else (bisect.bisect_right(drops, sequence))
        )
        return sequence + self._sequence_offset - dropped

    def output_picture_id(self, view: RtpView) -> int:
        """The subscriber's picture id for a frame of the current source (15 bits)."""
        return ((view.picture_id or 0) + self._picture_id_offset) & _PICTURE_ID_MASK

    def output_timestamp(self, view: RtpView) -> int:
        return (view.timestamp + self._timestamp_offset) & _TIMESTAMP_MASK

    def output_tl0_pic_idx(self, view: RtpView) -> int:
        return ((view.tl0_pic_idx or 0) + self._tl0_offset) & _TL0_MASK

    @property
    def timestamp_offset(self) -> int:
        """Added to the current source's RTP timestamps (mod 2^32); sender
        reports are rewritten with it."""
        return self._timestamp_offset

    def commit(
        self, sequence: int, timestamp: int, picture_id: int, tl0_pic_idx: int, now_ms: float
    ) -> None:
        """Records a packet as forwarded, so a later source continues after it."""
        if sequence > self.last_sequence:
            self.last_sequence = sequence
            self.last_timestamp = timestamp
            self.last_picture_id = picture_id
            self.last_tl0_pic_idx = tl0_pic_idx
        self._last_forward_ms = now_ms

    def write(
        self, view: RtpView, sequence: int, timestamp: int, picture_id: int, tl0_pic_idx: int
    ) -> bytes:
        """The datagram of ``view`` with the subscriber's header fields."""
        # TODO(#5): extensions pass unchanged; the transport must renumber TWCC, abs-send-time.
        buffer = bytearray(view.data)
        _HEADER.pack_into(buffer, 2, sequence & _SEQUENCE_MASK, timestamp, self.ssrc)
        layout = view.layout
        if layout is not None:
            rewrite_vp8_descriptor(
                buffer,
                view.payload_offset,
                layout,
                picture_id=picture_id,
                tl0_pic_idx=tl0_pic_idx,
            )
        return bytes(buffer)
