"""Transport-wide congestion control feedback (draft-holmer-rmcat-transport-
wide-cc-extensions-01 section 3.1) through its binding: a byte vector written
by hand from the draft's figures, each chunk kind, round trips and malformed
input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.errors import RtpError

SSRC_A = "11223344"
SSRC_B = "55667788"
# V=2 P=1 FMT=15, PT 205, 6 words; base 10, 4 packets, reference time 1
# (64 ms), feedback count 7; one two-bit status vector chunk: small, lost,
# large, small (11 01 00 10 01 00 00 00 = 0xd240); deltas 4 (1 ms), -2
# (-0.5 ms, two bytes), 0; two bytes of padding ending in their count.
TWCC = bytes.fromhex(
    "afcd0006" + SSRC_A + SSRC_B + "000a0004" + "00000107" + "d240" + "04fffe00" + "0002"
)
TWCC_ARRIVALS = [65_000, None, 64_500, 64_500]


def parse_one(data: bytes) -> _native.RtcpTransportFeedback:
    (packet,) = _native.parse_rtcp(data)
    assert isinstance(packet, _native.RtcpTransportFeedback)
    return packet


def test_fields_match_the_hand_written_vector() -> None:
    feedback = parse_one(TWCC)
    assert (feedback.sender_ssrc, feedback.media_ssrc) == (0x11223344, 0x55667788)
    assert feedback.base_sequence == 10
    assert feedback.feedback_count == 7
    assert feedback.arrival_times_us == TWCC_ARRIVALS


def test_writing_the_fields_gives_the_hand_written_vector() -> None:
    feedback = _native.RtcpTransportFeedback(
        sender_ssrc=0x11223344,
        media_ssrc=0x55667788,
        base_sequence=10,
        feedback_count=7,
        arrival_times_us=TWCC_ARRIVALS,
    )
    assert feedback.serialize() == TWCC


def test_long_runs_use_run_length_chunks() -> None:
    arrivals: list[int | None] = [1_000_000 + 1000 * i for i in range(20)] + [None] * 10
    data = _native.RtcpTransportFeedback(arrival_times_us=arrivals).serialize()
    # 30 packets, reference time 1000000 // 64000 = 15; run of 20 small
    # deltas, run of 10 lost.
    assert data[12:20] == bytes.fromhex("0000001e" + "00000f00")
    assert data[20:24] == bytes.fromhex("2014000a")
    assert parse_one(data).arrival_times_us == arrivals


def test_short_mixed_runs_use_one_bit_status_vectors() -> None:
    arrivals: list[int | None] = [250 * i if i % 2 == 0 else None for i in range(14)]
    data = _native.RtcpTransportFeedback(arrival_times_us=arrivals).serialize()
    # 14 one-bit symbols 1,0,1,0,...: 0x8000 | 0b10101010101010.
    assert data[20:22] == (0x8000 | 0b10101010101010).to_bytes(2, "big")
    assert parse_one(data).arrival_times_us == arrivals


def test_negative_and_large_deltas_and_wrapping_base() -> None:
    arrivals: list[int | None] = [5_000_000, 4_990_000, None, 5_100_000, 5_100_250]
    feedback = _native.RtcpTransportFeedback(base_sequence=65534, arrival_times_us=arrivals)
    parsed = parse_one(feedback.serialize())
    assert parsed.base_sequence == 65534
    assert parsed.arrival_times_us == arrivals


def test_arrivals_are_rounded_to_250_us() -> None:
    data = _native.RtcpTransportFeedback(arrival_times_us=[64_000, 64_130, 64_380]).serialize()
    assert parse_one(data).arrival_times_us == [64_000, 64_250, 64_500]


def test_zero_padding_without_the_padding_bit_is_accepted() -> None:
    data = bytes.fromhex("8fcd0006" + TWCC.hex()[8:-4] + "0000")
    assert parse_one(data).arrival_times_us == TWCC_ARRIVALS


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bytes.fromhex("8fcd0003" + SSRC_A + SSRC_B + "000a0004"), "body of 12 bytes"),
        (bytes.fromhex("8fcd0004" + SSRC_A + SSRC_B + "000a0004" + "00000107"), "chunks"),
        (
            bytes.fromhex("8fcd0005" + SSRC_A + SSRC_B + "000a0001" + "00000107" + "60010000"),
            "reserved status symbol 3",
        ),
        (
            bytes.fromhex("8fcd0005" + SSRC_A + SSRC_B + "000a0003" + "00000107" + "20030400"),
            "deltas are truncated",
        ),
        (
            bytes.fromhex("8fcd0005" + SSRC_A + SSRC_B + "000a0002" + "00000107" + "40020000"),
            "deltas are truncated",
        ),
    ],
)
def test_malformed_feedback_raises_rtp_error(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        _native.parse_rtcp(data)


@pytest.mark.parametrize(
    ("arrivals", "reason"),
    [
        ([0, 9_000_000], "within -8192..8191 ms"),
        ([2**23 * 64_000 + 9_000_000], "within -8192..8191 ms"),
    ],
)
def test_unwritable_feedback_raises_value_error(arrivals: list[int | None], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        _native.RtcpTransportFeedback(arrival_times_us=arrivals).serialize()


def test_first_arrival_past_the_reference_range_rides_on_a_large_delta() -> None:
    arrivals: list[int | None] = [2**23 * 64_000 + 1_000]
    data = _native.RtcpTransportFeedback(arrival_times_us=arrivals).serialize()
    assert data[16:19] == bytes.fromhex("7fffff")
    assert parse_one(data).arrival_times_us == arrivals


def test_bad_fields_raise_value_error() -> None:
    with pytest.raises(ValueError, match="base_sequence"):
        _native.RtcpTransportFeedback(base_sequence=65536)
    with pytest.raises(ValueError, match="feedback_count"):
        _native.RtcpTransportFeedback(feedback_count=256)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-(2**22), 2**22),
    st.lists(st.one_of(st.none(), st.integers(-8000, 8000)), max_size=300),
    st.integers(0, 65535),
)
def test_any_feedback_round_trips(
    reference_64ms: int, steps: list[int | None], base_sequence: int
) -> None:
    arrivals: list[int | None] = []
    now_us = reference_64ms * 64_000
    for step in steps:
        if step is None:
            arrivals.append(None)
        else:
            now_us += step * 250
            arrivals.append(now_us)
    feedback = _native.RtcpTransportFeedback(base_sequence=base_sequence, arrival_times_us=arrivals)
    parsed = parse_one(feedback.serialize())
    assert parsed.arrival_times_us == arrivals
    assert parsed.base_sequence == base_sequence


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 255)), max_size=4),
    st.integers(0, 20),
)
def test_mutated_feedback_parses_or_raises_rtp_error(
    flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(TWCC)
    for position, value in flips:
        if position < len(data):
            data[position] = value
    del data[len(data) - min(cut, len(data)) :]
    try:
        packets = _native.parse_rtcp(bytes(data))
    except RtpError:
        return
    assert _native.parse_rtcp(_native.serialize_rtcp(packets)) is not None
