"""Mixes the played-out frames of several incoming streams into one.

The streams are summed in floating point and passed through a soft limiter:
samples below the knee go through untouched; above it the excess is bent
with tanh toward full scale, so a loud overlap never wraps or clips hard.
Each stream's level is measured with the native LevelMeter (dBov and the
RFC 6464 audio level), as active-speaker detection needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media._framing import check_channels
from cloudlink.media.frame import AudioFrame, frame_samples

__all__ = ["Mixer"]

# int16 full scale.
_FULL_SCALE: Final = 32767.0


class Mixer:
    """Sums 10 ms frames of named streams with soft limiting."""

    def __init__(self, *, sample_rate_hz: int, channels: int = 1, knee_dbfs: float = -6.0) -> None:
        frame_samples(sample_rate_hz)
        if not knee_dbfs < 0.0:
            raise ConfigError(f"knee_dbfs must be below 0 dBFS, got {knee_dbfs}")
        self.sample_rate_hz = sample_rate_hz
        self.channels = check_channels(channels)
        self.knee = 10.0 ** (knee_dbfs / 20.0)
        self._meters: dict[str, _native.LevelMeter] = {}
        self.levels_dbov: dict[str, float] = {}
        self.frames_mixed = 0

    def audio_level(self, name: str) -> int:
        """RFC 6464 audio level of a stream's last frame (0 loud .. 127 silent)."""
        return int(self._meters[name].audio_level)

    def remove(self, name: str) -> None:
        """Forgets a stream that has left."""
        self._meters.pop(name, None)
        self.levels_dbov.pop(name, None)

    def mix(self, frames: Mapping[str, AudioFrame]) -> AudioFrame:
        """One mixed frame from the current frame of every stream."""
        # Step 1: measure and sum every stream.
        shape = (frame_samples(self.sample_rate_hz),) + (
            (self.channels,) if self.channels > 1 else ()
        )
        total = np.zeros(shape, np.float64)
        for name, frame in frames.items():
            if frame.sample_rate_hz != self.sample_rate_hz or frame.channels != self.channels:
                raise ConfigError(
                    f"stream {name!r} is {frame.sample_rate_hz} Hz x {frame.channels}, the mixer "
                    f"{self.sample_rate_hz} Hz x {self.channels}"
                )
            meter = self._meters.get(name)
            if meter is None:
                meter = self._meters[name] = _native.LevelMeter(sample_rate_hz=self.sample_rate_hz)
            self.levels_dbov[name] = float(meter.process(frame.samples))
            total += frame.samples

        # Step 2: soft limit what rises above the knee, keeping the sign.
        mixed = self._limit(total / _FULL_SCALE) * _FULL_SCALE
        out = AudioFrame(
            np.round(mixed).astype(np.int16),
            self.sample_rate_hz,
            self.frames_mixed * frame_samples(self.sample_rate_hz),
        )
        self.frames_mixed += 1
        return out

    def _limit(self, x: np.ndarray) -> np.ndarray:
        # Above the knee k: k + (1 - k) tanh((|x| - k) / (1 - k)), which
        # meets the identity with slope 1 at k and never reaches 1.
        k = self.knee
        magnitude = np.abs(x)
        over = magnitude > k
        bent = k + (1.0 - k) * np.tanh((magnitude[over] - k) / (1.0 - k))
        limited = x.copy()
        limited[over] = np.sign(x[over]) * bent
        return limited
