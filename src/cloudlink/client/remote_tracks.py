"""What this client receives: one stream per subscription, under the SSRC
the SFU chose for it, decoded by the native engine (the jitter buffer with
concealment for audio, the frame assembler with NACK and PLI for video)
and played out to a callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cloudlink.client.meeting_records import SubscriptionInfo, Track
from cloudlink.media.frame import FRAME_MS, AudioFrame
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.rtc.media_streams import AudioReceiveStream, VideoReceiveStream
from cloudlink.rtc.rtp_session import RtpSession

__all__ = ["RemoteAudioTrack", "RemoteTrack", "RemoteVideoTrack"]

logger = logging.getLogger(__name__)


class RemoteAudioTrack:
    """A subscribed audio track: 10 ms frames to ``on_frame``, one per
    tick (the session's, shared by all its audio tracks), concealment
    included, from the moment it is started. While the sender is
    ``muted`` the SFU forwards nothing: silence is rendered and the jitter
    buffer is left alone, so it neither conceals the gap nor counts it."""

    def __init__(
        self,
        session: RtpSession,
        track: Track,
        subscription: SubscriptionInfo,
        *,
        sample_rate_hz: int,
        on_frame: Callable[[AudioFrame], None],
    ) -> None:
        self.track = track
        self.subscription = subscription
        self._session = session
        payload_types = subscription.payload_types or (OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE)
        self.stream = AudioReceiveStream(
            session,
            ReceivePipeline(
                sample_rate_hz=sample_rate_hz,
                red_payload_type=RED_PAYLOAD_TYPE if RED_PAYLOAD_TYPE in payload_types else None,
            ),
            payload_types=payload_types,
            ssrc=subscription.ssrc,
        )
        self._on_frame = on_frame
        self._task: asyncio.Task[None] | None = None
        self._silence = AudioFrame.silence(sample_rate_hz=sample_rate_hz)
        self.muted = track.muted
        self.frames_muted = 0

    @property
    def participant_id(self) -> str:
        """Whose track this is."""
        return self.track.participant_id

    def start(self) -> None:
        """Starts playing out."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        # TODO(#5): the jitter buffer conceals a stream that stops (a sender gone) at full
        # level for as long as it is pulled; only a mute the signaling announces is silenced.
        await self._session.shared_ticks(FRAME_MS).run(self._tick)

    def _tick(self, _deadline_ms: float) -> None:
        if self.muted:
            self.frames_muted += 1
            self._on_frame(self._silence)
        else:
            self._on_frame(self.stream.pipeline.pull(self._session.now_ms()))

    async def close(self) -> None:
        """Stops playing out and forgets the stream's SSRC."""
        await _stop(self._task)
        self._task = None
        self._session.remove_receiver(self.stream.receiver)

    def stats(self) -> dict[str, int | float | str]:
        """inbound-rtp: transport counters, the jitter buffer's figures,
        ``audioLevel``, ``mos`` and ``networkQuality``."""
        return self.stream.stats()


class RemoteVideoTrack:
    """A subscribed camera or screen: decoded pictures to ``on_frame``;
    NACKs for missing packets and PLIs for lost frames go back to the SFU."""

    def __init__(
        self,
        session: RtpSession,
        track: Track,
        subscription: SubscriptionInfo,
        *,
        on_frame: Callable[[VideoFrame], None],
    ) -> None:
        self.track = track
        self.subscription = subscription
        self._session = session
        pipeline = VideoReceivePipeline()
        if subscription.payload_types:
            pipeline = VideoReceivePipeline(payload_type=subscription.payload_types[0])
        self.stream = VideoReceiveStream(session, pipeline, ssrc=subscription.ssrc)
        self._on_frame = on_frame
        self._task: asyncio.Task[None] | None = None

    @property
    def participant_id(self) -> str:
        """Whose track this is."""
        return self.track.participant_id

    def start(self) -> None:
        """Starts decoding and rendering."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.stream.play(self._on_frame))

    async def close(self) -> None:
        """Stops decoding and forgets the stream's SSRC."""
        await _stop(self._task)
        self._task = None
        self._session.remove_receiver(self.stream.receiver)

    def stats(self) -> dict[str, int | float | str]:
        """inbound-rtp: transport counters, frames received, decoded,
        dropped, frozen, NACK and PLI counts, ``networkQuality``."""
        return self.stream.stats()


RemoteTrack = RemoteAudioTrack | RemoteVideoTrack


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    # wait() never raises what the task raised; it is read below.
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        logger.warning("a receive stream had failed: %s", task.exception())
