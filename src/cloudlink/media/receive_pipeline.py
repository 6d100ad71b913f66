"""The receive half of an audio call: RTP payloads in, 10 ms frames out.

    payload descriptors + arrival times -> native JitterBuffer (reordering,
    FEC and RED recovery, adaptive delay, time stretching, concealment,
    Opus decoding) -> one 10 ms frame per pull on the playout clock

Statistics keep the W3C webrtc-stats names (RTCInboundRtpStreamStats).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cloudlink import _native
from cloudlink.media._framing import check_channels
from cloudlink.media.frame import AudioFrame, frame_samples
from cloudlink.media.playout_clock import PlayoutClock
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.sink import AudioSink

__all__ = ["ReceivePipeline"]

logger = logging.getLogger(__name__)


class ReceivePipeline:
    """One incoming Opus stream, played out at ``sample_rate_hz``."""

    def __init__(
        self,
        *,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        payload_type: int = 111,
        red_payload_type: int | None = None,
        min_delay_ms: int = 0,
        max_delay_ms: int = 2000,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.channels = check_channels(channels)
        self._frame_samples = frame_samples(sample_rate_hz)
        self.jitter_buffer = _native.JitterBuffer(
            sample_rate_hz=sample_rate_hz,
            channels=channels,
            payload_type=payload_type,
            red_payload_type=red_payload_type,
            min_delay_ms=min_delay_ms,
            max_delay_ms=max_delay_ms,
        )
        self.frames_pulled = 0

    def insert(self, payload: RtpPayload, *, arrival_time_ms: float) -> bool:
        """Hands one arrived payload to the jitter buffer; False when it was
        dropped (duplicate, too late, malformed) and counted."""
        accepted: bool = self.jitter_buffer.insert(
            payload.payload,
            sequence_number=payload.sequence_number,
            timestamp=payload.timestamp,
            arrival_time_ms=arrival_time_ms,
            payload_type=payload.payload_type,
        )
        if not accepted and logger.isEnabledFor(logging.DEBUG):
            logger.debug("dropped [seq:%d] [ts:%d]", payload.sequence_number, payload.timestamp)
        return accepted

    def pull(self, now_ms: float) -> AudioFrame:
        """The next 10 ms of playout; always a frame, concealed if need be."""
        samples = self.jitter_buffer.pull(now_ms)
        if self.channels > 1:
            samples = samples.reshape(self._frame_samples, self.channels)
        frame = AudioFrame(samples, self.sample_rate_hz, self.frames_pulled * self._frame_samples)
        self.frames_pulled += 1
        return frame

    @property
    def playout_timestamp(self) -> int | None:
        """RTP timestamp (48 kHz) of the first sample of the last frame pulled,
        None before any packet has been played."""
        value: int | None = self.jitter_buffer.playout_timestamp
        return value

    @property
    def target_delay_ms(self) -> float:
        """The delay the jitter buffer is steering toward."""
        return float(self.jitter_buffer.target_delay_ms)

    def stats(self) -> dict[str, int | float]:
        """The jitter buffer's webrtc-stats, plus ``meanPlayoutDelayMs`` and
        ``meanTargetDelayMs`` (the cumulative delays per emitted sample)."""
        stats: dict[str, int | float] = dict(self.jitter_buffer.stats())
        emitted = stats.get("jitterBufferEmittedCount", 0)
        per_sample_ms = 1000.0 / emitted if emitted else 0.0
        stats["meanPlayoutDelayMs"] = stats.get("jitterBufferDelay", 0.0) * per_sample_ms
        stats["meanTargetDelayMs"] = stats.get("jitterBufferTargetDelay", 0.0) * per_sample_ms
        return stats

    async def play(
        self,
        clock: PlayoutClock,
        sink: AudioSink | Callable[[AudioFrame], None],
        *,
        frames: int | None = None,
        echo_reference: SendPipeline | None = None,
    ) -> None:
        """Pulls one frame per tick of ``clock`` into ``sink`` (``frames``
        times, or until cancelled); each frame played is also handed to
        ``echo_reference`` as its echo canceller's far end."""
        write = sink.write if isinstance(sink, AudioSink) else sink
        async for now_ms in clock.ticks(frames):
            frame = self.pull(now_ms)
            write(frame)
            if echo_reference is not None:
                echo_reference.render(frame)
