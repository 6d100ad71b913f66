"""The unit of video in the media layer: one I420 picture and its time.

Pixels use the engine's layout (docs/engine.md): one C-contiguous uint8
array of shape ``(height * 3 // 2, width)`` holding the Y plane's rows, then
U's, then V's, each packed; width and height are even. This is PyAV's
``to_ndarray(format="yuv420p")`` layout, so :meth:`VideoFrame.to_av` and
:meth:`VideoFrame.from_av` convert without copying plane by plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError

__all__ = ["VideoFrame", "check_i420", "psnr_db"]


def check_i420(pixels: npt.NDArray[np.uint8]) -> tuple[int, int]:
    """Returns (width_px, height_px) of an I420 array, or raises ConfigError
    naming what is wrong with it."""
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ConfigError(
            f"an I420 frame is a 2-D uint8 array, got {pixels.dtype} with {pixels.ndim} dims"
        )
    rows, width_px = pixels.shape
    if rows % 3 or width_px % 2 or (rows * 2 // 3) % 2 or rows == 0:
        raise ConfigError(
            f"an I420 frame has shape (height * 3 // 2, width) with even sizes, got {pixels.shape}"
        )
    return int(width_px), int(rows * 2 // 3)


@dataclass(frozen=True)
class VideoFrame:
    """One picture and when it was taken.

    ``time_ms`` is the capture time on the sender's clock for a captured
    frame, the media time (RTP timestamp from the stream's first frame) for
    a received one. ``rtp_timestamp`` (90 kHz) is set on received frames.
    """

    pixels: npt.NDArray[np.uint8]
    time_ms: float
    rtp_timestamp: int | None = None

    def __post_init__(self) -> None:
        check_i420(self.pixels)
        if not self.pixels.flags.c_contiguous:
            raise ConfigError("the pixels of a frame must be C-contiguous")

    @property
    def width_px(self) -> int:
        """Picture width."""
        return int(self.pixels.shape[1])

    @property
    def height_px(self) -> int:
        """Picture height."""
        return int(self.pixels.shape[0] * 2 // 3)

    @classmethod
    def from_av(cls, frame: av.VideoFrame, *, time_ms: float) -> VideoFrame:
        """Converts a PyAV frame of any pixel format; an odd size is cropped
        to the even size below it (VP8 here codes even sizes only)."""
        width_px, height_px = frame.width - frame.width % 2, frame.height - frame.height % 2
        if width_px < 2 or height_px < 2:
            raise ConfigError(f"a frame of {frame.width}x{frame.height} is too small to code")
        if (width_px, height_px) != (frame.width, frame.height) or frame.format.name != "yuv420p":
            frame = frame.reformat(width=width_px, height=height_px, format="yuv420p")
        pixels = np.ascontiguousarray(frame.to_ndarray(format="yuv420p"), dtype=np.uint8)
        return cls(pixels, time_ms)

    def to_av(self) -> av.VideoFrame:
        """The picture as a PyAV frame (yuv420p); its pts is left unset."""
        return av.VideoFrame.from_ndarray(self.pixels, format="yuv420p")


def psnr_db(reference: npt.NDArray[np.uint8], shown: npt.NDArray[np.uint8]) -> float:
    """PSNR over Y, U and V together with an 8-bit peak; 99 dB for equal
    pictures. Both must have the same shape."""
    if reference.shape != shown.shape:
        raise ConfigError(f"cannot compare pictures of {reference.shape} and {shown.shape}")
    error = reference.astype(np.float64) - shown.astype(np.float64)
    mse = float(np.mean(error * error))
    return 99.0 if mse == 0.0 else float(10.0 * np.log10(255.0**2 / mse))
