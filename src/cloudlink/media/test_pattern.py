"""A synthetic video source whose frames carry their own frame number and
send time, so that any receiver can count lost frames and measure latency.

Each frame is I420 in the engine's layout (one uint8 array of shape
``(height * 3 // 2, width)``, see docs/engine.md). Below a strip at the top,
a textured backdrop pans and a bright square moves, so an encoder has real
motion to code. The strip holds a grid of black and white cells, one bit
each, most significant first: the frame number (32 bits), the send time in
whole milliseconds (48 bits) and a CRC-16/CCITT of those ten bytes (ITU-T
V.41) so that a cell misread after lossy coding is detected, not trusted.
Cells are 16 pixels wide from 640 pixels of width up, 8 below: large enough
to survive VP8 at conferencing bitrates. The reader judges each cell by the
mean of its inner half against mid grey.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError

__all__ = ["TestPattern", "TestPatternStamp", "read_test_pattern"]

_FRAME_NUMBER_BITS: Final = 32
_SEND_TIME_BITS: Final = 48
_CRC_BITS: Final = 16
_PAYLOAD_BITS: Final = _FRAME_NUMBER_BITS + _SEND_TIME_BITS + _CRC_BITS
# Video range luma (ITU-R BT.601): black 16, white 235; chroma neutral 128.
_BLACK: Final = 16
_WHITE: Final = 235
_NEUTRAL_CHROMA: Final = 128
_MID_GREY: Final = (_BLACK + _WHITE) / 2
# Backdrop motion per frame, in pixels, and the texture's grain.
_PAN_PX_PER_FRAME: Final = 2
_TEXTURE_GRAIN_PX: Final = 8


@dataclass(frozen=True)
class TestPatternStamp:
    """What a test-pattern frame says about itself."""

    __test__ = False  # not a pytest test class, despite its name

    frame_number: int
    send_time_ms: int


def _cell_px(width_px: int) -> int:
    return 16 if width_px >= 640 else 8


def _grid(width_px: int) -> tuple[int, int, int]:
    """(cell size in px, cells per row, rows) of the code strip."""
    cell_px = _cell_px(width_px)
    per_row = width_px // cell_px
    rows = -(-_PAYLOAD_BITS // per_row)
    return cell_px, per_row, rows


def _payload_bits(frame_number: int, send_time_ms: int) -> npt.NDArray[np.uint8]:
    body = frame_number.to_bytes(4, "big") + send_time_ms.to_bytes(6, "big")
    crc = binascii.crc_hqx(body, 0xFFFF)
    data = np.frombuffer(body + crc.to_bytes(2, "big"), dtype=np.uint8)
    return np.unpackbits(data)


class TestPattern:
    """Frames of the stamped test pattern for one size.

    ``TestPattern(width_px=1280, height_px=720).frame(7, send_time_ms=t)``
    returns frame 7 stamped with ``t``; ``read_test_pattern`` gets both back.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, *, width_px: int, height_px: int, frame_rate_fps: float = 30.0) -> None:
        if width_px < 64 or width_px % 2 or height_px < 2 or height_px % 2:
            raise ConfigError(
                f"width_px must be even and at least 64, height_px even, got {width_px}x{height_px}"
            )
        if not 1.0 <= frame_rate_fps <= 120.0:
            raise ConfigError(f"frame_rate_fps must be within 1..120, got {frame_rate_fps}")
        cell_px, _, rows = _grid(width_px)
        self._strip_px = rows * cell_px
        if self._strip_px + 16 > height_px:
            raise ConfigError(
                f"height_px {height_px} leaves no room below the {self._strip_px}-pixel code strip"
            )
        self.width_px: Final = width_px
        self.height_px: Final = height_px
        self.frame_rate_fps: Final = frame_rate_fps
        # A smooth random texture twice the frame, panned one way then back.
        rng = np.random.default_rng(20260)
        coarse = rng.integers(
            40, 200, (2 * height_px // _TEXTURE_GRAIN_PX + 2, 2 * width_px // _TEXTURE_GRAIN_PX + 2)
        )
        self._texture = np.kron(coarse, np.ones((_TEXTURE_GRAIN_PX,) * 2)).astype(np.uint8)

    def frame(self, frame_number: int, *, send_time_ms: int | None = None) -> npt.NDArray[np.uint8]:
        """Frame ``frame_number`` (0..2^32-1), stamped with ``send_time_ms``
        (0..2^48-1; by default the frame's place in the stream at the
        nominal rate)."""
        if not 0 <= frame_number < 1 << _FRAME_NUMBER_BITS:
            raise ConfigError(f"frame_number must be within 0..2^32-1, got {frame_number}")
        if send_time_ms is None:
            send_time_ms = round(frame_number * 1000 / self.frame_rate_fps)
        if not 0 <= send_time_ms < 1 << _SEND_TIME_BITS:
            raise ConfigError(f"send_time_ms must be within 0..2^48-1, got {send_time_ms}")
        width_px, height_px = self.width_px, self.height_px
        out = np.empty((height_px * 3 // 2, width_px), dtype=np.uint8)
        luma = out[:height_px]

        # Backdrop: the texture window sweeps back and forth diagonally.
        span = min(self._texture.shape[0] - height_px, self._texture.shape[1] - width_px)
        step = (frame_number * _PAN_PX_PER_FRAME) % (2 * span)
        offset = step if step < span else 2 * span - step
        luma[:] = self._texture[offset : offset + height_px, offset : offset + width_px]

        # A bright square crossing the picture below the strip.
        side = max((height_px - self._strip_px) // 4, 4)
        left = (frame_number * 4) % max(width_px - side, 1)
        top = self._strip_px + (height_px - self._strip_px - side) // 2
        luma[top : top + side, left : left + side] = _WHITE

        # Chroma neutral, then the code strip over the top rows.
        out[height_px:] = _NEUTRAL_CHROMA
        self._stamp(luma, _payload_bits(frame_number, send_time_ms))
        return out

    def _stamp(self, luma: npt.NDArray[np.uint8], bits: npt.NDArray[np.uint8]) -> None:
        cell_px, per_row, rows = _grid(self.width_px)
        cells = np.zeros(rows * per_row, dtype=np.uint8)
        cells[: bits.size] = bits
        levels = np.where(cells.reshape(rows, per_row) == 1, _WHITE, _BLACK).astype(np.uint8)
        strip = np.kron(levels, np.ones((cell_px, cell_px), dtype=np.uint8))
        luma[: rows * cell_px] = _BLACK
        luma[: rows * cell_px, : per_row * cell_px] = strip


def read_test_pattern(frame: npt.NDArray[np.uint8]) -> TestPatternStamp | None:
    """Reads the stamp of a (possibly decoded, lossy) test-pattern frame in
    the I420 layout. Returns None when the strip fails its CRC: the frame is
    not a test pattern, or coding damaged it beyond reading."""
    if frame.dtype != np.uint8 or frame.ndim != 2 or frame.shape[0] % 3 != 0:
        raise ConfigError(
            f"frame must be an I420 uint8 array of shape (height * 3 // 2, width), "
            f"got {frame.dtype} {frame.shape}"
        )
    width_px = frame.shape[1]
    cell_px, per_row, rows = _grid(width_px)
    if width_px < 64 or rows * cell_px > frame.shape[0] * 2 // 3:
        return None

    # Mean of each cell's inner half, against mid grey.
    inner = slice(cell_px // 4, cell_px - cell_px // 4)
    strip = frame[: rows * cell_px, : per_row * cell_px].astype(np.float32)
    cells = strip.reshape(rows, cell_px, per_row, cell_px)[:, inner, :, inner]
    bits = (cells.mean(axis=(1, 3)) > _MID_GREY).astype(np.uint8).ravel()[:_PAYLOAD_BITS]

    # Unpack and check.
    data = np.packbits(bits).tobytes()
    body, crc = data[:10], int.from_bytes(data[10:12], "big")
    if binascii.crc_hqx(body, 0xFFFF) != crc:
        return None
    return TestPatternStamp(
        frame_number=int.from_bytes(body[:4], "big"), send_time_ms=int.from_bytes(body[4:], "big")
    )
