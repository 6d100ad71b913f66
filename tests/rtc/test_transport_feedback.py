from __future__ import annotations

from cloudlink import _native
from cloudlink.rtc.transport_feedback import SentPacketLog, TransportFeedbackBuilder


def _round_trip(feedback: _native.RtcpTransportFeedback) -> _native.RtcpTransportFeedback:
    (parsed,) = _native.parse_rtcp(feedback.serialize())
    assert isinstance(parsed, _native.RtcpTransportFeedback)
    return parsed


def test_arrivals_and_losses_go_back_to_the_sender() -> None:
    log, builder = SentPacketLog(), TransportFeedbackBuilder()
    for sequence in range(65530, 65540):  # across the 16-bit wrap
        log.on_sent(sequence & 0xFFFF, send_ms=sequence * 10.0, size_bytes=100 + sequence % 7)
        if sequence % 4 != 1:  # 65533 and 65537 are lost
            builder.on_packet(sequence & 0xFFFF, arrival_ms=5000.0 + sequence % 100)
    feedback = builder.build(sender_ssrc=1, media_ssrc=2)
    assert feedback is not None
    results = log.on_feedback(_round_trip(feedback))
    assert [r.sequence for r in results] == [s & 0xFFFF for s in range(65530, 65540)]
    lost = [r.sequence for r in results if r.arrival_ms is None]
    assert lost == [65533, 1]
    arrived = [r for r in results if r.arrival_ms is not None]
    # The writer rounds arrivals to 250 µs.
    assert all(abs((r.arrival_ms or 0) - (5000.0 + r.sequence % 100)) <= 0.25 for r in arrived[:3])
    assert log.packets_acknowledged == 8 and log.packets_reported_lost == 2


def test_each_message_starts_where_the_last_ended() -> None:
    builder = TransportFeedbackBuilder()
    for sequence in (10, 11, 13):
        builder.on_packet(sequence, arrival_ms=float(sequence))
    first = builder.build(sender_ssrc=1, media_ssrc=2)
    assert first is not None and first.base_sequence == 10
    assert builder.build(sender_ssrc=1, media_ssrc=2) is None  # nothing new
    builder.on_packet(12, arrival_ms=20.0)  # late: already reported lost
    builder.on_packet(15, arrival_ms=21.0)
    second = builder.build(sender_ssrc=1, media_ssrc=2)
    assert second is not None
    assert second.base_sequence == 14 and second.arrival_times_us == [None, 21000]
    assert second.feedback_count == first.feedback_count + 1
