"""What this client publishes: an audio track (microphone, file or
synthetic source through the Opus send pipeline) and video tracks (camera,
screen, file or the test pattern through VP8), each paced in real time on
the meeting's RTP session.

A muted audio track sends digital silence (the SFU also stops forwarding
it); a held one (the device is in a phone call) has released its source
too, and reopens it on resume. A muted video track drops the frames its
source gives and asks for a keyframe when it is unmuted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

from cloudlink import _native
from cloudlink.client.meeting_records import TrackKind
from cloudlink.errors import ConfigError
from cloudlink.media.frame import OPUS_RATES_HZ, AudioFrame
from cloudlink.media.playout_clock import PlayoutClock
from cloudlink.media.rtp_payload import RED_PAYLOAD_TYPE
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.rtc.media_streams import AudioSendStream, VideoSendStream
from cloudlink.rtc.rtp_session import RtpSession

__all__ = ["AudioInput", "LocalAudioTrack", "LocalVideoTrack", "VideoInput"]

logger = logging.getLogger(__name__)

# An audio source: frames once (an iterator), frames on every iteration (an
# AudioSource, reopened after a hold), or a callable that opens one.
AudioInput = Iterable[AudioFrame] | Callable[[], Iterable[AudioFrame]]
VideoInput = Iterable[VideoFrame]

# Bitrates of the camera and screen encoders before the first estimate.
_START_BITRATE_BPS: Final[dict[str, int]] = {"camera": 600_000, "screen": 800_000}


def _close(iterator: Iterator[Any] | None) -> None:
    """Releases what a source holds open (a generator's file, a device)."""
    closer = getattr(iterator, "close", None)
    if callable(closer):
        closer()


class LocalAudioTrack:
    """This client's audio: 10 ms frames of ``source`` at ``sample_rate_hz``
    through Opus (in-band FEC, RED), one per tick of the session clock;
    silence once the source has ended, until the track is unpublished."""

    kind: Final[TrackKind] = "audio"

    def __init__(
        self,
        session: RtpSession,
        source: AudioInput,
        *,
        sample_rate_hz: int,
        bitrate_bps: int = 32_000,
        red: bool = True,
        echo_cancellation: bool = True,
    ) -> None:
        if sample_rate_hz not in OPUS_RATES_HZ:
            raise ConfigError(
                f"sample_rate_hz must be one of {OPUS_RATES_HZ}, got {sample_rate_hz}"
            )
        rate = getattr(source, "sample_rate_hz", sample_rate_hz)
        if rate != sample_rate_hz:
            raise ConfigError(
                f"the source gives {rate} Hz, the meeting sends {sample_rate_hz} Hz: "
                f"open the source at {sample_rate_hz} Hz"
            )
        self._source = source
        self.sample_rate_hz = sample_rate_hz
        # The far end is what the meeting plays (Meeting.play_audio); with
        # nothing played the canceller passes the microphone through, 4 ms late.
        self.echo_canceller = (
            _native.EchoCanceller(sample_rate_hz=sample_rate_hz) if echo_cancellation else None
        )
        self.pipeline = SendPipeline(
            sample_rate_hz=sample_rate_hz,
            bitrate_bps=bitrate_bps,
            red_payload_type=RED_PAYLOAD_TYPE if red else None,
            echo_canceller=self.echo_canceller,
        )
        self.stream = AudioSendStream(session, self.pipeline)
        self.track_id: str | None = None
        self.muted = False
        self.held = False
        self.ended = False
        self.frames_sent = 0
        self.silent_frames_sent = 0
        self._iterator: Iterator[AudioFrame] | None = self._open()
        self._silence = AudioFrame.silence(sample_rate_hz=sample_rate_hz)
        self._task: asyncio.Task[None] | None = None
        # Set when the meeting's loudspeaker tick takes this track's frames,
        # as a full-duplex sound card does: each tick plays, then captures.
        self.driven_by_speaker = False

    @property
    def ssrc(self) -> int:
        """The RTP SSRC this track is sent under."""
        return self.stream.sender.ssrc

    @property
    def runs_own_clock(self) -> bool:
        """Whether the track's own tick is still taking its frames."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Starts sending on the track's own tick (once), unless the
        loudspeaker's tick drives it."""
        if self._task is None and not self.driven_by_speaker:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def render(self, frame: AudioFrame) -> None:
        """What the loudspeaker plays now: the echo canceller's far end."""
        if self.echo_canceller is not None and frame.sample_rate_hz == self.sample_rate_hz:
            self.pipeline.render(frame)

    def hold(self) -> None:
        """Silence, and the source released (closed) until :meth:`resume`."""
        if self.held:
            return
        self.held = True
        if self._reopenable():
            _close(self._iterator)
            self._iterator = None

    def resume(self) -> None:
        """Reopens the source after :meth:`hold` (a one-shot iterator goes on where it stopped)."""
        if not self.held:
            return
        if self._iterator is None and not self.ended:
            self._iterator = self._open()
        self.held = False

    async def stop(self) -> None:
        """Stops sending and releases the source."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        _close(self._iterator)
        self._iterator = None

    def stats(self) -> dict[str, int | float | str]:
        """outbound-rtp of the track (W3C names), plus ``muted``/``held`` as 0/1."""
        stats = self.stream.stats()
        stats["muted"] = int(self.muted)
        stats["held"] = int(self.held)
        if self.echo_canceller is not None:
            # Ours: the canceller's estimate of the echo it removes (dB) and
            # the echo path's delay (ms, 0 before one is found).
            stats["echoReturnLossEnhancement"] = round(self.echo_canceller.erle_db, 1)
            stats["echoDelayMs"] = round(self.echo_canceller.delay_ms or 0.0, 1)
        return stats

    def _reopenable(self) -> bool:
        # An iterator (a generator among them) cannot be opened again.
        return not isinstance(self._source, Iterator)

    def _open(self) -> Iterator[AudioFrame]:
        source = self._source
        if callable(source) and not isinstance(source, Iterable):
            source = source()
        return iter(source)

    async def step(self) -> None:
        """One 10 ms tick: the source's next frame (silence when muted, held
        or ended) through the echo canceller and the encoder, and sent."""
        frame: AudioFrame | None = None
        if not self.held and self._iterator is not None:
            frame = next(self._iterator, None)
            if frame is None:
                # Silence follows, as from a live microphone: a stream that stops
                # would be concealed by the receivers' jitter buffers instead.
                self.ended = True
                self._iterator = None
                logger.info("audio source ended")
        if frame is None or self.muted:
            frame = self._silence
            self.silent_frames_sent += 1
        elif frame.sample_rate_hz != self.sample_rate_hz:
            logger.warning("audio frame at %d Hz dropped", frame.sample_rate_hz)
            frame = self._silence
        self.frames_sent += 1
        await self.stream.send_frame(frame)

    async def _run(self) -> None:
        async for _ in PlayoutClock().ticks():
            if self.driven_by_speaker:
                return  # the loudspeaker's tick takes the frames from here on
            await self.step()


class LocalVideoTrack:
    """This client's camera or screen: frames of ``source`` through VP8,
    each sent when its ``time_ms`` comes round on the session clock. The
    encoder's size is the first frame's."""

    def __init__(
        self,
        session: RtpSession,
        source: VideoInput,
        *,
        kind: TrackKind,
        min_bitrate_bps: int = 100_000,
        max_bitrate_bps: int = 2_500_000,
    ) -> None:
        if kind not in ("camera", "screen"):
            raise ConfigError(f"a video track is a camera or a screen, got {kind!r}")
        self.kind: TrackKind = kind
        self._iterator = iter(source)
        first = next(self._iterator, None)
        if not isinstance(first, VideoFrame):
            _close(self._iterator)
            raise ConfigError("the video source gave no frame (or not a VideoFrame)")
        self._first: VideoFrame | None = first
        self.width_px, self.height_px = first.width_px, first.height_px
        rate = float(getattr(source, "frame_rate_fps", 30.0))
        self.pipeline = VideoSendPipeline(
            width_px=first.width_px,
            height_px=first.height_px,
            frame_rate_fps=rate,
            bitrate_bps=min(max(_START_BITRATE_BPS[kind], min_bitrate_bps), max_bitrate_bps),
        )
        self.stream = VideoSendStream(
            session, self.pipeline, min_bitrate_bps=min_bitrate_bps, max_bitrate_bps=max_bitrate_bps
        )
        self._session = session
        self.track_id: str | None = None
        self.muted = False
        self.ended = False
        self.frames_skipped = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def ssrc(self) -> int:
        """The RTP SSRC this track is sent under."""
        return self.stream.sender.ssrc

    def start(self) -> None:
        """Starts sending (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def set_muted(self, muted: bool) -> None:
        """Muted: frames are dropped; unmuted: the next frame is a keyframe."""
        if self.muted and not muted:
            self.pipeline.request_keyframe()
        self.muted = muted

    async def stop(self) -> None:
        """Stops sending and releases the source."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        _close(self._iterator)

    def stats(self) -> dict[str, int | float | str]:
        """outbound-rtp of the track (W3C names), plus ``muted`` as 0/1."""
        stats = self.stream.stats()
        stats["muted"] = int(self.muted)
        stats["frameWidth"] = self.width_px
        stats["frameHeight"] = self.height_px
        return stats

    def _frames(self) -> Iterator[VideoFrame]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._iterator

    async def _run(self) -> None:
        start_ms: float | None = None
        first_ms = 0.0
        session = self._session
        for frame in self._frames():
            if start_ms is None:
                start_ms, first_ms = session.now_ms(), frame.time_ms
            # TODO(#5): a track behind its schedule (a stalled loop, a slow encode) sends every
            # overdue frame back to back, up to 25 fps of 15 seen, where a camera would skip.
            wait_ms = start_ms + frame.time_ms - first_ms - session.now_ms()
            if wait_ms > 0.0:
                await asyncio.sleep(wait_ms / 1000.0)
            if self.muted:
                self.frames_skipped += 1
                continue
            if frame.width_px != self.width_px or frame.height_px != self.height_px:
                self.frames_skipped += 1
                logger.warning("video frame of another size dropped")
                continue
            await self.stream.send_frame(frame)
        self.ended = True
        logger.info("%s source ended", self.kind)
