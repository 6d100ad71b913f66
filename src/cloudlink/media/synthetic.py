"""Sources made up on the spot: a tone, noise, silence, and the speech files
shipped with the package (espeak-ng voices, 16 kHz mono)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError
from cloudlink.media.file_source import WavSource
from cloudlink.media.frame import AudioFrame, frame_samples
from cloudlink.media.source import AudioSource

__all__ = [
    "SPEAKERS",
    "NoiseSource",
    "SilenceSource",
    "ToneSource",
    "speech_path",
    "speech_source",
]

# The committed speech files in cloudlink/media/speech/.
SPEAKERS: Final = ("alice", "bob", "carol")
# Full scale of int16 audio (0 dBFS).
_FULL_SCALE: Final = 32767.0
# Blocks of one second keep the generators cheap.
_BLOCK_S: Final = 1.0


def _check_duration(duration_s: float | None) -> float | None:
    if duration_s is not None and (not math.isfinite(duration_s) or duration_s < 0.0):
        raise ConfigError(f"duration_s must be a finite number >= 0, got {duration_s}")
    return duration_s


class _GeneratedSource(AudioSource):
    """A signal computed block by block at the requested rate, endless when
    ``duration_s`` is None."""

    def __init__(self, *, sample_rate_hz: int, channels: int, duration_s: float | None) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels)
        self.duration_s = _check_duration(duration_s)

    @property
    def input_rate_hz(self) -> int:
        return self.sample_rate_hz

    def _blocks(self) -> Iterator[npt.NDArray[np.int16]]:
        block = int(_BLOCK_S * self.sample_rate_hz)
        remaining = None
        if self.duration_s is not None:
            remaining = round(self.duration_s * self.sample_rate_hz)
        start = 0
        while remaining is None or remaining > 0:
            count = block if remaining is None else min(block, remaining)
            mono = self._generate(start, count)
            yield mono if self.channels == 1 else np.repeat(mono[:, None], self.channels, axis=1)
            start += count
            if remaining is not None:
                remaining -= count

    def _generate(self, start: int, count: int) -> npt.NDArray[np.int16]:
        raise NotImplementedError


class ToneSource(_GeneratedSource):
    """A sine wave at ``frequency_hz`` and ``level_dbfs`` (peak)."""

    def __init__(
        self,
        *,
        frequency_hz: float = 1000.0,
        level_dbfs: float = -12.0,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        duration_s: float | None = None,
    ) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels, duration_s=duration_s)
        if not 0.0 < frequency_hz < sample_rate_hz / 2:
            raise ConfigError(
                f"frequency_hz must be within (0, {sample_rate_hz / 2}), got {frequency_hz}"
            )
        if level_dbfs > 0.0:
            raise ConfigError(f"level_dbfs must be <= 0, got {level_dbfs}")
        self.frequency_hz = frequency_hz
        self.amplitude = _FULL_SCALE * 10.0 ** (level_dbfs / 20.0)

    def _generate(self, start: int, count: int) -> npt.NDArray[np.int16]:
        n = np.arange(start, start + count, dtype=np.float64)
        wave = self.amplitude * np.sin(2.0 * np.pi * self.frequency_hz * n / self.sample_rate_hz)
        samples: npt.NDArray[np.int16] = np.round(wave).astype(np.int16)
        return samples


class NoiseSource(_GeneratedSource):
    """White Gaussian noise at ``level_dbfs`` RMS, reproducible from ``seed``."""

    def __init__(
        self,
        *,
        level_dbfs: float = -30.0,
        seed: int = 0,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        duration_s: float | None = None,
    ) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels, duration_s=duration_s)
        if level_dbfs > 0.0:
            raise ConfigError(f"level_dbfs must be <= 0, got {level_dbfs}")
        self.sigma = _FULL_SCALE * 10.0 ** (level_dbfs / 20.0)
        self._seed = seed
        self._rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[AudioFrame]:
        # Each pass over the source replays the same noise.
        self._rng = np.random.default_rng(self._seed)
        return super().__iter__()

    def _generate(self, start: int, count: int) -> npt.NDArray[np.int16]:
        noise = self._rng.standard_normal(count) * self.sigma
        samples: npt.NDArray[np.int16] = np.clip(np.round(noise), -32768, 32767).astype(np.int16)
        return samples


class SilenceSource(_GeneratedSource):
    """Digital silence."""

    def __init__(
        self, *, sample_rate_hz: int = 48000, channels: int = 1, duration_s: float | None = None
    ) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels, duration_s=duration_s)

    def _generate(self, start: int, count: int) -> npt.NDArray[np.int16]:
        return np.zeros(count, np.int16)


def speech_path(name: str) -> Path:
    """Path of a committed speech file (one of :data:`SPEAKERS`)."""
    if name not in SPEAKERS:
        raise ConfigError(f"no speech named {name!r}; choose from {', '.join(SPEAKERS)}")
    return Path(str(resources.files("cloudlink.media") / "speech" / f"{name}.wav"))


def speech_source(name: str, *, sample_rate_hz: int = 16000, channels: int = 1) -> WavSource:
    """A committed speaker as a source at ``sample_rate_hz``."""
    frame_samples(sample_rate_hz)
    return WavSource(speech_path(name), sample_rate_hz=sample_rate_hz, channels=channels)
