"""What the SFU reads of one incoming RTP datagram, parsed once and shared
by every subscriber it is forwarded to (RFC 3550 section 5.1, RFC 7741
section 4.2 for VP8, RFC 6464 for the audio level)."""

from __future__ import annotations

from typing import Final

from cloudlink import _native
from cloudlink.sfu.vp8_descriptor import Vp8DescriptorLayout, vp8_descriptor_layout

__all__ = ["RtpView", "parse_rtp_view"]

# Bytes of the fixed RTP header (RFC 3550 section 5.1): sequence number at
# offset 2, timestamp at 4, SSRC at 8.
RTP_HEADER_BYTES: Final = 12
# RFC 6464 section 3: the one-byte extension carries V in its top bit and
# the level (0 loudest .. 127 silent, in -dBov) in the other seven.
_AUDIO_LEVEL_MASK: Final = 0x7F


class RtpView:
    """One datagram and its fields. ``sequence`` is the publisher's
    sequence number unwrapped to 64 bits by the track. VP8 fields are None
    (and ``temporal_layer_id`` None) for audio or a descriptor without
    them."""

    __slots__ = (
        "audio_level",
        "data",
        "frame_start",
        "keyframe",
        "layer_sync",
        "layout",
        "marker",
        "payload_bytes",
        "payload_offset",
        "picture_id",
        "sequence",
        "sequence_number",
        "ssrc",
        "temporal_layer_id",
        "timestamp",
        "tl0_pic_idx",
    )

    def __init__(self, data: bytes, packet: _native.RtpPacket, payload: bytes) -> None:
        self.data = data
        self.sequence_number: int = packet.sequence_number
        self.timestamp: int = packet.timestamp
        self.ssrc: int = packet.ssrc
        self.marker: bool = packet.marker
        self.payload_bytes = len(payload)
        self.payload_offset = len(data) - packet.padding_bytes - len(payload)
        self.sequence = 0
        self.audio_level: int | None = None
        self.frame_start = True
        self.keyframe = False
        self.layer_sync = False
        self.temporal_layer_id: int | None = None
        self.picture_id: int | None = None
        self.tl0_pic_idx: int | None = None
        self.layout: Vp8DescriptorLayout | None = None


def parse_rtp_view(data: bytes, *, vp8: bool, audio_level_extension_id: int | None) -> RtpView:
    """Parses ``data``; raises ``cloudlink.errors.RtpError`` (RTP) or
    ``CodecError`` (VP8 descriptor) when it is malformed."""
    packet = _native.RtpPacket.parse(data)
    payload = packet.payload
    view = RtpView(data, packet, payload)
    if audio_level_extension_id is not None:
        level = packet.get_extension(audio_level_extension_id)
        if level:
            view.audio_level = level[0] & _AUDIO_LEVEL_MASK
    if vp8 and payload:
        descriptor = _native.vp8_depacketize(payload)
        view.frame_start = descriptor.frame_start
        view.keyframe = bool(descriptor.keyframe)
        view.layer_sync = descriptor.layer_sync
        view.temporal_layer_id = descriptor.temporal_layer_id
        view.picture_id = descriptor.picture_id
        view.tl0_pic_idx = descriptor.tl0_pic_idx
        view.layout = vp8_descriptor_layout(payload)
    return view
