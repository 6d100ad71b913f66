"""What the media pipelines exchange with a transport: one RTP payload and
the header fields that go with it (RFC 3550 section 5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cloudlink.errors import ConfigError

__all__ = [
    "OPUS_CLOCK_HZ",
    "OPUS_PAYLOAD_TYPE",
    "RED_PAYLOAD_TYPE",
    "VIDEO_CLOCK_HZ",
    "VP8_PAYLOAD_TYPE",
    "RtpPayload",
]

# Opus RTP timestamps always run at 48 kHz, whatever rate is coded
# (RFC 7587 section 4.1).
OPUS_CLOCK_HZ: Final = 48000
# Dynamic payload types (RFC 3551 section 3) as Chromium offers them for
# opus/48000/2 and red/48000/2; any 96..127 pair agreed in SDP works.
OPUS_PAYLOAD_TYPE: Final = 111
RED_PAYLOAD_TYPE: Final = 63
# Video RTP timestamps run at 90 kHz (RFC 7741 section 4.1); Chromium offers
# VP8 as payload type 96.
VIDEO_CLOCK_HZ: Final = 90000
VP8_PAYLOAD_TYPE: Final = 96


@dataclass(frozen=True)
class RtpPayload:
    """An RTP payload with its sequence number (16 bits), timestamp
    (32 bits, 48 kHz for Opus, 90 kHz for video), payload type (7 bits) and
    marker bit (for video: the last payload of a frame)."""

    sequence_number: int
    timestamp: int
    payload_type: int
    payload: bytes
    marker: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.sequence_number < 1 << 16:
            raise ConfigError(f"sequence_number must fit 16 bits, got {self.sequence_number}")
        if not 0 <= self.timestamp < 1 << 32:
            raise ConfigError(f"timestamp must fit 32 bits, got {self.timestamp}")
        if not 0 <= self.payload_type < 128:
            raise ConfigError(f"payload_type must be within 0..127, got {self.payload_type}")
