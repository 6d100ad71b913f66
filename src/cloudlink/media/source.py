"""What every audio source shares: 10 ms frames at the rate the caller asks.

A concrete source only produces blocks of int16 samples at its own rate and
channel count; this base class converts the channels, resamples with the
native Resampler when the rates differ, and cuts the result into 10 ms
frames (the last one padded with silence).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterator

import numpy as np
import numpy.typing as npt

from cloudlink.media._framing import Framer, StreamResampler, check_channels, to_channels
from cloudlink.media.frame import AudioFrame, frame_samples

__all__ = ["AudioSource"]


class AudioSource(abc.ABC):
    """An iterable (and async iterable) of 10 ms :class:`AudioFrame`."""

    def __init__(self, *, sample_rate_hz: int, channels: int = 1) -> None:
        frame_samples(sample_rate_hz)  # validates the rate
        self.sample_rate_hz = sample_rate_hz
        self.channels = check_channels(channels)

    @property
    @abc.abstractmethod
    def input_rate_hz(self) -> int:
        """The rate the blocks of :meth:`_blocks` come at."""

    @abc.abstractmethod
    def _blocks(self) -> Iterator[npt.NDArray[np.int16]]:
        """Yields int16 blocks of any length at ``input_rate_hz``."""

    def __iter__(self) -> Iterator[AudioFrame]:
        framer = Framer(sample_rate_hz=self.sample_rate_hz, channels=self.channels)
        resampler = None
        if self.input_rate_hz != self.sample_rate_hz:
            resampler = StreamResampler(
                input_rate_hz=self.input_rate_hz,
                output_rate_hz=self.sample_rate_hz,
                channels=self.channels,
            )
        for block in self._blocks():
            block = to_channels(block, self.channels)
            if resampler is not None:
                block = resampler.process(block)
            yield from framer.push(block)
        if resampler is not None:
            yield from framer.push(resampler.flush())
        yield from framer.flush()

    async def __aiter__(self) -> AsyncIterator[AudioFrame]:
        for frame in self:
            yield frame
