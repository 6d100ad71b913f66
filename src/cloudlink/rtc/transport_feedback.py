"""Transport-wide congestion control feedback
(draft-holmer-rmcat-transport-wide-cc-extensions-01): the receiver reports
when each packet of the transport arrived, by its transport-wide sequence
number; the sender pairs those arrivals with its own send times and sizes,
which is what a send-side bandwidth estimate runs on.

- :class:`TransportFeedbackBuilder` (receiving side): records arrivals and
  writes one RTCP transport feedback message (section 3.1) per interval,
  covering every sequence number since the last one; a packet that arrives
  after its number was reported missing is not reported again.
- :class:`SentPacketLog` (sending side): remembers the send time and size
  of the last 4096 packets, and turns a feedback message back into
  (send time, arrival time, size) triples, None arrival for a lost packet.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, NamedTuple

from cloudlink import _native

__all__ = ["PacketResult", "SentPacketLog", "TransportFeedbackBuilder"]

# Packets the sender remembers: several seconds at video rates, well under
# half the 16-bit sequence space so a number never means two packets.
_SENT_HISTORY: Final = 4096
# One message covers at most this many sequence numbers: the native writer
# keeps all arrivals of a message within +-8.19 s of each other, which
# this bounds at any packet rate above 250 packets/s, and a larger gap
# means a restart rather than loss.
_MAX_SPAN: Final = 2048


class PacketResult(NamedTuple):
    """What the feedback says of one sent packet (times on either side's
    own clock, in ms)."""

    sequence: int
    send_ms: float
    arrival_ms: float | None
    size_bytes: int


class TransportFeedbackBuilder:
    """The receiving side's record of transport-wide sequence numbers."""

    def __init__(self) -> None:
        self._unwrapper = _native.SequenceUnwrapper(bits=16)
        self._arrivals: dict[int, float] = {}
        self._next_base: int | None = None
        self._feedback_count = 0
        self.messages_built = 0

    def on_packet(self, sequence: int, arrival_ms: float) -> None:
        """One arrived packet carrying transport-wide ``sequence``."""
        unwrapped = self._unwrapper.unwrap(sequence)
        if self._next_base is not None and unwrapped < self._next_base:
            return  # already reported (as lost)
        self._arrivals.setdefault(unwrapped, arrival_ms)

    def build(self, *, sender_ssrc: int, media_ssrc: int) -> _native.RtcpTransportFeedback | None:
        """The feedback for everything since the last message, None when
        nothing arrived since."""
        if not self._arrivals:
            return None
        end = max(self._arrivals)
        base = min(self._arrivals) if self._next_base is None else self._next_base
        base = max(base, end - _MAX_SPAN + 1)
        times: list[int | None] = []
        for sequence in range(base, end + 1):
            arrival_ms = self._arrivals.get(sequence)
            times.append(None if arrival_ms is None else round(arrival_ms * 1000.0))
        self._arrivals.clear()
        self._next_base = end + 1
        feedback = _native.RtcpTransportFeedback(
            sender_ssrc=sender_ssrc,
            media_ssrc=media_ssrc,
            base_sequence=base & 0xFFFF,
            feedback_count=self._feedback_count,
            arrival_times_us=times,
        )
        self._feedback_count = (self._feedback_count + 1) & 0xFF
        self.messages_built += 1
        return feedback


class SentPacketLog:
    """The sending side's memory of what it sent, by transport-wide number."""

    def __init__(self) -> None:
        self._sent: OrderedDict[int, tuple[float, int]] = OrderedDict()
        self.feedback_received = 0
        self.packets_acknowledged = 0
        self.packets_reported_lost = 0

    def on_sent(self, sequence: int, send_ms: float, size_bytes: int) -> None:
        """A packet numbered ``sequence`` (16 bits) left at ``send_ms``."""
        self._sent[sequence] = (send_ms, size_bytes)
        self._sent.move_to_end(sequence)
        while len(self._sent) > _SENT_HISTORY:
            self._sent.popitem(last=False)

    def on_feedback(self, feedback: _native.RtcpTransportFeedback) -> list[PacketResult]:
        """The packets ``feedback`` reports on that this side remembers, in
        sequence order."""
        self.feedback_received += 1
        results = []
        for index, arrival_us in enumerate(feedback.arrival_times_us):
            sequence = (feedback.base_sequence + index) & 0xFFFF
            sent = self._sent.pop(sequence, None)
            if sent is None:
                continue
            arrival_ms = None if arrival_us is None else arrival_us / 1000.0
            if arrival_ms is None:
                self.packets_reported_lost += 1
            else:
                self.packets_acknowledged += 1
            results.append(PacketResult(sequence, sent[0], arrival_ms, sent[1]))
        return results
