"""Bitrate of each temporal layer of a published video stream, measured
from the bytes forwarded: what a subscriber would receive at each layer."""

from __future__ import annotations

from typing import Final

__all__ = ["LayerBitrateMeter"]

# Rates are counted over windows this long and smoothed across windows: a
# window holds 15 frames at 30 fps, so the layer pattern (1 in 4 frames for
# the base layer of three) averages out within each.
_WINDOW_MS: Final = 500.0
# Weight of the newest window in the smoothed rate.
_SMOOTHING: Final = 0.5


class LayerBitrateMeter:
    """Counts payload and header bytes per temporal layer; ``rates_bps``
    gives the cumulative rate of layers 0..t for each t once a window is
    complete (empty before)."""

    def __init__(self, *, max_layers: int = 4) -> None:
        self._bytes = [0] * max_layers
        self._smoothed_bps: list[float] = []
        self._window_start_ms: float | None = None

    def on_packet(self, temporal_layer_id: int | None, size_bytes: int, now_ms: float) -> None:
        start = self._window_start_ms
        if start is None:
            self._window_start_ms = start = now_ms
        elif now_ms - start >= _WINDOW_MS:
            self._close_window(now_ms - start)
            self._window_start_ms = now_ms
        layer = temporal_layer_id or 0
        if layer < len(self._bytes):
            self._bytes[layer] += size_bytes

    @property
    def rates_bps(self) -> list[float]:
        """Cumulative bitrate of layers 0..t, index t, up to the highest
        layer seen; empty until the first window closes."""
        return self._smoothed_bps

    def _close_window(self, elapsed_ms: float) -> None:
        highest = max((t for t, count in enumerate(self._bytes) if count), default=0)
        cumulative, total = [], 0
        for count in self._bytes[: highest + 1]:
            total += count
            cumulative.append(total * 8000.0 / elapsed_ms)
        previous = self._smoothed_bps
        if len(previous) == len(cumulative):
            cumulative = [
                _SMOOTHING * new + (1.0 - _SMOOTHING) * old
                for new, old in zip(cumulative, previous, strict=True)
            ]
        self._smoothed_bps = cumulative
        self._bytes = [0] * len(self._bytes)
