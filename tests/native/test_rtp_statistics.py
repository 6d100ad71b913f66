"""Sequence and timestamp unwrapping, receive statistics (RFC 3550 appendix
A.1, A.3, A.8 and the section 6.4.1 report block) and NACK timing, through
their bindings, against hand computations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native

# ---- SequenceUnwrapper


def test_sequence_numbers_unwrap_across_the_wrap() -> None:
    unwrapper = _native.SequenceUnwrapper()
    got = [unwrapper.unwrap(s) for s in [65534, 65535, 0, 1, 2]]
    assert got == [65534, 65535, 65536, 65537, 65538]


def test_reordering_across_the_wrap_lands_on_the_right_side() -> None:
    unwrapper = _native.SequenceUnwrapper()
    got = [unwrapper.unwrap(s) for s in [65533, 65535, 1, 0, 65534, 3, 2]]
    assert got == [65533, 65535, 65537, 65536, 65534, 65539, 65538]


def test_a_packet_before_the_first_unwraps_below_it() -> None:
    unwrapper = _native.SequenceUnwrapper()
    assert unwrapper.unwrap(0) == 0
    assert unwrapper.unwrap(65535) == -1


def test_timestamps_unwrap_with_32_bits_and_peek_does_not_move() -> None:
    unwrapper = _native.SequenceUnwrapper(bits=32)
    assert unwrapper.unwrap(2**32 - 960) == 2**32 - 960
    assert unwrapper.peek(0) == 2**32
    assert unwrapper.last == 2**32 - 960
    assert unwrapper.unwrap(960) == 2**32 + 960
    assert unwrapper.unwrap(2**32 - 1920) == 2**32 - 1920
    unwrapper.reset()
    assert unwrapper.last is None
    assert unwrapper.unwrap(5) == 5


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**40), st.lists(st.integers(-1000, 1000), min_size=1, max_size=50))
def test_unwrapping_inverts_wrapping_for_steps_under_half_the_range(
    start: int, steps: list[int]
) -> None:
    unwrapper = _native.SequenceUnwrapper()
    offset = start - start % 65536
    value = start
    unwrapper.unwrap(value % 65536)
    for step in steps:
        value += step
        assert unwrapper.unwrap(value % 65536) + offset == value


def test_unwrapper_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="bits"):
        _native.SequenceUnwrapper(bits=33)
    with pytest.raises(ValueError, match="value"):
        _native.SequenceUnwrapper().unwrap(65536)
    with pytest.raises(ValueError, match="value"):
        _native.SequenceUnwrapper(bits=32).unwrap(-1)


# ---- ReceiveStatistics


def receive(stats: _native.ReceiveStatistics, sequence: int, arrival_ms: float) -> bool:
    """One 20 ms packet at 8 kHz (160 timestamp units per packet)."""
    return stats.on_packet(
        sequence_number=sequence % 65536,
        timestamp=(sequence * 160) % 2**32,
        arrival_time_ms=arrival_ms,
        payload_bytes=100,
    )


def test_jitter_matches_a_hand_computation() -> None:
    # Packets every 20 ms (160 units at 8 kHz) arriving at 0, 20, 45, 60, 80 ms:
    # D = 0, +40, -40, 0 units, so J = 0, 2.5, 2.5 + 37.5/16, then * 15/16.
    stats = _native.ReceiveStatistics(ssrc=7, clock_rate_hz=8000)
    for sequence, arrival_ms in enumerate([0, 20, 45, 60, 80]):
        assert receive(stats, sequence, arrival_ms)
    expected = (2.5 + (40 - 2.5) / 16) * 15 / 16
    assert stats.jitter_timestamp_units == pytest.approx(expected)
    assert stats.jitter_ms == pytest.approx(expected / 8)
    block = stats.report_block(100)
    assert block is not None
    assert block.jitter == round(expected)
    assert stats.stats()["jitter"] == pytest.approx(expected / 8000)


def test_steady_arrivals_have_no_jitter_and_constant_delay_adds_none() -> None:
    stats = _native.ReceiveStatistics(ssrc=7, clock_rate_hz=48000)
    for sequence in range(50):
        stats.on_packet(
            sequence_number=sequence,
            timestamp=1_000_000 + sequence * 960,
            arrival_time_ms=5000 + sequence * 20,
        )
    assert stats.jitter_timestamp_units == pytest.approx(0.0, abs=1e-9)


def test_loss_and_fraction_lost_per_interval() -> None:
    stats = _native.ReceiveStatistics(ssrc=9, clock_rate_hz=8000)
    for sequence in range(10):
        if sequence not in (3, 7):
            receive(stats, sequence, sequence * 20)
    assert stats.packets_expected == 10
    assert stats.packets_received == 8
    assert stats.cumulative_lost == 2
    block = stats.report_block(200)
    assert block is not None
    assert block.ssrc == 9
    assert block.fraction_lost == (2 << 8) // 10
    assert stats.fraction_lost == 51
    assert block.cumulative_lost == 2
    assert block.extended_highest_sequence == 9

    # A clean second interval: fraction 0, the cumulative count stays.
    for sequence in range(10, 20):
        receive(stats, sequence, sequence * 20)
    block = stats.report_block(400)
    assert block is not None
    assert block.fraction_lost == 0
    assert block.cumulative_lost == 2
    assert stats.stats()["packetsLost"] == 2
    assert stats.stats()["packetsReceived"] == 18
    assert stats.stats()["bytesReceived"] == 1800


def test_late_packet_fills_its_gap_and_duplicates_are_counted() -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=8000)
    for sequence in [0, 1, 3, 4]:
        receive(stats, sequence, sequence * 20)
    assert stats.cumulative_lost == 1
    assert receive(stats, 2, 100) is True
    assert stats.cumulative_lost == 0
    assert receive(stats, 2, 101) is False
    assert receive(stats, 4, 102) is False
    assert stats.packets_duplicated == 2
    # RFC 3550 A.3: duplicates count as received, so the loss goes negative.
    assert stats.cumulative_lost == -2
    assert stats.packets_received == 7


def test_extended_highest_sequence_counts_wrap_cycles() -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=90000)
    for sequence in range(65530, 65536 + 6):
        receive(stats, sequence, 0)
    assert stats.extended_highest_sequence == 65536 + 5
    assert stats.packets_expected == 12
    assert stats.cumulative_lost == 0
    block = stats.report_block(0)
    assert block is not None
    assert block.extended_highest_sequence == 65541


def test_a_big_jump_is_a_restart_only_when_the_next_packet_follows() -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=8000)
    for sequence in range(5):
        receive(stats, sequence, sequence * 20)
    # A stray packet 10000 ahead is dropped; the stream goes on.
    assert receive(stats, 10_000, 100) is False
    assert receive(stats, 5, 100) is True
    assert stats.extended_highest_sequence == 5
    # Two sequential packets far ahead: the sender restarted (RFC 3550 A.1).
    assert receive(stats, 30_000, 120) is False
    assert receive(stats, 30_001, 140) is True
    assert stats.extended_highest_sequence == 30_001
    assert stats.packets_received == 1
    assert stats.cumulative_lost == 0


def test_report_block_carries_lsr_and_dlsr() -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=8000)
    assert stats.report_block(0) is None
    receive(stats, 0, 0)
    block = stats.report_block(0)
    assert block is not None
    assert (block.last_sr, block.delay_since_last_sr) == (0, 0)
    stats.on_sender_report(ntp_timestamp=0x0123456789ABCDEF, arrival_time_ms=1000)
    block = stats.report_block(1500)
    assert block is not None
    assert block.last_sr == 0x456789AB
    assert block.delay_since_last_sr == 32768  # 0.5 s in units of 1/65536 s
    # The block writes and parses as an RR.
    rr = _native.RtcpReceiverReport(ssrc=2, report_blocks=[block])
    (parsed,) = _native.parse_rtcp(rr.serialize())
    assert isinstance(parsed, _native.RtcpReceiverReport)
    assert parsed.report_blocks[0].last_sr == 0x456789AB


def test_reset_forgets_the_stream() -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=8000)
    receive(stats, 0, 0)
    receive(stats, 5, 100)
    stats.reset()
    assert stats.packets_received == 0
    assert stats.report_block(0) is None
    receive(stats, 40_000, 0)
    assert stats.extended_highest_sequence == 40_000


def test_receive_statistics_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="clock_rate_hz"):
        _native.ReceiveStatistics(ssrc=1, clock_rate_hz=0)
    with pytest.raises(ValueError, match="ssrc"):
        _native.ReceiveStatistics(ssrc=-1, clock_rate_hz=8000)
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=8000)
    with pytest.raises(ValueError, match="sequence_number"):
        stats.on_packet(sequence_number=65536, timestamp=0, arrival_time_ms=0)
    with pytest.raises(ValueError, match="timestamp"):
        stats.on_packet(sequence_number=0, timestamp=-1, arrival_time_ms=0)
    with pytest.raises(ValueError, match="arrival_time_ms"):
        stats.on_packet(sequence_number=0, timestamp=0, arrival_time_ms=float("nan"))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 65535),
    st.lists(st.tuples(st.integers(-50, 60), st.floats(0, 100)), min_size=1, max_size=200),
)
def test_any_arrival_order_keeps_the_counts_consistent(
    first: int, steps: list[tuple[int, float]]
) -> None:
    stats = _native.ReceiveStatistics(ssrc=1, clock_rate_hz=90000)
    sequence, now_ms = first, 0.0
    for step, gap_ms in steps:
        sequence += step
        now_ms += gap_ms
        stats.on_packet(
            sequence_number=sequence % 65536,
            timestamp=(sequence * 3000) % 2**32,
            arrival_time_ms=now_ms,
        )
    assert stats.packets_expected >= 1
    assert stats.cumulative_lost == stats.packets_expected - stats.packets_received
    assert stats.jitter_timestamp_units >= 0
    block = stats.report_block(now_ms)
    assert block is not None
    assert 0 <= block.fraction_lost <= 255


# ---- NackTracker


def test_gaps_are_requested_at_once_then_once_per_rtt() -> None:
    tracker = _native.NackTracker()
    for sequence in [0, 1, 2, 5]:
        tracker.on_packet(sequence, now_ms=0)
    assert tracker.missing == [3, 4]
    assert tracker.nack_list(0, rtt_ms=100) == [3, 4]
    assert tracker.nack_list(50, rtt_ms=100) == []
    assert tracker.nack_list(99, rtt_ms=100) == []
    assert tracker.nack_list(100, rtt_ms=100) == [3, 4]
    # A new gap is requested at once; the old ones wait for their round trip.
    tracker.on_packet(7, now_ms=120)
    assert tracker.nack_list(120, rtt_ms=100) == [6]
    assert tracker.requests_sent == 5


def test_reorder_delay_spares_packets_that_arrive_late() -> None:
    tracker = _native.NackTracker(reorder_delay_ms=20)
    for sequence in [0, 3]:
        tracker.on_packet(sequence, now_ms=0)
    assert tracker.nack_list(0, rtt_ms=100) == []
    assert tracker.on_packet(1, now_ms=10) is True  # reordered, not lost
    assert tracker.nack_list(19, rtt_ms=100) == []
    assert tracker.nack_list(20, rtt_ms=100) == [2]
    assert tracker.nack_list(119, rtt_ms=100) == []
    assert tracker.nack_list(120, rtt_ms=100) == [2]
    assert tracker.requests_sent == 2


def test_repeat_delay_asks_twice_before_the_round_trip() -> None:
    tracker = _native.NackTracker(repeat_delay_ms=20)
    for sequence in [0, 3]:
        tracker.on_packet(sequence, now_ms=0)
    assert tracker.nack_list(0, rtt_ms=100) == [1, 2]
    assert tracker.on_packet(1, now_ms=10) is True  # reordered: not repeated
    assert tracker.nack_list(19, rtt_ms=100) == []
    assert tracker.nack_list(20, rtt_ms=100) == [2]
    # Later retries are a round trip apart, counted from the repeat.
    assert tracker.nack_list(119, rtt_ms=100) == []
    assert tracker.nack_list(120, rtt_ms=100) == [2]
    assert tracker.nack_list(220, rtt_ms=100) == [2]
    assert tracker.requests_sent == 5
    assert tracker.repeat_delay_ms == 20


def test_repeat_delay_never_waits_beyond_the_round_trip() -> None:
    tracker = _native.NackTracker(repeat_delay_ms=50)
    tracker.on_packet(0, now_ms=0)
    tracker.on_packet(2, now_ms=0)
    sent = [tracker.nack_list(t, rtt_ms=30) for t in [0, 29, 30, 59, 60]]
    assert sent == [[1], [], [1], [], [1]]


def test_a_retransmission_fills_its_gap() -> None:
    tracker = _native.NackTracker()
    for sequence in [10, 14]:
        tracker.on_packet(sequence, now_ms=0)
    assert tracker.nack_list(0, rtt_ms=50) == [11, 12, 13]
    assert tracker.on_packet(12, now_ms=30) is True
    assert tracker.on_packet(12, now_ms=31) is False
    assert tracker.packets_recovered == 1
    assert tracker.nack_list(60, rtt_ms=50) == [11, 13]


def test_retry_limit_gives_up() -> None:
    tracker = _native.NackTracker(max_retries=3, max_age_ms=10_000)
    tracker.on_packet(0, now_ms=0)
    tracker.on_packet(2, now_ms=0)
    sent = [tracker.nack_list(t, rtt_ms=100) for t in [0, 100, 200, 300, 400]]
    assert sent == [[1], [1], [1], [], []]
    assert tracker.packets_abandoned == 1
    assert tracker.missing_count == 0


def test_max_age_gives_up_even_with_retries_left() -> None:
    tracker = _native.NackTracker(max_retries=10, max_age_ms=250)
    tracker.on_packet(0, now_ms=1000)
    tracker.on_packet(2, now_ms=1000)
    assert tracker.nack_list(1000, rtt_ms=100) == [1]
    assert tracker.nack_list(1100, rtt_ms=100) == [1]
    assert tracker.nack_list(1200, rtt_ms=100) == [1]
    assert tracker.nack_list(1300, rtt_ms=100) == []
    assert tracker.packets_abandoned == 1


def test_gaps_across_the_wrap_are_tracked_in_order() -> None:
    tracker = _native.NackTracker()
    tracker.on_packet(65533, now_ms=0)
    tracker.on_packet(2, now_ms=0)
    assert tracker.missing == [65534, 65535, 0, 1]
    assert tracker.nack_list(0, rtt_ms=10) == [65534, 65535, 0, 1]
    assert tracker.on_packet(0, now_ms=1) is True
    assert tracker.missing == [65534, 65535, 1]


def test_only_the_newest_missing_packets_are_kept() -> None:
    tracker = _native.NackTracker(max_missing_packets=100)
    tracker.on_packet(0, now_ms=0)
    tracker.on_packet(1001, now_ms=0)
    assert tracker.missing_count == 100
    assert tracker.missing[0] == 901
    assert tracker.packets_abandoned == 900
    # 1002..1009 join; the 8 oldest (901..908) are given up.
    tracker.on_packet(1010, now_ms=0)
    assert tracker.missing[0] == 909
    assert tracker.missing_count == 100
    assert tracker.packets_abandoned == 908


def test_reset_forgets_the_stream_but_keeps_counters() -> None:
    tracker = _native.NackTracker()
    tracker.on_packet(0, now_ms=0)
    tracker.on_packet(3, now_ms=0)
    tracker.nack_list(0, rtt_ms=10)
    tracker.reset()
    assert tracker.missing == []
    assert tracker.requests_sent == 2
    tracker.on_packet(500, now_ms=0)
    assert tracker.missing == []


def test_nack_tracker_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        _native.NackTracker(max_retries=0)
    with pytest.raises(ValueError, match="max_age_ms"):
        _native.NackTracker(max_age_ms=0)
    with pytest.raises(ValueError, match="reorder_delay_ms"):
        _native.NackTracker(reorder_delay_ms=-1)
    with pytest.raises(ValueError, match="reorder_delay_ms"):
        _native.NackTracker(max_age_ms=100, reorder_delay_ms=100)
    with pytest.raises(ValueError, match="repeat_delay_ms"):
        _native.NackTracker(repeat_delay_ms=-1)
    with pytest.raises(ValueError, match="repeat_delay_ms"):
        _native.NackTracker(max_age_ms=100, repeat_delay_ms=100)
    with pytest.raises(ValueError, match="max_missing_packets"):
        _native.NackTracker(max_missing_packets=3001)
    tracker = _native.NackTracker()
    with pytest.raises(ValueError, match="sequence_number"):
        tracker.on_packet(-1, now_ms=0)
    with pytest.raises(ValueError, match="rtt_ms"):
        tracker.nack_list(0, rtt_ms=-1)
    with pytest.raises(ValueError, match="now_ms"):
        tracker.nack_list(float("inf"), rtt_ms=1)


def test_a_jump_of_3000_or_more_is_a_restart() -> None:
    tracker = _native.NackTracker()
    for sequence in [0, 1, 4]:
        tracker.on_packet(sequence, now_ms=0)
    assert tracker.missing == [2, 3]
    tracker.on_packet(3005, now_ms=10)
    assert tracker.missing == []
    assert tracker.packets_abandoned == 2
    tracker.on_packet(3008, now_ms=20)
    assert tracker.missing == [3006, 3007]


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 65535),
    st.lists(st.integers(-40, 60), min_size=1, max_size=150),
    st.floats(1, 500),
)
def test_nack_lists_hold_only_missing_numbers(first: int, steps: list[int], rtt_ms: float) -> None:
    tracker = _native.NackTracker(max_retries=5)
    received: set[int] = set()
    sequence = first
    for index, step in enumerate(steps):
        sequence += step
        tracker.on_packet(sequence % 65536, now_ms=index * 10.0)
        received.add(sequence % 65536)
        requested = tracker.nack_list(index * 10.0, rtt_ms=rtt_ms)
        assert not received & set(requested)
        assert len(requested) == len(set(requested))
        assert set(requested) <= set(tracker.missing)
