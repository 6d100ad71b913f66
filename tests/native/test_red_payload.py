"""RFC 2198 RED payloads: packing, parsing, malformed input, and a fuzz
target for the parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.errors import CodecError


def test_blocks_come_back_oldest_first_with_the_primary_last() -> None:
    payload = _native.red_pack(
        b"primary", payload_type=111, redundant=[(b"older", 1920, 111), (b"old", 960, 96)]
    )
    assert _native.red_unpack(payload) == [
        (111, 1920, b"older"),
        (96, 960, b"old"),
        (111, 0, b"primary"),
    ]


def test_header_layout_follows_rfc_2198() -> None:
    payload = _native.red_pack(b"P", payload_type=111, redundant=[(b"RR", 16383, 100)])
    # F=1|PT=100, offset 16383 in 14 bits, length 2 in 10 bits, then F=0|PT=111.
    assert payload[:5] == bytes([0x80 | 100, 0xFF, 0xFC, 0x02, 111])
    assert payload[5:] == b"RRP"


def test_no_redundancy_is_a_one_byte_header() -> None:
    assert _native.red_pack(b"x", payload_type=5) == b"\x05x"
    assert _native.red_unpack(b"\x05x") == [(5, 0, b"x")]
    assert _native.red_unpack(b"\x05") == [(5, 0, b"")]


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x80", b"\x80\x00\x00", b"\xef\x00\x00\x05ab", b"\xef\x00\x00\x01"],
    ids=["empty", "header-1-byte", "header-3-bytes", "block-past-end", "no-primary-header"],
)
def test_malformed_payload_raises_codec_error(payload: bytes) -> None:
    with pytest.raises(CodecError, match="malformed RED"):
        _native.red_unpack(payload)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"payload_type": 128}, "payload_type"),
        ({"payload_type": 0, "redundant": [(b"x", 16384, 0)]}, "timestamp_offset"),
        ({"payload_type": 0, "redundant": [(b"x", -1, 0)]}, "timestamp_offset"),
        ({"payload_type": 0, "redundant": [(b"x", 0, 200)]}, "payload_type"),
        ({"payload_type": 0, "redundant": [(bytes(1024), 0, 0)]}, "1023 bytes"),
        ({"payload_type": 0, "redundant": [(b"x", 0)]}, "redundant entry"),
    ],
)
def test_bad_pack_arguments_raise_value_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _native.red_pack(b"primary", **kwargs)  # type: ignore[arg-type]


blocks = st.lists(
    st.tuples(st.binary(max_size=1023), st.integers(0, 16383), st.integers(0, 127)), max_size=4
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 127), blocks)
def test_pack_then_unpack_is_the_identity(
    primary: bytes, payload_type: int, redundant: list[tuple[bytes, int, int]]
) -> None:
    payload = _native.red_pack(primary, payload_type=payload_type, redundant=redundant)
    expected = [(pt, offset, data) for data, offset, pt in redundant]
    assert _native.red_unpack(payload) == [*expected, (payload_type, 0, primary)]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_unpack_never_crashes(payload: bytes) -> None:
    """Fuzz target of the parser: any bytes either parse into blocks that
    account for the whole payload, or raise CodecError."""
    try:
        parsed = _native.red_unpack(payload)
    except CodecError:
        return
    headers = 4 * (len(parsed) - 1) + 1
    assert headers + sum(len(block) for _, _, block in parsed) == len(payload)
    assert parsed[-1][1] == 0
