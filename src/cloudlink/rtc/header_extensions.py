"""RTP header extensions (RFC 8285) CloudLink writes and reads: their URIs,
the ids we offer, and the byte layout of each element.

- audio level, RFC 6464: one byte, V (voice activity) then the level in
  -dBov (0 loudest .. 127 silence);
- abs-send-time (webrtc.org/experiments/rtp-hdrext/abs-send-time): 24 bits,
  the send time in seconds as 6.18 fixed point, wrapping every 64 s;
- transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-
  extensions-01 section 2): 16 bits counting every packet of the transport;
- MID (RFC 8843 section 15): the sender's media section, its ``a=mid``
  token as bytes, by which a BUNDLE receiver routes a stream it has not
  seen signaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cloudlink.errors import ConfigError

__all__ = [
    "ABS_SEND_TIME_URI",
    "AUDIO_LEVEL_URI",
    "MID_URI",
    "TRANSPORT_SEQUENCE_URI",
    "HeaderExtensionIds",
    "abs_send_time",
    "abs_send_time_delta_ms",
    "abs_send_time_ms",
    "audio_level",
    "parse_audio_level",
    "parse_transport_sequence",
    "sdes_mid",
    "transport_sequence",
]

AUDIO_LEVEL_URI: Final = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME_URI: Final = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
TRANSPORT_SEQUENCE_URI: Final = (
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
)
MID_URI: Final = "urn:ietf:params:rtp-hdrext:sdes:mid"

# abs-send-time: 18 fractional bits, 24 bits in all (64 s of range).
_ABS_SEND_TIME_FRACTION_BITS: Final = 18
_ABS_SEND_TIME_MASK: Final = (1 << 24) - 1
_ABS_SEND_TIME_RANGE_MS: Final = 64_000.0


@dataclass(frozen=True)
class HeaderExtensionIds:
    """The one-byte-form ids (1..14) agreed for each extension; 0 leaves it
    out. The defaults are the ids Chromium offers, without the MID; an
    answer to a browser's offer takes its ids
    (:func:`cloudlink.rtc.session_description.parse_offer`)."""

    audio_level: int = 1
    abs_send_time: int = 2
    transport_sequence: int = 3
    mid: int = 0

    def __post_init__(self) -> None:
        ids = [self.audio_level, self.abs_send_time, self.transport_sequence, self.mid]
        for value in ids:
            if not 0 <= value <= 14:
                raise ConfigError(f"header extension ids must be within 0..14, got {value}")
        used = [value for value in ids if value]
        if len(set(used)) != len(used):
            raise ConfigError(f"header extension ids must differ, got {ids}")


def audio_level(level: int, *, voice: bool) -> bytes:
    """RFC 6464 section 3: the element for ``level`` (-dBov, 0..127)."""
    if not 0 <= level <= 127:
        raise ConfigError(f"audio level must be within 0..127 (-dBov), got {level}")
    return bytes([(0x80 if voice else 0) | level])


def parse_audio_level(data: bytes) -> tuple[int, bool]:
    """(level in -dBov, voice activity) of an RFC 6464 element."""
    if len(data) < 1:
        raise ConfigError("an audio level element holds one byte, got none")
    return data[0] & 0x7F, bool(data[0] & 0x80)


def abs_send_time(time_ms: float) -> bytes:
    """The abs-send-time element for a send time of ``time_ms`` (any epoch)."""
    value = int(time_ms * (1 << _ABS_SEND_TIME_FRACTION_BITS) / 1000.0)
    return (value & _ABS_SEND_TIME_MASK).to_bytes(3, "big")


def abs_send_time_ms(data: bytes) -> float:
    """The send time (ms, modulo 64 s) an abs-send-time element carries."""
    if len(data) != 3:
        raise ConfigError(f"an abs-send-time element holds 3 bytes, got {len(data)}")
    return int.from_bytes(data, "big") * 1000.0 / (1 << _ABS_SEND_TIME_FRACTION_BITS)


def abs_send_time_delta_ms(later: float, earlier: float) -> float:
    """``later - earlier`` of two abs-send-time values, across the 64 s wrap."""
    delta = (later - earlier) % _ABS_SEND_TIME_RANGE_MS
    return delta - _ABS_SEND_TIME_RANGE_MS if delta >= _ABS_SEND_TIME_RANGE_MS / 2 else delta


def transport_sequence(sequence_number: int) -> bytes:
    """The transport-wide sequence number element (16 bits)."""
    return (sequence_number & 0xFFFF).to_bytes(2, "big")


def sdes_mid(mid: str) -> bytes:
    """RFC 8843 section 15: the MID element, 1..16 bytes of the token."""
    data = mid.encode("ascii", errors="replace")
    if not 1 <= len(data) <= 16:
        raise ConfigError(f"a MID element holds 1..16 bytes, got {len(data)}")
    return data


def parse_transport_sequence(data: bytes) -> int:
    """The transport-wide sequence number an element carries."""
    if len(data) != 2:
        raise ConfigError(f"a transport-wide sequence element holds 2 bytes, got {len(data)}")
    return int.from_bytes(data, "big")
