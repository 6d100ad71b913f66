"""Video sources read through PyAV's demuxers: any file FFmpeg decodes, the
X11 screen (``x11grab``) and V4L2 cameras (``video4linux2``).

Each frame is converted to I420 at the source's size (odd sizes cropped to
even) and timed by its presentation timestamp, in ms from the first frame.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import av

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_source import VideoSource, parse_pattern_spec

__all__ = ["AvVideoSource", "CameraSource", "ScreenSource", "open_video_source"]

# Rate assumed when a stream declares none (as some raw captures do).
_FALLBACK_FPS: Final = 30.0
# A capture device says what it sends: no need for FFmpeg to watch a second
# of frames first (its default probing).
_FAST_PROBE: Final = {"probesize": "32", "analyzeduration": "0", "fpsprobesize": "0"}


class AvVideoSource(VideoSource):
    """The first video stream of anything PyAV opens: a file by default, a
    capture device when ``format`` names an FFmpeg input device, with its
    ``options`` (FFmpeg's names, e.g. ``{"framerate": "30"}``). Frames stop
    after ``duration_s`` when given (a device never ends by itself)."""

    def __init__(
        self,
        url: str | Path,
        *,
        format: str | None = None,
        options: dict[str, str] | None = None,
        duration_s: float | None = None,
    ) -> None:
        if duration_s is not None and not duration_s > 0.0:
            raise ConfigError(f"duration_s must be positive, got {duration_s}")
        self.url = str(url)
        self.format = format
        self.options = dict(options or {})
        self.duration_s = duration_s
        # TODO(#3): the probe opens the input once and iterating opens it again: a camera or
        # screen is started twice (~0.1 s more before the first frame).
        with self._open() as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            self._frame_rate_fps = float(rate) if rate else _FALLBACK_FPS
            self._width_px = int(stream.codec_context.width) // 2 * 2
            self._height_px = int(stream.codec_context.height) // 2 * 2

    @property
    def frame_rate_fps(self) -> float:
        return self._frame_rate_fps

    @property
    def width_px(self) -> int:
        return self._width_px

    @property
    def height_px(self) -> int:
        return self._height_px

    def _open(self) -> av.container.InputContainer:
        try:
            container = av.open(self.url, "r", format=self.format, options=self.options)
        except (av.FFmpegError, OSError, ValueError) as error:
            raise MediaFileError(f"{self.url}: cannot open ({error})") from error
        if not container.streams.video:
            container.close()
            raise MediaFileError(f"{self.url}: holds no video stream")
        return container

    def __iter__(self) -> Iterator[VideoFrame]:
        first_s: float | None = None
        last_ms = -1.0
        with self._open() as container:
            stream = container.streams.video[0]
            # Step 1: decode; frames without a pts follow the nominal rate.
            try:
                for index, decoded in enumerate(container.decode(stream)):
                    seconds = decoded.time
                    if seconds is None:
                        seconds = index / self._frame_rate_fps
                    if first_s is None:
                        first_s = seconds
                    time_ms = (seconds - first_s) * 1000.0
                    # Step 2: stop at the duration; keep time moving forward.
                    if self.duration_s is not None and time_ms >= self.duration_s * 1000.0:
                        return
                    if time_ms <= last_ms:
                        time_ms = last_ms + 1.0
                    last_ms = time_ms
                    yield VideoFrame.from_av(decoded, time_ms=time_ms)
            except av.FFmpegError as error:
                raise MediaFileError(f"{self.url}: cannot decode ({error})") from error


class ScreenSource(AvVideoSource):
    """The X11 screen ``display`` (``:0``, or ``$DISPLAY``) through FFmpeg's
    x11grab: the whole screen, or ``width_px`` x ``height_px`` from
    (``x_px``, ``y_px``)."""

    def __init__(
        self,
        *,
        display: str | None = None,
        frame_rate_fps: float = 30.0,
        width_px: int | None = None,
        height_px: int | None = None,
        x_px: int = 0,
        y_px: int = 0,
        duration_s: float | None = None,
    ) -> None:
        display = display or os.environ.get("DISPLAY") or ":0"
        if (width_px is None) != (height_px is None):
            raise ConfigError("give both width_px and height_px, or neither")
        options = {"framerate": f"{frame_rate_fps:g}", "draw_mouse": "0", **_FAST_PROBE}
        if width_px is not None and height_px is not None:
            options["video_size"] = f"{width_px}x{height_px}"
        super().__init__(
            f"{display}+{x_px},{y_px}",
            format="x11grab",
            options=options,
            duration_s=duration_s,
        )


class CameraSource(AvVideoSource):
    """A V4L2 camera (``/dev/video0`` by default) through FFmpeg's
    video4linux2 input, at the size and rate asked for when the camera
    offers them."""

    def __init__(
        self,
        device: str | Path = "/dev/video0",
        *,
        width_px: int | None = None,
        height_px: int | None = None,
        frame_rate_fps: float | None = None,
        duration_s: float | None = None,
    ) -> None:
        # FFmpeg's own message for a missing device is a bare errno; say
        # which cameras exist instead.
        if not Path(device).exists():
            present = sorted(glob.glob("/dev/video*"))
            found = ", ".join(present) if present else "none: no V4L2 camera on this machine"
            raise MediaFileError(f"{device}: no such camera (V4L2 devices: {found})")
        options: dict[str, str] = dict(_FAST_PROBE)
        if width_px is not None and height_px is not None:
            options["video_size"] = f"{width_px}x{height_px}"
        if frame_rate_fps is not None:
            options["framerate"] = f"{frame_rate_fps:g}"
        super().__init__(device, format="video4linux2", options=options, duration_s=duration_s)


def open_video_source(spec: str, *, duration_s: float | None = None) -> VideoSource:
    """``pattern:WxH[@FPS]`` (5 s unless ``duration_s``), or a file PyAV
    reads (cut to ``duration_s`` when given)."""
    if spec.startswith("pattern:"):
        return parse_pattern_spec(spec, duration_s=5.0 if duration_s is None else duration_s)
    if not Path(spec).is_file():
        raise MediaFileError(f"{spec}: no such file")
    return AvVideoSource(spec, duration_s=duration_s)
