"""Package-internal helpers: channel conversion, streaming resampling and
cutting arbitrary blocks of samples into 10 ms frames."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media.frame import AudioFrame, frame_samples

Int16Array = npt.NDArray[np.int16]


def check_channels(channels: int) -> int:
    """Returns ``channels`` if the media layer handles it (mono or stereo)."""
    if channels not in (1, 2):
        raise ConfigError(f"channels must be 1 or 2, got {channels}")
    return channels


def to_channels(samples: Int16Array, channels: int) -> Int16Array:
    """Down-mixes (mean) or up-mixes (copy) ``samples`` to ``channels``."""
    have = 1 if samples.ndim == 1 else samples.shape[1]
    if have == channels:
        return samples
    if channels == 1:
        mean: npt.NDArray[np.int16] = (samples.astype(np.int32).sum(axis=1) // have).astype(
            np.int16
        )
        return mean
    mono = samples if samples.ndim == 1 else samples[:, 0]
    return np.repeat(mono[:, None], channels, axis=1)


class StreamResampler:
    """The native Resampler with its group delay removed, so that output
    sample n lines up with input sample n * out / in."""

    def __init__(self, *, input_rate_hz: int, output_rate_hz: int, channels: int) -> None:
        self._resampler = _native.Resampler(
            input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz, channels=channels
        )
        self._to_skip = int(self._resampler.delay_samples)

    def process(self, samples: Int16Array) -> Int16Array:
        """Resamples one block; the first call's output may be shorter."""
        out: Int16Array = self._resampler.process(samples)
        if self._to_skip:
            skipped = min(self._to_skip, out.shape[0])
            self._to_skip -= skipped
            out = out[skipped:]
        return out

    def flush(self) -> Int16Array:
        """What remains in the filter, delay removed."""
        out: Int16Array = self._resampler.flush()
        skipped = min(self._to_skip, out.shape[0])
        self._to_skip -= skipped
        return out[skipped:]


class Framer:
    """Collects blocks of any length and cuts them into 10 ms frames."""

    def __init__(self, *, sample_rate_hz: int, channels: int) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels
        self._frame_samples = frame_samples(sample_rate_hz)
        self._pending: list[Int16Array] = []
        self._pending_samples = 0
        self._emitted_samples = 0

    def push(self, samples: Int16Array) -> Iterator[AudioFrame]:
        """Adds a block; yields every complete frame it finishes."""
        if samples.shape[0]:
            self._pending.append(samples)
            self._pending_samples += samples.shape[0]
        if self._pending_samples < self._frame_samples:
            return
        joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        whole = joined.shape[0] // self._frame_samples * self._frame_samples
        for start in range(0, whole, self._frame_samples):
            yield self._frame(joined[start : start + self._frame_samples])
        rest = joined[whole:]
        self._pending = [rest] if rest.shape[0] else []
        self._pending_samples = rest.shape[0]

    def flush(self) -> Iterator[AudioFrame]:
        """Yields the last partial frame, padded with silence, if any."""
        if not self._pending_samples:
            return
        joined = np.concatenate(self._pending)
        pad = [(0, self._frame_samples - joined.shape[0])] + [(0, 0)] * (joined.ndim - 1)
        self._pending, self._pending_samples = [], 0
        yield self._frame(np.pad(joined, pad))

    def _frame(self, samples: Int16Array) -> AudioFrame:
        frame = AudioFrame(
            np.ascontiguousarray(samples), self.sample_rate_hz, self._emitted_samples
        )
        self._emitted_samples += self._frame_samples
        return frame
