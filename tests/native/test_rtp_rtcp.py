"""Compound RTCP through its binding: SR, RR, SDES, BYE (RFC 3550 section 6),
generic NACK and PLI (RFC 4585 section 6), FIR (RFC 5104 section 4.3.1) and
REMB (draft-alvestrand-rmcat-remb-03): byte vectors written by hand from the
RFCs' figures, round trips, and malformed, truncated and random input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.errors import RtpError

SSRC_A = "11223344"
SSRC_B = "55667788"

# Report block about SSRC_B: fraction 0x40, cumulative lost -2 (0xfffffe),
# extended highest 0x00010005, jitter 0x20, LSR 0xabcdef01, DLSR 0x00010000.
BLOCK = SSRC_B + "40fffffe" + "00010005" + "00000020" + "abcdef01" + "00010000"
# SR: V=2 RC=1 PT=200 length 12 words; SSRC_A, NTP 0x0102030405060708,
# RTP ts 0x0a0b0c0d, 7 packets, 700 octets, one block.
SR = bytes.fromhex(
    "81c8000c" + SSRC_A + "0102030405060708" + "0a0b0c0d" + "00000007" + "000002bc" + BLOCK
)
# RR: V=2 RC=0 PT=201 length 1.
RR = bytes.fromhex("80c90001" + SSRC_A)
# SDES: one chunk, CNAME "ab", END, padding to the word.
SDES = bytes.fromhex("81ca0003" + SSRC_A + "01026162" + "00000000")
# BYE: one SSRC, reason "x" padded to the word.
BYE = bytes.fromhex("81cb0002" + SSRC_A + "01780000")
# Generic NACK (PT 205, FMT 1): PID 100, BLP 0b101 -> 100, 101, 103.
NACK = bytes.fromhex("81cd0003" + SSRC_A + SSRC_B + "00640005")
# PLI (PT 206, FMT 1).
PLI = bytes.fromhex("81ce0002" + SSRC_A + SSRC_B)
# FIR (PT 206, FMT 4): media SSRC 0, one entry for SSRC_B with seq 9.
FIR = bytes.fromhex("84ce0004" + SSRC_A + "00000000" + SSRC_B + "09000000")
# REMB (PT 206, FMT 15): "REMB", 1 SSRC, exponent 3, mantissa 187500
# (0x2dc6c): 1.5 Mbit/s.
REMB = bytes.fromhex("8fce0005" + SSRC_A + "00000000" + "52454d42" + "010edc6c" + SSRC_B)
# An APP packet (PT 204), kept whole.
APP = bytes.fromhex("80cc0002" + SSRC_A + "6e616d65")
ALL = [SR, RR, SDES, BYE, NACK, PLI, FIR, REMB, APP]


def test_sender_report_fields_match_the_hand_written_vector() -> None:
    (sr,) = _native.parse_rtcp(SR)
    assert isinstance(sr, _native.RtcpSenderReport)
    assert sr.ssrc == 0x11223344
    assert sr.ntp_timestamp == 0x0102030405060708
    assert sr.rtp_timestamp == 0x0A0B0C0D
    assert (sr.packet_count, sr.octet_count) == (7, 700)
    (block,) = sr.report_blocks
    assert block.ssrc == 0x55667788
    assert block.fraction_lost == 0x40
    assert block.cumulative_lost == -2
    assert block.extended_highest_sequence == 0x00010005
    assert block.jitter == 0x20
    assert block.last_sr == 0xABCDEF01
    assert block.delay_since_last_sr == 0x10000


def test_each_packet_parses_to_its_class_with_its_fields() -> None:
    packets = _native.parse_rtcp(b"".join(ALL))
    assert [type(p).__name__ for p in packets] == [
        "RtcpSenderReport",
        "RtcpReceiverReport",
        "RtcpSdes",
        "RtcpBye",
        "RtcpNack",
        "RtcpPli",
        "RtcpFir",
        "RtcpRemb",
        "RtcpUnknown",
    ]
    _, rr, sdes, bye, nack, pli, fir, remb, app = packets
    assert isinstance(rr, _native.RtcpReceiverReport)
    assert (rr.ssrc, rr.report_blocks) == (0x11223344, [])
    assert isinstance(sdes, _native.RtcpSdes)
    assert sdes.chunks[0].ssrc == 0x11223344
    assert sdes.chunks[0].cname == "ab"
    assert sdes.chunks[0].items == [(1, b"ab")]
    assert isinstance(bye, _native.RtcpBye)
    assert (bye.ssrcs, bye.reason) == ([0x11223344], "x")
    assert isinstance(nack, _native.RtcpNack)
    assert (nack.sender_ssrc, nack.media_ssrc) == (0x11223344, 0x55667788)
    assert nack.sequence_numbers == [100, 101, 103]
    assert isinstance(pli, _native.RtcpPli)
    assert (pli.sender_ssrc, pli.media_ssrc) == (0x11223344, 0x55667788)
    assert isinstance(fir, _native.RtcpFir)
    assert fir.entries == [(0x55667788, 9)]
    assert isinstance(remb, _native.RtcpRemb)
    assert remb.bitrate_bps == 1_500_000
    assert remb.ssrcs == [0x55667788]
    assert isinstance(app, _native.RtcpUnknown)
    assert (app.packet_type, app.count, app.body) == (204, 0, bytes.fromhex(SSRC_A + "6e616d65"))


def test_writing_the_fields_gives_the_hand_written_vectors() -> None:
    block = _native.RtcpReportBlock(
        ssrc=0x55667788,
        fraction_lost=0x40,
        cumulative_lost=-2,
        extended_highest_sequence=0x00010005,
        jitter=0x20,
        last_sr=0xABCDEF01,
        delay_since_last_sr=0x10000,
    )
    a, b = 0x11223344, 0x55667788
    written = [
        _native.RtcpSenderReport(
            ssrc=a,
            ntp_timestamp=0x0102030405060708,
            rtp_timestamp=0x0A0B0C0D,
            packet_count=7,
            octet_count=700,
            report_blocks=[block],
        ),
        _native.RtcpReceiverReport(ssrc=a),
        _native.RtcpSdes(chunks=[_native.RtcpSdesChunk(ssrc=a, cname="ab")]),
        _native.RtcpBye(ssrcs=[a], reason="x"),
        _native.RtcpNack(sender_ssrc=a, media_ssrc=b, sequence_numbers=[100, 101, 103]),
        _native.RtcpPli(sender_ssrc=a, media_ssrc=b),
        _native.RtcpFir(sender_ssrc=a, entries=[(b, 9)]),
        _native.RtcpRemb(sender_ssrc=a, bitrate_bps=1_500_000, ssrcs=[b]),
        _native.RtcpUnknown(packet_type=204, body=bytes.fromhex(SSRC_A + "6e616d65")),
    ]
    for packet, expected in zip(written, ALL, strict=True):
        assert packet.serialize() == expected, type(packet).__name__
    assert _native.serialize_rtcp(written) == b"".join(ALL)


def test_compound_round_trips_byte_for_byte() -> None:
    data = b"".join(ALL)
    assert _native.serialize_rtcp(_native.parse_rtcp(data)) == data


def test_nack_is_packed_into_pid_and_blp_across_the_wrap() -> None:
    lost = [65530, 65535, 0, 9, 10, 40]
    nack = _native.RtcpNack(sender_ssrc=1, media_ssrc=2, sequence_numbers=lost)
    data = nack.serialize()
    # 65530 with 65535 (bit 4), 0 (bit 5), 9 (bit 14); 10 is 16 away: bit 15;
    # 40 opens a second entry.
    assert data[12:] == bytes.fromhex("fffa" + "c030" + "0028" + "0000")
    (parsed,) = _native.parse_rtcp(data)
    assert isinstance(parsed, _native.RtcpNack)
    assert parsed.sequence_numbers == lost


def test_remb_rounds_down_to_an_18_bit_mantissa() -> None:
    for bitrate_bps in [0, 1, 262_143, 262_144, 1_234_567, 30_000_000, 2**40 + 12345]:
        (parsed,) = _native.parse_rtcp(_native.RtcpRemb(bitrate_bps=bitrate_bps).serialize())
        assert isinstance(parsed, _native.RtcpRemb)
        assert parsed.bitrate_bps <= bitrate_bps
        assert parsed.bitrate_bps >= bitrate_bps * (1 - 2**-17)


def test_sdes_keeps_every_item_and_pads_each_chunk() -> None:
    chunks = [
        _native.RtcpSdesChunk(ssrc=1, cname="alice@example", items=[(2, b"Alice")]),
        _native.RtcpSdesChunk(ssrc=2, items=[(8, b"\x01priv")]),
        _native.RtcpSdesChunk(ssrc=3),
    ]
    data = _native.RtcpSdes(chunks=chunks).serialize()
    assert len(data) % 4 == 0
    (parsed,) = _native.parse_rtcp(data)
    assert isinstance(parsed, _native.RtcpSdes)
    assert [c.ssrc for c in parsed.chunks] == [1, 2, 3]
    assert parsed.chunks[0].items == [(1, b"alice@example"), (2, b"Alice")]
    assert parsed.chunks[1].cname is None
    assert parsed.chunks[1].items == [(8, b"\x01priv")]
    assert parsed.chunks[2].items == []


def test_padding_is_removed_from_the_last_packet() -> None:
    # RR with the P bit and 4 bytes of padding ending in the count 4.
    data = bytes.fromhex("a0c90002" + SSRC_A + "00000004")
    (rr,) = _native.parse_rtcp(data)
    assert isinstance(rr, _native.RtcpReceiverReport)
    assert rr.ssrc == 0x11223344


def test_unknown_body_of_odd_length_is_padded_and_round_trips() -> None:
    data = _native.RtcpUnknown(packet_type=204, count=3, body=b"abcde").serialize()
    assert data == bytes.fromhex("a3cc0002") + b"abcde" + bytes.fromhex("000003")
    (parsed,) = _native.parse_rtcp(data)
    assert isinstance(parsed, _native.RtcpUnknown)
    assert (parsed.packet_type, parsed.count, parsed.body) == (204, 3, b"abcde")


def test_is_rtcp_packet_demultiplexes_by_the_second_byte() -> None:
    assert _native.is_rtcp_packet(SR)
    assert _native.is_rtcp_packet(PLI)
    assert not _native.is_rtcp_packet(bytes.fromhex("80e0123411223344aabbccdd"))
    assert not _native.is_rtcp_packet(b"\x80")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty RTCP packet"),
        (RR[:3], "truncated RTCP header"),
        (bytes([0x40]) + RR[1:], "version must be 2, got 1"),
        (RR + RR[:2], "truncated RTCP header: 2 bytes at offset 8"),
        (RR[:7], "RR at offset 0 claims 8 bytes, 7 remain"),
        (bytes.fromhex("80c90000"), "RR body of 0 bytes has no SSRC"),
        (bytes.fromhex("a0c90001" + "00000000"), "padding count 0"),
        (bytes.fromhex("a0c90001" + "00000009"), "padding count 9"),
        (bytes.fromhex("81c90001" + SSRC_A), "announces 1 report blocks"),
        (bytes.fromhex("80c80001" + SSRC_A), "sender info needs 24"),
        (bytes.fromhex("82ca0003" + SSRC_A + "01026162" + "00000000"), "chunk 1 is missing"),
        (bytes.fromhex("81ca0002" + SSRC_A + "01026162"), "without its END"),
        (bytes.fromhex("81ca0002" + SSRC_A + "01056162"), "runs past the end"),
        (bytes.fromhex("81ca0002" + SSRC_A + "01016102"), "item header is truncated"),
        (bytes.fromhex("82cb0001" + SSRC_A), "BYE announces 2 SSRCs"),
        (bytes.fromhex("81cb0002" + SSRC_A + "05780000"), "BYE reason of 5 bytes"),
        (bytes.fromhex("81cd0002" + SSRC_A + SSRC_B), "NACK needs whole"),
        (bytes.fromhex("81cd0001" + SSRC_A), "the SSRCs need 8"),
        (bytes.fromhex("81ce0001" + SSRC_A), "the SSRCs need 8"),
        (bytes.fromhex("84ce0002" + SSRC_A + SSRC_B), "FIR needs whole"),
        (
            bytes.fromhex("84ce0005" + SSRC_A + "00000000" + SSRC_B + "09000000" + "00000000"),
            "FIR needs whole",
        ),
        (bytes.fromhex("8fce0003" + SSRC_A + "00000000" + "52454d42"), "REMB body of 12"),
        (
            bytes.fromhex("8fce0004" + SSRC_A + "00000000" + "52454d42" + "020edc6c"),
            "REMB announces 2 SSRCs",
        ),
    ],
)
def test_malformed_rtcp_raises_rtp_error_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        _native.parse_rtcp(data)


def test_a_malformed_packet_rejects_the_whole_compound() -> None:
    with pytest.raises(RtpError, match="offset 24"):
        _native.parse_rtcp(RR + SDES + bytes.fromhex("80c90003" + SSRC_A))


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (_native.RtcpReceiverReport(report_blocks=[_native.RtcpReportBlock()] * 32), "at most 31"),
        (
            _native.RtcpReceiverReport(report_blocks=[_native.RtcpReportBlock(fraction_lost=256)]),
            "fraction_lost",
        ),
        (
            _native.RtcpReceiverReport(
                report_blocks=[_native.RtcpReportBlock(cumulative_lost=2**23)]
            ),
            "cumulative_lost",
        ),
        (_native.RtcpSdes(chunks=[_native.RtcpSdesChunk(items=[(0, b"x")])]), "item type"),
        (_native.RtcpSdes(chunks=[_native.RtcpSdesChunk(cname="x" * 256)]), "at most 255"),
        (_native.RtcpBye(reason="x" * 256), "at most 255"),
        (_native.RtcpNack(), "at least one"),
        (_native.RtcpNack(sequence_numbers=[65536]), "0..65535"),
        (_native.RtcpFir(), "at least one"),
        (_native.RtcpFir(entries=[(1, 256)]), "0..255"),
        (_native.RtcpRemb(ssrcs=list(range(256))), "at most 255"),
        (_native.RtcpUnknown(packet_type=204, body=bytes(262141)), "at most 262140"),
        (
            _native.RtcpSdes(chunks=[_native.RtcpSdesChunk(items=[(2, bytes(255))] * 1100)]),
            "at most 65535 words",
        ),
        (_native.RtcpUnknown(packet_type=204, count=32), "count"),
    ],
)
def test_unwritable_rtcp_raises_value_error(packet: _native.RtcpSdes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        packet.serialize()
    with pytest.raises(ValueError, match=reason):
        _native.serialize_rtcp([packet])


def test_bad_arguments_raise_type_or_value_error() -> None:
    with pytest.raises(TypeError, match="Rtcp"):
        _native.serialize_rtcp([b"\x80\xc9"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="ssrc"):
        _native.RtcpPli(sender_ssrc=2**32)
    with pytest.raises(ValueError, match="ssrc"):
        _native.RtcpBye(ssrcs=[-1])
    with pytest.raises(TypeError):
        _native.parse_rtcp(12)  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_parse_or_raise_rtp_error(data: bytes) -> None:
    try:
        packets = _native.parse_rtcp(data)
    except RtpError:
        return
    # Whatever parsed can be written and parsed again to the same types.
    again = _native.parse_rtcp(_native.serialize_rtcp(packets))
    assert [type(p) for p in again] == [type(p) for p in packets]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(ALL), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), max_size=4),
    st.integers(0, 40),
)
def test_mutated_valid_compounds_parse_or_raise_rtp_error(
    parts: list[bytes], flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(b"".join(parts))
    for position, value in flips:
        if position < len(data):
            data[position] = value
    del data[len(data) - min(cut, len(data)) :]
    try:
        _native.parse_rtcp(bytes(data))
    except RtpError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 65535), min_size=1, max_size=60).map(lambda s: sorted(set(s))),
    st.integers(0, 2**32 - 1),
)
def test_any_nack_list_round_trips(lost: list[int], media_ssrc: int) -> None:
    data = _native.RtcpNack(sender_ssrc=1, media_ssrc=media_ssrc, sequence_numbers=lost).serialize()
    (parsed,) = _native.parse_rtcp(data)
    assert isinstance(parsed, _native.RtcpNack)
    assert parsed.sequence_numbers == lost
    assert parsed.media_ssrc == media_ssrc


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**64 - 1),
    st.lists(
        st.tuples(
            st.integers(0, 2**32 - 1),
            st.integers(0, 255),
            st.integers(-(2**23), 2**23 - 1),
            st.integers(0, 2**32 - 1),
        ),
        max_size=31,
    ),
)
def test_any_sender_report_round_trips(
    ssrc: int, ntp_timestamp: int, blocks: list[tuple[int, int, int, int]]
) -> None:
    report_blocks = [
        _native.RtcpReportBlock(
            ssrc=s, fraction_lost=f, cumulative_lost=c, extended_highest_sequence=e, jitter=e
        )
        for s, f, c, e in blocks
    ]
    sr = _native.RtcpSenderReport(
        ssrc=ssrc, ntp_timestamp=ntp_timestamp, report_blocks=report_blocks
    )
    (parsed,) = _native.parse_rtcp(sr.serialize())
    assert isinstance(parsed, _native.RtcpSenderReport)
    assert (parsed.ssrc, parsed.ntp_timestamp) == (ssrc, ntp_timestamp)
    got = [
        (b.ssrc, b.fraction_lost, b.cumulative_lost, b.extended_highest_sequence)
        for b in parsed.report_blocks
    ]
    assert got == blocks
