"""The stamped test pattern (:mod:`cloudlink.media.test_pattern`) as a live
camera: each frame carries its number and the wall-clock time it is due
to be sent, so a receiver in any process on a synchronised clock reads
the frame it shows and how long the frame took to arrive.

    await meeting.publish_video(live_test_pattern(width_px=320, height_px=240))
    meeting.on_video = lambda pid, kind, frame: print(read_live_pattern(frame))
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from cloudlink.errors import ConfigError
from cloudlink.media.test_pattern import TestPattern, read_test_pattern
from cloudlink.media.video_frame import VideoFrame

__all__ = ["LivePatternReading", "live_test_pattern", "read_live_pattern"]


@dataclass(frozen=True)
class LivePatternReading:
    """What a received pattern frame says: its number and its age on arrival."""

    frame_number: int
    latency_ms: float


def live_test_pattern(
    *,
    width_px: int = 320,
    height_px: int = 240,
    frame_rate_fps: float = 30.0,
    duration_s: float | None = None,
) -> Iterator[VideoFrame]:
    """Frames of the pattern at ``frame_rate_fps`` for ``duration_s``
    (None: until closed), stamped with the Unix time in ms at which each
    is due (the first frame's time is taken when it is made)."""
    if duration_s is not None and not duration_s > 0.0:
        raise ConfigError(f"duration_s must be positive, got {duration_s}")
    pattern = TestPattern(width_px=width_px, height_px=height_px, frame_rate_fps=frame_rate_fps)
    count = None if duration_s is None else max(1, round(duration_s * frame_rate_fps))
    start_ms = time.time() * 1000.0
    number = 0
    while count is None or number < count:
        time_ms = number * 1000.0 / frame_rate_fps
        pixels = pattern.frame(number, send_time_ms=round(start_ms + time_ms))
        yield VideoFrame(pixels, time_ms)
        number += 1


def read_live_pattern(frame: VideoFrame) -> LivePatternReading | None:
    """The frame number and the latency (now minus the stamp) of a decoded
    pattern frame; None when the stamp cannot be read."""
    stamp = read_test_pattern(frame.pixels)
    if stamp is None:
        return None
    return LivePatternReading(
        frame_number=stamp.frame_number, latency_ms=time.time() * 1000.0 - stamp.send_time_ms
    )
