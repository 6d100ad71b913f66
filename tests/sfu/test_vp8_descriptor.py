"""The in-place VP8 descriptor rewrite agrees with the native parser and
writer (RFC 7741 section 4.2), and never reads past a short payload."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cloudlink import _native
from cloudlink.sfu.vp8_descriptor import rewrite_vp8_descriptor, vp8_descriptor_layout


@given(
    picture_id_bits=st.sampled_from([7, 15, None]),
    tl0=st.one_of(st.none(), st.integers(0, 255)),
    tid=st.one_of(st.none(), st.integers(0, 3)),
    old_picture_id=st.integers(0, 2**15 - 1),
    new_picture_id=st.integers(0, 2**15 - 1),
    new_tl0=st.integers(0, 255),
    body=st.binary(min_size=1, max_size=20),
)
def test_rewrite_matches_the_native_descriptor(
    picture_id_bits: int | None,
    tl0: int | None,
    tid: int | None,
    old_picture_id: int,
    new_picture_id: int,
    new_tl0: int,
    body: bytes,
) -> None:
    def descriptor(picture_id: int, tl0_pic_idx: int | None) -> bytes:
        if picture_id_bits is None:
            return _native.vp8_payload_descriptor(
                start_of_partition=False, tl0_pic_idx=tl0_pic_idx, temporal_layer_id=tid
            )
        return _native.vp8_payload_descriptor(
            start_of_partition=False,
            picture_id=picture_id % (1 << picture_id_bits),
            picture_id_bits=7 if picture_id_bits == 7 else 15,
            tl0_pic_idx=tl0_pic_idx,
            temporal_layer_id=tid,
        )

    payload = bytearray(b"\x00\x00" + descriptor(old_picture_id, tl0) + body)
    layout = vp8_descriptor_layout(payload, 2)
    rewrite_vp8_descriptor(payload, 2, layout, picture_id=new_picture_id, tl0_pic_idx=new_tl0)
    expected = descriptor(new_picture_id, None if tl0 is None else new_tl0) + body
    assert bytes(payload[2:]) == expected
    parsed = _native.vp8_depacketize(bytes(payload[2:]))
    assert parsed.data == body


@given(st.binary(max_size=8))
def test_layout_of_any_bytes_stays_inside_them(data: bytes) -> None:
    layout = vp8_descriptor_layout(data)
    buffer = bytearray(data)
    rewrite_vp8_descriptor(buffer, 0, layout, picture_id=0x7FFF, tl0_pic_idx=0xFF)
    assert len(buffer) == len(data)
    for offset in (layout.picture_id_offset, layout.tl0_pic_idx_offset):
        assert offset < len(data)
