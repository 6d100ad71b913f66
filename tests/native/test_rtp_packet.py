"""RtpPacket through its binding: RFC 3550 section 5.1 header fields, RFC 8285
one-byte and two-byte header extensions, padding, CSRCs, byte vectors written
by hand from the RFCs' figures, and every kind of malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.errors import RtpError

# V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq 0x1234 | ts 0x11223344 | SSRC 0xAABBCCDD | "hi"
PLAIN = bytes.fromhex("80e0123411223344aabbccdd") + b"hi"

# X=1, one-byte form (RFC 8285 4.2): 0xBEDE, 2 words; id 1 L=0 [0x80],
# id 2 L=3 [01 02 03 04], one padding byte.
ONE_BYTE = (
    bytes.fromhex("906f0001000000020000000b" + "bede0002" + "1080" + "2301020304" + "00") + b"p"
)

# X=1, two-byte form (RFC 8285 4.3) with appbits 5: 0x1005, 2 words;
# id 1 len 0, id 0x10 len 2 [aa bb], padding to the word.
TWO_BYTE = bytes.fromhex("9060000100000002000000031005000201001002aabb0000") + b"q"


def test_plain_packet_fields_match_the_hand_written_vector() -> None:
    packet = _native.RtpPacket.parse(PLAIN)
    assert packet.marker is True
    assert packet.payload_type == 96
    assert packet.sequence_number == 0x1234
    assert packet.timestamp == 0x11223344
    assert packet.ssrc == 0xAABBCCDD
    assert packet.csrcs == []
    assert packet.payload == b"hi"
    assert packet.extensions == {}
    assert packet.padding_bytes == 0
    assert packet.serialize() == PLAIN


def test_writing_the_fields_gives_the_hand_written_vector() -> None:
    packet = _native.RtpPacket(
        payload_type=96,
        sequence_number=0x1234,
        timestamp=0x11223344,
        ssrc=0xAABBCCDD,
        marker=True,
        payload=b"hi",
    )
    assert packet.serialize() == PLAIN


def test_one_byte_extensions_are_read_by_id() -> None:
    packet = _native.RtpPacket.parse(ONE_BYTE)
    assert packet.extensions == {1: b"\x80", 2: b"\x01\x02\x03\x04"}
    assert packet.get_extension(2) == b"\x01\x02\x03\x04"
    assert packet.get_extension(3) is None
    assert packet.two_byte_extensions is False
    assert packet.payload == b"p"
    assert packet.serialize() == ONE_BYTE


def test_two_byte_extensions_allow_empty_data_and_keep_their_form() -> None:
    packet = _native.RtpPacket.parse(TWO_BYTE)
    assert packet.extensions == {1: b"", 0x10: b"\xaa\xbb"}
    assert packet.two_byte_extensions is True
    assert packet.payload == b"q"
    # Written back with profile 0x1000 (appbits are not kept).
    assert packet.serialize() == TWO_BYTE[:12] + b"\x10\x00" + TWO_BYTE[14:]


def test_writer_picks_two_byte_form_only_when_an_element_needs_it() -> None:
    packet = _native.RtpPacket(extensions={1: b"\x01"})
    assert packet.serialize()[12:14] == b"\xbe\xde"
    packet.set_extension(15, b"\x02")  # id 15 is reserved in the one-byte form
    assert packet.serialize()[12:14] == b"\x10\x00"
    packet.remove_extension(15)
    packet.set_extension(2, bytes(17))  # 17 bytes do not fit one-byte elements
    assert packet.serialize()[12:14] == b"\x10\x00"
    assert _native.RtpPacket.parse(packet.serialize()).extensions == {1: b"\x01", 2: bytes(17)}


def test_one_byte_parse_stops_at_reserved_id_15() -> None:
    # id 1 L=0 [07], then id 15: its length is ignored and parsing ends.
    body = bytes([0x10, 0x07, 0xF0, 0x33, 0x00, 0x00, 0x00, 0x00])
    packet = _native.RtpPacket.parse(bytes.fromhex("900000010000000200000003bede0002") + body)
    assert packet.extensions == {1: b"\x07"}


def test_audio_level_and_abs_send_time_extensions_round_trip() -> None:
    # RFC 6464 audio level (V bit + 7-bit level) and abs-send-time (24-bit 6.18 s).
    packet = _native.RtpPacket(payload_type=111, payload=b"opus")
    packet.set_extension(1, bytes([0x80 | 42]))
    packet.set_extension(3, (123456).to_bytes(3, "big"))
    parsed = _native.RtpPacket.parse(packet.serialize())
    assert parsed.get_extension(1) == bytes([0xAA])
    assert int.from_bytes(parsed.get_extension(3) or b"", "big") == 123456
    assert parsed.remove_extension(1) is True
    assert parsed.remove_extension(1) is False
    assert parsed.extensions == {3: (123456).to_bytes(3, "big")}


def test_csrcs_and_padding_round_trip() -> None:
    packet = _native.RtpPacket(
        payload_type=0,
        sequence_number=65535,
        timestamp=2**32 - 1,
        ssrc=1,
        csrcs=[5, 2**32 - 1],
        payload=b"abc",
        padding_bytes=5,
    )
    data = packet.serialize()
    assert data[0] == 0x80 | 0x20 | 2
    assert len(data) == 12 + 8 + 3 + 5
    assert data[-5:] == b"\x00\x00\x00\x00\x05"
    parsed = _native.RtpPacket.parse(data)
    assert parsed.csrcs == [5, 2**32 - 1]
    assert parsed.payload == b"abc"
    assert parsed.padding_bytes == 5
    assert parsed.sequence_number == 65535
    assert parsed.timestamp == 2**32 - 1
    assert parsed.serialize() == data


def test_foreign_extension_profile_is_kept_whole() -> None:
    data = bytes.fromhex("900000010000000200000003abcd0001deadbeef") + b"x"
    packet = _native.RtpPacket.parse(data)
    assert packet.extension_profile == 0xABCD
    assert packet.extensions == {}
    assert packet.serialize() == data


def test_accepts_bytearray_and_memoryview() -> None:
    assert _native.RtpPacket.parse(bytearray(PLAIN)).payload == b"hi"
    assert _native.RtpPacket.parse(memoryview(PLAIN)).payload == b"hi"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated RTP packet: 0 bytes"),
        (PLAIN[:11], "fixed header needs 12"),
        (bytes([0x40]) + PLAIN[1:], "version must be 2, got 1"),
        (bytes([0x00]) + PLAIN[1:], "version must be 2, got 0"),
        (bytes([0x82]) + PLAIN[1:12] + b"\x00\x00\x00\x01", "2 CSRCs announced"),
        (bytes([0x90]) + PLAIN[1:12] + b"\xbe", "first word is missing"),
        (bytes([0x90]) + PLAIN[1:12] + b"\xbe\xde\x00\x02\x10\x80\x00\x00", "header extension"),
        (bytes([0x90]) + PLAIN[1:12] + b"\xbe\xde\x00\x01\x13\x80\x00\x00", "id 1 needs 4"),
        (bytes([0x90]) + PLAIN[1:12] + b"\x10\x00\x00\x01\x00\x00\x05\x09", "id 5 needs 9"),
        (bytes([0x90]) + PLAIN[1:12] + b"\x10\x00\x00\x01\x00\x00\x00\x07", "truncated"),
        (bytes([0xA0]) + PLAIN[1:12], "padding bit set but no byte"),
        (bytes([0xA0]) + PLAIN[1:12] + b"ab\x00", "padding count 0"),
        (bytes([0xA0]) + PLAIN[1:12] + b"ab\x04", "padding count 4"),
    ],
)
def test_malformed_packets_raise_rtp_error_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        _native.RtpPacket.parse(data)


def test_rtp_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        _native.RtpPacket.parse(b"\x80")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payload_type", 128),
        ("payload_type", -1),
        ("sequence_number", 65536),
        ("timestamp", 2**32),
        ("ssrc", -1),
        ("padding_bytes", 256),
    ],
)
def test_out_of_range_fields_raise_value_error(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        _native.RtpPacket(**{field: value})
    packet = _native.RtpPacket()
    with pytest.raises(ValueError, match=field):
        setattr(packet, field, value)


def test_unwritable_packets_raise_value_error() -> None:
    with pytest.raises(ValueError, match="at most 15 CSRCs"):
        _native.RtpPacket(csrcs=list(range(16)))
    packet = _native.RtpPacket()
    packet.csrcs = list(range(16))
    with pytest.raises(ValueError, match="at most 15 CSRCs"):
        packet.serialize()
    with pytest.raises(ValueError, match="extension id"):
        _native.RtpPacket(extensions={0: b"x"})
    with pytest.raises(ValueError, match="extension id"):
        packet.set_extension(256, b"x")
    with pytest.raises(ValueError, match="at most 255 bytes"):
        packet.set_extension(1, bytes(256))
    with pytest.raises(TypeError):
        _native.RtpPacket.parse("not bytes")  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_rtp_error(data: bytes) -> None:
    try:
        packet = _native.RtpPacket.parse(data)
    except RtpError:
        return
    # Whatever parsed writes back and parses to the same fields.
    again = _native.RtpPacket.parse(packet.serialize())
    assert again.payload == packet.payload
    assert again.extensions == packet.extensions
    assert again.sequence_number == packet.sequence_number


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([PLAIN, ONE_BYTE, TWO_BYTE]),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
    st.integers(0, 60),
)
def test_mutated_valid_packets_parse_or_raise_rtp_error(
    base: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(base)
    for position, value in flips:
        if position < len(data):
            data[position] = value
    data = data[: len(data) - cut] if cut < len(data) else data
    try:
        _native.RtpPacket.parse(bytes(data))
    except RtpError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 65535),
    timestamp=st.integers(0, 2**32 - 1),
    ssrc=st.integers(0, 2**32 - 1),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 2**32 - 1), max_size=15),
    payload=st.binary(max_size=100),
    extensions=st.dictionaries(st.integers(1, 255), st.binary(max_size=20), max_size=6),
    padding_bytes=st.integers(0, 255),
)
def test_any_valid_packet_round_trips(
    payload_type: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
    marker: bool,
    csrcs: list[int],
    payload: bytes,
    extensions: dict[int, bytes],
    padding_bytes: int,
) -> None:
    packet = _native.RtpPacket(
        payload_type=payload_type,
        sequence_number=sequence_number,
        timestamp=timestamp,
        ssrc=ssrc,
        marker=marker,
        csrcs=csrcs,
        payload=payload,
        extensions=extensions,
        padding_bytes=padding_bytes,
    )
    parsed = _native.RtpPacket.parse(packet.serialize())
    assert (parsed.payload_type, parsed.sequence_number, parsed.timestamp, parsed.ssrc) == (
        payload_type,
        sequence_number,
        timestamp,
        ssrc,
    )
    assert parsed.marker == marker
    assert parsed.csrcs == csrcs
    assert parsed.payload == payload
    assert parsed.extensions == extensions
    assert parsed.padding_bytes == padding_bytes
