"""Where the picture id and TL0PICIDX sit in a VP8 payload descriptor, and
rewriting them in place (RFC 7741 section 4.2).

    byte 0      |X|R|N|S|R| PID |
    byte 1 (X)  |I|L|T|K| RSV   |
    I           |M| PictureID   |   (M: 15 bits over two bytes, else 7)
    L           |  TL0PICIDX    |
    T or K      |TID|Y| KEYIDX  |

The native engine reads descriptors (``_native.vp8_depacketize``) and builds
them (``_native.vp8_payload_descriptor``) but has no in-place rewrite, so
an SFU forwarding a packet to many subscribers does it here, on a copy of
the datagram, without rebuilding the payload. bench/bench_sfu.py measures
it beside the native rebuild.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["Vp8DescriptorLayout", "rewrite_vp8_descriptor", "vp8_descriptor_layout"]

_X_BIT: Final = 0x80
_I_BIT: Final = 0x80
_L_BIT: Final = 0x40
_M_BIT: Final = 0x80


class Vp8DescriptorLayout(NamedTuple):
    """Offsets from the start of the payload; -1 when the field is absent."""

    picture_id_offset: int
    picture_id_bits: int
    tl0_pic_idx_offset: int


_ABSENT: Final = Vp8DescriptorLayout(-1, 0, -1)


def vp8_descriptor_layout(payload: bytes | bytearray, start: int = 0) -> Vp8DescriptorLayout:
    """The layout of the descriptor at ``payload[start:]``; fields the
    payload is too short to hold count as absent."""
    end = len(payload)
    if start >= end or not payload[start] & _X_BIT or start + 1 >= end:
        return _ABSENT
    extension = payload[start + 1]
    offset = start + 2
    picture_id_offset, picture_id_bits = -1, 0
    if extension & _I_BIT:
        if offset >= end:
            return _ABSENT
        picture_id_bits = 15 if payload[offset] & _M_BIT else 7
        picture_id_offset = offset - start
        offset += 2 if picture_id_bits == 15 else 1
    tl0_offset = -1
    if extension & _L_BIT:
        if offset >= end:
            return _ABSENT
        tl0_offset = offset - start
        offset += 1
    if offset > end:
        return _ABSENT
    return Vp8DescriptorLayout(picture_id_offset, picture_id_bits, tl0_offset)


def rewrite_vp8_descriptor(
    buffer: bytearray,
    start: int,
    layout: Vp8DescriptorLayout,
    *,
    picture_id: int,
    tl0_pic_idx: int,
) -> None:
    """Writes ``picture_id`` (kept to the descriptor's 7 or 15 bits) and
    ``tl0_pic_idx`` (8 bits) into the descriptor at ``buffer[start:]``."""
    if layout.picture_id_offset >= 0:
        at = start + layout.picture_id_offset
        if layout.picture_id_bits == 15:
            buffer[at] = _M_BIT | ((picture_id >> 8) & 0x7F)
            buffer[at + 1] = picture_id & 0xFF
        else:
            buffer[at] = picture_id & 0x7F
    if layout.tl0_pic_idx_offset >= 0:
        buffer[start + layout.tl0_pic_idx_offset] = tl0_pic_idx & 0xFF
