"""The send half of an audio call: 10 ms frames in, RTP payloads out.

    frames -> echo canceller (optional) -> Opus (20 ms, in-band FEC, DTX
    optional) -> RTP payload descriptors (RED optional)

Opus RTP follows RFC 7587 (48 kHz timestamps, one Opus packet per RTP
payload); redundancy follows RFC 2198, carrying the previous packet beside
the current one, as browsers do for ``audio/red``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media._framing import check_channels
from cloudlink.media.frame import FRAME_MS, OPUS_RATES_HZ, AudioFrame, frame_samples
from cloudlink.media.rtp_payload import OPUS_CLOCK_HZ, RtpPayload

__all__ = ["EchoControl", "SendPipeline"]

logger = logging.getLogger(__name__)

# opus_encode output of 2 bytes or less need not be sent: the encoder is in
# DTX (libopus API documentation of opus_encode).
_DTX_PACKET_BYTES: Final = 2
# RFC 2198 section 3: a redundant block's timestamp offset has 14 bits and
# its length 10 bits.
_RED_MAX_OFFSET: Final = (1 << 14) - 1
_RED_MAX_BLOCK_BYTES: Final = (1 << 10) - 1


class EchoControl(Protocol):
    """What the send pipeline needs of an echo canceller
    (``cloudlink._native.EchoCanceller`` has it)."""

    @property
    def frame_samples(self) -> int: ...

    def process_render(self, far: npt.NDArray[np.int16]) -> None: ...

    def process_capture(self, near: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]: ...


class SendPipeline:
    """Turns 10 ms frames into RTP payload descriptors of one Opus stream.

    ``red_payload_type`` switches RED on: each payload then carries the
    previous Opus packet as redundancy. Sequence number and timestamp start
    at random values (RFC 3550 section 5.1) unless given.
    """

    def __init__(
        self,
        *,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        payload_type: int = 111,
        red_payload_type: int | None = None,
        frame_ms: int = 20,
        bitrate_bps: int = 32000,
        fec: bool = True,
        expected_loss_pct: int = 10,
        dtx: bool = False,
        echo_canceller: EchoControl | None = None,
        initial_sequence_number: int | None = None,
        initial_timestamp: int | None = None,
    ) -> None:
        if sample_rate_hz not in OPUS_RATES_HZ:
            raise ConfigError(
                f"sample_rate_hz must be one Opus codes ({OPUS_RATES_HZ}), got {sample_rate_hz}"
            )
        if frame_ms not in (10, 20, 40, 60):
            raise ConfigError(f"frame_ms must be 10, 20, 40 or 60, got {frame_ms}")
        self.sample_rate_hz = sample_rate_hz
        self.channels = check_channels(channels)
        self.encoder = _native.OpusEncoder(
            sample_rate_hz=sample_rate_hz,
            channels=channels,
            frame_ms=float(frame_ms),
            bitrate_bps=bitrate_bps,
            fec=fec,
            expected_loss_pct=expected_loss_pct,
            dtx=dtx,
        )
        self._check_payload_types(payload_type, red_payload_type)
        self.payload_type = payload_type
        self.red_payload_type = red_payload_type
        self.echo_canceller = echo_canceller
        if echo_canceller is not None and echo_canceller.frame_samples != frame_samples(
            sample_rate_hz
        ):
            raise ConfigError("the echo canceller must run on 10 ms frames at sample_rate_hz")
        self._frames_per_packet = frame_ms // FRAME_MS
        self._timestamp_step = OPUS_CLOCK_HZ * frame_ms // 1000
        self._pending: list[npt.NDArray[np.int16]] = []
        self._sequence_number = (
            secrets.randbelow(1 << 16)
            if initial_sequence_number is None
            else initial_sequence_number
        )
        self._timestamp = (
            secrets.randbelow(1 << 32) if initial_timestamp is None else initial_timestamp
        )
        self.initial_timestamp = self._timestamp
        self._previous: tuple[bytes, int] | None = None
        self._talkspurt_start = True
        self.packets_sent = 0
        self.packets_suppressed = 0

    @staticmethod
    def _check_payload_types(payload_type: int, red_payload_type: int | None) -> None:
        for name, value in (("payload_type", payload_type), ("red_payload_type", red_payload_type)):
            if value is not None and not 0 <= value < 128:
                raise ConfigError(f"{name} must be within 0..127, got {value}")
        if red_payload_type == payload_type:
            raise ConfigError("red_payload_type must differ from payload_type")

    @property
    def lookahead_samples(self) -> int:
        """Codec delay at ``sample_rate_hz``: decoded sample n + lookahead is
        input sample n."""
        return int(self.encoder.lookahead_samples)

    def render(self, frame: AudioFrame) -> None:
        """Feeds what this client plays to the echo canceller's far end."""
        if self.echo_canceller is not None:
            self.echo_canceller.process_render(frame.samples)

    def process(self, frame: AudioFrame) -> list[RtpPayload]:
        """Takes one 10 ms frame; returns the payloads it completes (0 or 1)."""
        if frame.sample_rate_hz != self.sample_rate_hz or frame.channels != self.channels:
            raise ConfigError(
                f"the pipeline takes {self.sample_rate_hz} Hz x {self.channels} channels, got "
                f"{frame.sample_rate_hz} Hz x {frame.channels}"
            )
        samples = frame.samples
        if self.echo_canceller is not None:
            samples = self.echo_canceller.process_capture(samples)
        self._pending.append(samples)
        if len(self._pending) < self._frames_per_packet:
            return []
        pcm = np.concatenate(self._pending)
        self._pending = []
        return self._encode(pcm)

    def flush(self) -> list[RtpPayload]:
        """Pads a partly filled packet with silence and sends it."""
        if not self._pending:
            return []
        silence = np.zeros_like(self._pending[0])
        while len(self._pending) < self._frames_per_packet:
            self._pending.append(silence)
        pcm = np.concatenate(self._pending)
        self._pending = []
        return self._encode(pcm)

    async def packetize(
        self, frames: AsyncIterable[AudioFrame] | Iterable[AudioFrame]
    ) -> AsyncIterator[RtpPayload]:
        """Yields the payloads of every frame of ``frames``, then the flush."""
        if isinstance(frames, AsyncIterable):
            async for frame in frames:
                for payload in self.process(frame):
                    yield payload
        else:
            for frame in frames:
                for payload in self.process(frame):
                    yield payload
        for payload in self.flush():
            yield payload

    def _encode(self, pcm: npt.NDArray[np.int16]) -> list[RtpPayload]:
        # Step 1: encode; a DTX packet is not sent, but time moves on.
        packet = self.encoder.encode(pcm)
        timestamp = self._timestamp
        self._timestamp = (self._timestamp + self._timestamp_step) % (1 << 32)
        if len(packet) <= _DTX_PACKET_BYTES and self.encoder.dtx:
            self.packets_suppressed += 1
            self._talkspurt_start = True
            self._previous = None
            return []

        # Step 2: RED carries the previous packet when its offset and length fit.
        payload, payload_type = packet, self.payload_type
        if self.red_payload_type is not None:
            redundant = []
            if self._previous is not None:
                previous, previous_timestamp = self._previous
                offset = (timestamp - previous_timestamp) % (1 << 32)
                if offset <= _RED_MAX_OFFSET and len(previous) <= _RED_MAX_BLOCK_BYTES:
                    redundant.append((previous, offset, self.payload_type))
            payload = _native.red_pack(packet, payload_type=self.payload_type, redundant=redundant)
            payload_type = self.red_payload_type
        self._previous = (packet, timestamp)

        # Step 3: the descriptor; the marker opens a talkspurt (RFC 3551 section 4.1).
        descriptor = RtpPayload(
            sequence_number=self._sequence_number,
            timestamp=timestamp,
            payload_type=payload_type,
            payload=payload,
            marker=self._talkspurt_start,
        )
        self._sequence_number = (self._sequence_number + 1) % (1 << 16)
        self._talkspurt_start = False
        self.packets_sent += 1
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "sent [seq:%d] [ts:%d] [bytes:%d]",
                descriptor.sequence_number,
                timestamp,
                len(payload),
            )
        return [descriptor]
