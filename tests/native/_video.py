"""Synthetic I420 video for the VP8 tests: a panning gradient with moving
shapes, the kind of motion an encoder has to track."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["psnr_db", "scene"]


def scene(index: int, width_px: int, height_px: int) -> npt.NDArray[np.uint8]:
    """Frame `index` of a moving scene as one (h * 3 / 2, w) I420 array."""
    rows = np.arange(height_px)[:, None]
    cols = np.arange(width_px)[None, :]
    luma = (rows * 0.7 + cols * 0.4 + index * 3) % 220 + 16
    # A bright square moving right and a dark disc moving down.
    side = height_px // 5
    left = (index * 7) % max(width_px - side, 1)
    luma[side : 2 * side, left : left + side] = 235
    centre_row = (index * 5) % height_px
    disc = (rows - centre_row) ** 2 + (cols - width_px // 3) ** 2 < (height_px // 8) ** 2
    luma = np.where(disc, 30, luma)
    # Chroma: slow hue gradients that pan too.
    chroma_shape = (height_px // 2, width_px // 2)
    crow = np.arange(chroma_shape[0])[:, None]
    ccol = np.arange(chroma_shape[1])[None, :]
    u = np.broadcast_to((ccol * 0.5 + index) % 96 + 80, chroma_shape)
    v = np.broadcast_to((crow * 0.6 - index) % 96 + 80, chroma_shape)
    planes = np.concatenate([luma.ravel(), u.ravel(), v.ravel()])
    return planes.astype(np.uint8).reshape(height_px * 3 // 2, width_px)


def psnr_db(reference: npt.NDArray[np.uint8], decoded: npt.NDArray[np.uint8]) -> float:
    """PSNR over all three planes, 8-bit peak."""
    error = reference.astype(np.float64) - decoded.astype(np.float64)
    mse = float(np.mean(error**2))
    return 99.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))
