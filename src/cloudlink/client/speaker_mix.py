"""What a client plays on its loudspeaker: the decoded audio of everyone it
hears, mixed into one 10 ms frame per tick (cloudlink.media.mixer), and the
same frame handed to the echo canceller of its own microphone as the far
end, so that what the loudspeaker puts into the microphone is taken out
before it is sent.

The mix tick is the device clock of the loudspeaker and the microphone
together: once the frame is played, the microphone's frame of the same
tick is captured (``capture``), as a full-duplex sound card delivers both
in one period. The echo canceller then always has the far end of a
microphone frame before the frame itself, however late or bunched the
event loop serves the tick; on two ticks of their own, a capture served
before its loudspeaker frame would find no far end, and a run of them
would move the echo path the canceller has learnt.

Each remote stream is pulled from its jitter buffer on its own tick; its
frames wait here in a short queue per participant, and the mix tick takes
one from each queue. A queue that runs dry leaves that participant out of
one mix; one that grows (its tick ran twice between two mixes) is trimmed
from the oldest, so the loudspeaker lags the jitter buffers by at most
:data:`MAX_QUEUED_FRAMES` frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

from cloudlink.media.frame import AudioFrame
from cloudlink.media.mixer import Mixer
from cloudlink.media.playout_clock import PlayoutClock

__all__ = ["MAX_QUEUED_FRAMES", "SpeakerMix"]

logger = logging.getLogger(__name__)

# Frames a participant's queue may hold before its oldest is dropped: 30 ms.
MAX_QUEUED_FRAMES: Final = 3

FrameHandler = Callable[[AudioFrame], None]
# One tick of the microphone: capture a frame and send it.
CaptureStep = Callable[[], Awaitable[None]]


def _no_capture() -> CaptureStep | None:
    return None


class SpeakerMix:
    """Mixes the participants' frames on a 10 ms tick into ``play`` (the
    loudspeaker) and ``far_end`` (the echo canceller's reference), then
    runs the microphone's step of the same tick (``capture``)."""

    def __init__(
        self,
        *,
        sample_rate_hz: int,
        play: FrameHandler,
        far_end: Callable[[], FrameHandler | None],
        capture: Callable[[], CaptureStep | None] = _no_capture,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._play = play
        self._far_end = far_end
        self._capture = capture
        self._mixer = Mixer(sample_rate_hz=sample_rate_hz)
        self._queues: dict[str, deque[AudioFrame]] = {}
        self._task: asyncio.Task[None] | None = None
        self.frames_played = 0
        self.frames_dropped = 0
        self.errors = 0
        self.capture_errors = 0

    def put(self, participant_id: str, frame: AudioFrame) -> None:
        """One decoded frame of ``participant_id``, for the next mix."""
        if frame.sample_rate_hz != self.sample_rate_hz or frame.channels != 1:
            return
        queue = self._queues.setdefault(participant_id, deque())
        queue.append(frame)
        while len(queue) > MAX_QUEUED_FRAMES:
            queue.popleft()
            self.frames_dropped += 1

    def remove(self, participant_id: str) -> None:
        """Forgets a participant who left."""
        self._queues.pop(participant_id, None)
        self._mixer.remove(participant_id)

    def start(self) -> None:
        """Starts the mix tick (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stops the tick."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def mix_once(self) -> AudioFrame:
        """One tick: a frame from each participant's queue, mixed, played
        and given to the echo canceller."""
        frames = {pid: queue.popleft() for pid, queue in self._queues.items() if queue}
        mixed = self._mixer.mix(frames)
        far_end = self._far_end()
        if far_end is not None:
            far_end(mixed)
        self._play(mixed)
        self.frames_played += 1
        return mixed

    async def _run(self) -> None:
        async for _ in PlayoutClock().ticks():
            try:
                self.mix_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A faulty sink must not silence the meeting for good (nor flood the log).
                self.errors += 1
                if self.errors == 1:
                    logger.exception("loudspeaker mix failed")
            capture = self._capture()
            if capture is None:
                continue
            try:
                await capture()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Nor a faulty microphone the loudspeaker.
                self.capture_errors += 1
                if self.capture_errors == 1:
                    logger.exception("microphone capture failed")
