"""Where video frames go: memory, a callback, or a file PyAV writes (WebM
with VP8, MP4 with H.264 where PyAV has it, else MPEG-4 Part 2; Matroska
with VP8). Every sink takes :class:`VideoFrame` through
:meth:`VideoSink.write` and is closed once (it is also a context manager).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Final

import av

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.video_frame import VideoFrame

__all__ = [
    "AvVideoFileSink",
    "CallbackVideoSink",
    "MemoryVideoSink",
    "VideoSink",
    "video_codec_for",
]

# Frame times are written in ms: a frame keeps the time it was shown at, so
# a freeze stays a freeze in the file.
_TIME_BASE: Final = Fraction(1, 1000)
# A recorder must keep up with the call: each encoder at its fastest.
_FAST_OPTIONS: Final = {
    "libvpx": {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"},
    "libx264": {"preset": "ultrafast", "tune": "zerolatency"},
}
# Codec by file suffix, first available wins.
_CODECS: Final = {
    ".webm": ("libvpx",),
    ".mkv": ("libvpx",),
    ".mp4": ("libx264", "libopenh264", "mpeg4"),
    ".mov": ("libx264", "mpeg4"),
}


def video_codec_for(path: str | Path) -> str:
    """The encoder an AvVideoFileSink uses for ``path``'s suffix."""
    suffix = Path(path).suffix.lower()
    for name in _CODECS.get(suffix, ()):
        if name in av.codecs_available:
            return name
    raise MediaFileError(
        f"{path}: cannot write video to {suffix or 'a file without suffix'!r} "
        f"(use {', '.join(sorted(_CODECS))})"
    )


class VideoSink(abc.ABC):
    """Takes frames in display order."""

    def __init__(self) -> None:
        self.closed = False
        self.frames_written = 0

    def write(self, frame: VideoFrame) -> None:
        """Takes one frame."""
        if self.closed:
            raise ConfigError("the sink is closed")
        self._write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finishes the output; further writes raise."""
        if not self.closed:
            self.closed = True
            self._close()

    @abc.abstractmethod
    def _write(self, frame: VideoFrame) -> None: ...

    def _close(self) -> None:
        return None

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MemoryVideoSink(VideoSink):
    """Keeps every frame in ``frames``."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[VideoFrame] = []

    def _write(self, frame: VideoFrame) -> None:
        self.frames.append(frame)


class CallbackVideoSink(VideoSink):
    """Hands each frame to ``callback``."""

    def __init__(self, callback: Callable[[VideoFrame], None]) -> None:
        super().__init__()
        self._callback = callback

    def _write(self, frame: VideoFrame) -> None:
        self._callback(frame)


class AvVideoFileSink(VideoSink):
    """Encodes frames into a file through PyAV, each at its ``time_ms``
    (from the first frame written), with the codec of
    :func:`video_codec_for` unless ``codec`` names one. Frames of another
    size are scaled to ``width_px`` x ``height_px``."""

    def __init__(
        self,
        path: str | Path,
        *,
        width_px: int,
        height_px: int,
        frame_rate_fps: float = 30.0,
        bitrate_bps: int = 2_000_000,
        codec: str | None = None,
    ) -> None:
        super().__init__()
        if width_px < 2 or height_px < 2 or width_px % 2 or height_px % 2:
            raise ConfigError(f"the sink's size must be even, got {width_px}x{height_px}")
        self.path = Path(path)
        self.width_px, self.height_px = width_px, height_px
        name = codec or video_codec_for(self.path)
        try:
            self._container = av.open(str(self.path), "w")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise MediaFileError(f"{self.path}: cannot create ({error})") from error
        try:
            stream = self._container.add_stream(
                name, rate=round(frame_rate_fps), options=_FAST_OPTIONS.get(name, {})
            )
            if not isinstance(stream, av.video.stream.VideoStream):
                raise ValueError(f"{name} is not a video codec")
            stream.width, stream.height = width_px, height_px
            stream.pix_fmt = "yuv420p"
            # One thread: more collapse on a busy two-core machine (ANCHORS.md).
            stream.thread_count = 1
            stream.bit_rate = bitrate_bps
            stream.time_base = _TIME_BASE
            stream.codec_context.time_base = _TIME_BASE
            # Writing the header now opens the file, so a bad path fails here.
            self._container.start_encoding()
        except (av.FFmpegError, OSError, ValueError) as error:
            self._container.close()
            raise MediaFileError(f"{self.path}: cannot encode with {name!r} ({error})") from error
        self.codec = name
        self._stream = stream
        self._first_ms: float | None = None
        self._last_pts = -1

    def _write(self, frame: VideoFrame) -> None:
        # Step 1: the picture at the sink's size.
        out = frame.to_av()
        if (frame.width_px, frame.height_px) != (self.width_px, self.height_px):
            out = out.reformat(width=self.width_px, height=self.height_px)
        # Step 2: its time in ms from the first frame, strictly increasing.
        if self._first_ms is None:
            self._first_ms = frame.time_ms
        pts = max(round(frame.time_ms - self._first_ms), self._last_pts + 1)
        self._last_pts = pts
        out.pts = pts
        out.time_base = _TIME_BASE
        self._mux(out)

    def _mux(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.FFmpegError as error:
            raise MediaFileError(f"{self.path}: cannot encode ({error})") from error

    def _close(self) -> None:
        try:
            self._mux(None)
        finally:
            self._container.close()
