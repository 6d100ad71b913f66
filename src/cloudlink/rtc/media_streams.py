"""Media pipelines bound to an RTP session: the four kinds of stream a call
carries, each a pipeline of :mod:`cloudlink.media` and an RTP sender or
receiver of :mod:`cloudlink.rtc.rtp_session`.

- :class:`AudioSendStream`: 10 ms frames, paced in real time, through the
  Opus send pipeline (RED optional); each packet carries the RFC 6464
  level of its audio.
- :class:`AudioReceiveStream`: payloads into the jitter buffer, one frame
  per 10 ms tick (the session's, shared by its audio streams) out to a sink.
- :class:`VideoSendStream`: frames paced by their capture times through
  the VP8 send pipeline; NACKs answered from its history, PLI/FIR make a
  keyframe, REMB sets the encoder's bitrate.
- :class:`VideoReceiveStream`: payloads into the frame assembler, polled
  every few ms on a tick the session's video streams share: pictures to
  a sink, NACK and PLI back to the sender, the session's RTT to the
  assembler's retry spacing.

Each stream's ``stats()`` is one webrtc-stats dictionary (W3C names).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from concurrent.futures import Executor
from typing import Final

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media.codec_executor import codec_executor
from cloudlink.media.frame import FRAME_MS, AudioFrame
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import OPUS_CLOCK_HZ, VIDEO_CLOCK_HZ, RtpPayload
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.stats import audio_mos, network_grade

__all__ = ["AudioReceiveStream", "AudioSendStream", "VideoReceiveStream", "VideoSendStream"]

logger = logging.getLogger(__name__)

# How often the video receiver looks for decodable frames and feedback to send.
_VIDEO_POLL_MS: Final = 5.0
# NACK retries no closer than this, however short the RTT: a retransmission
# also waits its turn on the sender's event loop.
_MIN_NACK_SPACING_MS: Final = 20.0
# The assembler takes RTTs up to 10 s; a loop stalled longer measures more.
_MAX_NACK_SPACING_MS: Final = 10_000.0
# RFC 6464 section 3 leaves the V bit to a voice activity detector; a level
# of 127 -dBov is digital silence.
_SILENT_LEVEL: Final = 127

Stats = dict[str, int | float | str]


async def _ticks(session: RtpSession, period_ms: float) -> AsyncIterator[float]:
    """Session-clock times every ``period_ms``, absolute deadlines (no drift)."""
    start_ms = session.now_ms()
    tick = 0
    while True:
        deadline_ms = start_ms + tick * period_ms
        wait_ms = deadline_ms - session.now_ms()
        if wait_ms > 0.0:
            await asyncio.sleep(wait_ms / 1000.0)
        tick += 1
        yield deadline_ms


def _grade(stats: Stats, rtt_ms: float | None) -> str:
    received = float(stats.get("packetsReceived", 0))
    lost = float(stats.get("packetsLost", 0))
    expected = received + max(lost, 0.0)
    jitter_s = stats.get("jitter", 0.0)
    return network_grade(
        round_trip_time_ms=rtt_ms,
        jitter_ms=1000.0 * float(jitter_s) if isinstance(jitter_s, int | float) else 0.0,
        loss_fraction=max(lost, 0.0) / expected if expected else 0.0,
    )


class AudioSendStream:
    """One outgoing Opus stream of ``session``; ``ssrc`` and ``mid`` as SDP
    signaled them (random SSRC, no MID by default)."""

    def __init__(
        self,
        session: RtpSession,
        pipeline: SendPipeline,
        *,
        ssrc: int | None = None,
        mid: str | None = None,
    ) -> None:
        self.session = session
        self.pipeline = pipeline
        self.sender = session.add_sender(
            kind="audio", clock_rate_hz=OPUS_CLOCK_HZ, ssrc=ssrc, mid=mid
        )
        self._meter = _native.LevelMeter(sample_rate_hz=pipeline.sample_rate_hz)
        self._vad = (
            _native.VoiceActivityDetector(sample_rate_hz=pipeline.sample_rate_hz)
            if pipeline.channels == 1
            else None
        )

    async def send_frame(self, frame: AudioFrame) -> None:
        """Codes one 10 ms frame and sends the packet it completes."""
        # TODO(#5): the Opus encode runs on the event loop (about 10 % of the main thread with 5
        # participants in one process); on the codec pool it would wait behind VP8 keyframes.
        self._meter.process(frame.samples)
        level = int(self._meter.audio_level)
        voice = self._vad.process(frame.samples) if self._vad else level < _SILENT_LEVEL
        for payload in self.pipeline.process(frame):
            await self.sender.send(payload, audio_level=(level, bool(voice)))

    async def run(self, frames: Iterable[AudioFrame]) -> None:
        """Sends ``frames`` in real time, one per 10 ms, then the flush."""
        iterator = iter(frames)
        async for _ in _ticks(self.session, FRAME_MS):
            frame = next(iterator, None)
            if frame is None:
                break
            await self.send_frame(frame)
        for payload in self.pipeline.flush():
            await self.sender.send(payload)

    def stats(self) -> Stats:
        """outbound-rtp (with the remote-inbound figures) of this stream."""
        stats = self.sender.stats()
        stats["targetBitrate"] = self.pipeline.encoder.bitrate_bps
        return stats


class AudioReceiveStream:
    """One incoming Opus stream of ``session`` (RED too when the pipeline
    has a RED payload type); ``ssrc`` as the peer signaled it, or None to
    take the first SSRC of ``payload_types``."""

    def __init__(
        self,
        session: RtpSession,
        pipeline: ReceivePipeline,
        *,
        payload_types: Iterable[int],
        ssrc: int | None = None,
    ) -> None:
        self.session = session
        self.pipeline = pipeline
        self.receiver = session.add_receiver(
            kind="audio",
            clock_rate_hz=OPUS_CLOCK_HZ,
            payload_types=list(payload_types),
            on_payload=self._on_payload,
            ssrc=ssrc,
        )

    def _on_payload(self, payload: RtpPayload, arrival_ms: float) -> None:
        self.pipeline.insert(payload, arrival_time_ms=arrival_ms)

    async def play(self, sink: Callable[[AudioFrame], None], *, frames: int | None = None) -> None:
        """Pulls one frame per 10 ms into ``sink``, ``frames`` times or
        until cancelled."""
        session, pull = self.session, self.pipeline.pull

        def step(deadline_ms: float) -> None:
            # Arrivals are stamped when they happen, so is the pull: a busy
            # event loop that runs this tick late must not make a packet
            # seem played before it came (a negative jitterBufferDelay).
            sink(pull(max(deadline_ms, session.now_ms())))

        await session.shared_ticks(FRAME_MS).run(step, ticks=frames)

    def stats(self) -> Stats:
        """inbound-rtp: the transport's counters over the jitter buffer's,
        plus ``mos`` (E-model) and ``networkQuality``."""
        stats: Stats = dict(self.pipeline.stats())
        stats.update(self.receiver.stats())
        rtt_ms = self.session.round_trip_time_ms
        stats["mos"] = audio_mos(stats, round_trip_time_ms=rtt_ms)
        stats["networkQuality"] = _grade(stats, rtt_ms)
        return stats


class VideoSendStream:
    """One outgoing VP8 stream of ``session``; REMB moves the encoder's
    bitrate within ``min_bitrate_bps``..``max_bitrate_bps``; ``ssrc`` and
    ``mid`` as SDP signaled them. Frames are encoded on ``executor`` (the
    process's codec pool by default), off the event loop."""

    def __init__(
        self,
        session: RtpSession,
        pipeline: VideoSendPipeline,
        *,
        min_bitrate_bps: int = 100_000,
        max_bitrate_bps: int = 2_500_000,
        ssrc: int | None = None,
        mid: str | None = None,
        executor: Executor | None = None,
    ) -> None:
        if not 0 < min_bitrate_bps <= max_bitrate_bps:
            raise ConfigError(
                f"need 0 < min_bitrate_bps <= max_bitrate_bps, got {min_bitrate_bps}, "
                f"{max_bitrate_bps}"
            )
        self.session = session
        self.pipeline = pipeline
        self.min_bitrate_bps = min_bitrate_bps
        self.max_bitrate_bps = max_bitrate_bps
        self._executor = executor or codec_executor()
        self.sender = session.add_sender(
            kind="video", clock_rate_hz=VIDEO_CLOCK_HZ, ssrc=ssrc, mid=mid
        )
        self.sender.on_nack = self._on_nack
        self.sender.on_keyframe_request = pipeline.request_keyframe
        session.video_bitrate_listeners[self.sender.ssrc] = self._on_target_bitrate

    async def send_frame(self, frame: VideoFrame) -> None:
        """Codes one frame and sends its packets."""
        # TODO(#5): no pacer: a keyframe's packets leave in one burst, which a shallow router
        # queue drops and the delay-based estimator reads as congestion.
        for payload in await self.pipeline.process_async(frame, executor=self._executor):
            await self.sender.send(payload)

    async def run(self, frames: Iterable[VideoFrame]) -> None:
        """Sends ``frames``, each when its ``time_ms`` (from the first
        frame's) comes round on the session clock."""
        start_ms: float | None = None
        first_ms = 0.0
        for frame in frames:
            if start_ms is None:
                start_ms, first_ms = self.session.now_ms(), frame.time_ms
            wait_ms = start_ms + frame.time_ms - first_ms - self.session.now_ms()
            if wait_ms > 0.0:
                await asyncio.sleep(wait_ms / 1000.0)
            await self.send_frame(frame)

    def _on_nack(self, sequence_numbers: list[int]) -> None:
        payloads = self.pipeline.retransmit(sequence_numbers)
        if payloads:
            self.session.spawn(self._resend(payloads))

    async def _resend(self, payloads: list[RtpPayload]) -> None:
        for payload in payloads:
            await self.sender.send(payload, retransmission=True)

    def _on_target_bitrate(self, bitrate_bps: int) -> None:
        target = min(max(bitrate_bps, self.min_bitrate_bps), self.max_bitrate_bps)
        if target != self.pipeline.bitrate_bps:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("target bitrate [bps:%d]", target)
            self.pipeline.bitrate_bps = target

    def stats(self) -> Stats:
        """outbound-rtp (with the remote-inbound figures) of this stream."""
        stats = self.sender.stats()
        stats["targetBitrate"] = self.pipeline.bitrate_bps
        stats["framesEncoded"] = self.pipeline.frames_sent
        stats["keyFramesEncoded"] = self.pipeline.keyframes_sent
        return stats


class VideoReceiveStream:
    """One incoming VP8 stream of ``session``; ``ssrc`` as the peer
    signaled it, or None to take the first SSRC of the VP8 payload type."""

    def __init__(
        self, session: RtpSession, pipeline: VideoReceivePipeline, *, ssrc: int | None = None
    ) -> None:
        self.session = session
        self.pipeline = pipeline
        self.receiver = session.add_receiver(
            kind="video",
            clock_rate_hz=VIDEO_CLOCK_HZ,
            payload_types=[pipeline.payload_type],
            on_payload=self._on_payload,
            ssrc=ssrc,
        )
        self._rtt_ms: float | None = None  # the RTT last given to the assembler

    def _on_payload(self, payload: RtpPayload, arrival_ms: float) -> None:
        self.pipeline.insert(payload, arrival_time_ms=arrival_ms)

    async def play(self, sink: Callable[[VideoFrame], None]) -> None:
        """Until cancelled: shows decoded pictures in ``sink`` and sends
        the NACKs and PLIs the assembler asks for."""
        await self.session.shared_ticks(_VIDEO_POLL_MS).run(lambda now_ms: self._poll(now_ms, sink))

    def _poll(
        self, now_ms: float, sink: Callable[[VideoFrame], None]
    ) -> Coroutine[None, None, None] | None:
        # One poll: pictures to the sink; the feedback to send, if any.
        # TODO(#5): VP8 decode runs here on the event loop (2 % of the main thread with 5
        # participants; a 720p keyframe is slower): the codec pool would need an async poll.
        rtt_ms = self.session.round_trip_time_ms
        if rtt_ms is not None and rtt_ms != self._rtt_ms:
            self._rtt_ms = rtt_ms
            self.pipeline.set_rtt_ms(min(max(rtt_ms, _MIN_NACK_SPACING_MS), _MAX_NACK_SPACING_MS))
        for frame in self.pipeline.poll(now_ms):
            sink(frame)
        missing = self.pipeline.nack_list(now_ms)
        pli = self.pipeline.keyframe_request(now_ms)
        return self._send_feedback(missing, pli) if missing or pli else None

    async def _send_feedback(self, missing: list[int], pli: bool) -> None:
        if missing:
            await self.session.send_nack(self.receiver, missing)
        if pli:
            await self.session.send_pli(self.receiver)

    def stats(self) -> Stats:
        """inbound-rtp: the transport's counters over the assembler's, plus
        ``networkQuality``."""
        stats: Stats = dict(self.pipeline.stats())
        stats.update(self.receiver.stats())
        stats["networkQuality"] = _grade(stats, self.session.round_trip_time_ms)
        return stats
