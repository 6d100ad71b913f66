"""What every video source shares, and the stamped test pattern as one.

A source is an iterable (and async iterable) of :class:`VideoFrame` in
capture order, each with its capture time in ms from the first frame.
"""

from __future__ import annotations

import abc
import math
import re
from collections.abc import AsyncIterator, Iterator
from typing import Final

from cloudlink.errors import ConfigError
from cloudlink.media.test_pattern import TestPattern
from cloudlink.media.video_frame import VideoFrame

__all__ = ["PatternSource", "VideoSource", "parse_pattern_spec"]

# ``pattern:WIDTHxHEIGHT@FPS``, the frame rate optional.
_PATTERN_SPEC: Final = re.compile(r"pattern:(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?")
_DEFAULT_PATTERN_FPS: Final = 30.0


class VideoSource(abc.ABC):
    """An iterable (and async iterable) of :class:`VideoFrame`."""

    @property
    @abc.abstractmethod
    def frame_rate_fps(self) -> float:
        """The nominal frame rate (an encoder's rate control plans with it)."""

    @property
    @abc.abstractmethod
    def width_px(self) -> int:
        """Width of the frames (even)."""

    @property
    @abc.abstractmethod
    def height_px(self) -> int:
        """Height of the frames (even)."""

    @abc.abstractmethod
    def __iter__(self) -> Iterator[VideoFrame]: ...

    async def __aiter__(self) -> AsyncIterator[VideoFrame]:
        for frame in self:
            yield frame


class PatternSource(VideoSource):
    """``duration_s`` of the stamped test pattern (cloudlink.media.test_pattern):
    frame n is taken at n / fps seconds and carries n and that time in ms in
    its pixels, so a receiver reads which frame it shows and when it was
    captured."""

    def __init__(
        self,
        *,
        width_px: int = 1280,
        height_px: int = 720,
        frame_rate_fps: float = _DEFAULT_PATTERN_FPS,
        duration_s: float = 5.0,
    ) -> None:
        if not (math.isfinite(duration_s) and duration_s > 0.0):
            raise ConfigError(f"duration_s must be a positive number, got {duration_s}")
        self.pattern = TestPattern(
            width_px=width_px, height_px=height_px, frame_rate_fps=frame_rate_fps
        )
        self.duration_s = duration_s
        self.frame_count = max(1, round(duration_s * frame_rate_fps))

    @property
    def frame_rate_fps(self) -> float:
        return float(self.pattern.frame_rate_fps)

    @property
    def width_px(self) -> int:
        return int(self.pattern.width_px)

    @property
    def height_px(self) -> int:
        return int(self.pattern.height_px)

    def __iter__(self) -> Iterator[VideoFrame]:
        for number in range(self.frame_count):
            time_ms = number * 1000.0 / self.frame_rate_fps
            pixels = self.pattern.frame(number, send_time_ms=round(time_ms))
            yield VideoFrame(pixels, time_ms)


def parse_pattern_spec(spec: str, *, duration_s: float = 5.0) -> PatternSource:
    """A PatternSource from ``pattern:1280x720@30`` (the rate defaults to 30)."""
    match = _PATTERN_SPEC.fullmatch(spec.strip())
    if match is None:
        raise ConfigError(f"a pattern is written pattern:WIDTHxHEIGHT[@FPS], got {spec!r}")
    width_px, height_px = int(match.group(1)), int(match.group(2))
    frame_rate_fps = float(match.group(3)) if match.group(3) else _DEFAULT_PATTERN_FPS
    if width_px > 3840 or height_px > 2160:
        raise ConfigError(f"a pattern is at most 3840x2160, got {width_px}x{height_px}")
    return PatternSource(
        width_px=width_px,
        height_px=height_px,
        frame_rate_fps=frame_rate_fps,
        duration_s=duration_s,
    )
