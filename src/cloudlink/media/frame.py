"""The unit of audio in the media layer: one 10 ms frame.

Every source yields, and every sink, pipeline and mixer takes, frames of
exactly 10 ms, the frame length of the engine (docs/engine.md) and of the
WebRTC audio path. Samples are int16 numpy arrays shaped ``(samples,)`` for
mono and ``(samples, channels)`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError

__all__ = ["FRAME_MS", "OPUS_RATES_HZ", "AudioFrame", "frame_samples"]

# Length of every frame in the media layer.
FRAME_MS: Final = 10
# Sample rates Opus codes natively (RFC 6716 section 2).
OPUS_RATES_HZ: Final = (8000, 12000, 16000, 24000, 48000)


def frame_samples(sample_rate_hz: int) -> int:
    """Samples per channel in one 10 ms frame at ``sample_rate_hz``."""
    if sample_rate_hz <= 0 or sample_rate_hz % 100 != 0:
        raise ConfigError(
            f"sample_rate_hz must be a positive multiple of 100 Hz, got {sample_rate_hz}"
        )
    return sample_rate_hz * FRAME_MS // 1000


@dataclass(frozen=True)
class AudioFrame:
    """10 ms of int16 audio and where it starts in its stream.

    ``timestamp_samples`` counts samples per channel at ``sample_rate_hz``
    from the start of the stream (for a received stream: of the playout
    clock).
    """

    samples: npt.NDArray[np.int16]
    sample_rate_hz: int
    timestamp_samples: int = 0

    def __post_init__(self) -> None:
        expected = frame_samples(self.sample_rate_hz)
        if self.samples.dtype != np.int16:
            raise TypeError(f"frame samples must be int16, got {self.samples.dtype}")
        if self.samples.ndim not in (1, 2) or self.samples.shape[0] != expected:
            raise ConfigError(
                f"a 10 ms frame at {self.sample_rate_hz} Hz holds {expected} samples per "
                f"channel, got shape {self.samples.shape}"
            )

    @property
    def channels(self) -> int:
        """Number of interleaved channels."""
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def timestamp_ms(self) -> float:
        """Start of the frame in ms from the start of its stream."""
        return 1000.0 * self.timestamp_samples / self.sample_rate_hz

    @classmethod
    def silence(
        cls, *, sample_rate_hz: int, channels: int = 1, timestamp_samples: int = 0
    ) -> AudioFrame:
        """A frame of digital silence."""
        shape = (frame_samples(sample_rate_hz),) + ((channels,) if channels > 1 else ())
        return cls(np.zeros(shape, np.int16), sample_rate_hz, timestamp_samples)
