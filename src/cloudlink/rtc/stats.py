"""Call-quality figures derived from a stream's statistics: an E-model MOS
estimate (ITU-T G.107, :mod:`cloudlink.media.quality`) for audio, and a
network-quality grade for any stream.

Audio MOS: the mouth-to-ear delay is half the round-trip time, plus the
jitter buffer's mean playout delay, plus Opus's 26.5 ms of algorithmic
delay and one 20 ms packet of framing; the loss is what the listener
heard concealed (concealedSamples over totalSamplesReceived), that is
after FEC, RED and NACK did their work. Concealment still running after the
last decoded audio (the jitter buffer's trailingConcealedSamples) is left
out of both until a packet ends it: until then it may be the end of the
stream (the sender hung up or stopped sending) rather than a hole, just as
packetsLost counts a loss only once a later packet shows it. Without that,
a snapshot taken 100 ms after the sender stopped counted ~90 ms of
concealment nobody heard as 4% loss.

Grade: the E-model's R for the network alone (half the RTT plus twice the
jitter as delay, packet loss before any repair), in five bands of G.107
Annex B: 90 excellent, 80 good, 70 fair, 60 poor, below that bad.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cloudlink.media import quality

__all__ = ["GRADES", "audio_mos", "network_grade"]

# Opus's algorithmic delay at its defaults, and a 20 ms packet.
_CODEC_DELAY_MS: Final = 26.5
_PACKET_MS: Final = 20.0
GRADES: Final = ("bad", "poor", "fair", "good", "excellent")
_GRADE_R: Final = (60.0, 70.0, 80.0, 90.0)


def _number(stats: Mapping[str, object], key: str) -> float:
    value = stats.get(key, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def audio_mos(stats: Mapping[str, object], *, round_trip_time_ms: float | None) -> float:
    """MOS (1..4.4) of what an inbound audio stream's listener hears."""
    rtt_ms = round_trip_time_ms or 0.0
    playout_ms = max(_number(stats, "meanPlayoutDelayMs"), 0.0)
    delay_ms = max(rtt_ms, 0.0) / 2.0 + playout_ms + _CODEC_DELAY_MS + _PACKET_MS
    trailing = _number(stats, "trailingConcealedSamples")
    total = _number(stats, "totalSamplesReceived") - trailing
    concealed = _number(stats, "concealedSamples") - trailing
    loss_pct = min(100.0, 100.0 * concealed / total) if total > 0 else 0.0
    return quality.mos(delay_ms, loss_pct)


def network_grade(
    *, round_trip_time_ms: float | None, jitter_ms: float, loss_fraction: float
) -> str:
    """One of :data:`GRADES` for the path a stream took."""
    delay_ms = (round_trip_time_ms or 0.0) / 2.0 + 2.0 * max(jitter_ms, 0.0)
    loss_pct = min(max(loss_fraction, 0.0), 1.0) * 100.0
    r = quality.r_factor(delay_ms, loss_pct)
    return GRADES[sum(1 for limit in _GRADE_R if r >= limit)]
