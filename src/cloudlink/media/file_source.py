"""Sources that read a media file: WAV through the standard library, and any
container and codec FFmpeg knows through PyAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from cloudlink.errors import MediaFileError
from cloudlink.media.source import AudioSource
from cloudlink.media.wav import read_wav

__all__ = ["AvFileSource", "WavSource", "open_source"]

# Rate used when a file's own rate cannot be cut into 10 ms frames (22050 Hz).
_FALLBACK_RATE_HZ = 48000


def _default_rate(file_rate_hz: int, wanted_hz: int | None) -> int:
    if wanted_hz is not None:
        return wanted_hz
    return file_rate_hz if file_rate_hz % 100 == 0 else _FALLBACK_RATE_HZ


def _default_channels(file_channels: int, wanted: int | None) -> int:
    if wanted is not None:
        return wanted
    return file_channels if file_channels in (1, 2) else 1


class WavSource(AudioSource):
    """A 16-bit PCM WAV file, by default at its own rate and channel count."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate_hz: int | None = None,
        channels: int | None = None,
    ) -> None:
        self.path = Path(path)
        self._samples, self._file_rate_hz = read_wav(self.path)
        file_channels = 1 if self._samples.ndim == 1 else self._samples.shape[1]
        super().__init__(
            sample_rate_hz=_default_rate(self._file_rate_hz, sample_rate_hz),
            channels=_default_channels(file_channels, channels),
        )

    @property
    def input_rate_hz(self) -> int:
        return self._file_rate_hz

    @property
    def duration_samples(self) -> int:
        """Length of the file in samples per channel at its own rate."""
        return int(self._samples.shape[0])

    def _blocks(self) -> Iterator[npt.NDArray[np.int16]]:
        yield self._samples


class AvFileSource(AudioSource):
    """The first audio stream of any file FFmpeg (through PyAV) decodes."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate_hz: int | None = None,
        channels: int | None = None,
    ) -> None:
        self.path = Path(path)
        with self._open() as container:
            stream = container.streams.audio[0]
            file_rate_hz = int(stream.codec_context.sample_rate or 0)
            file_channels = int(stream.codec_context.channels or 1)
        if file_rate_hz <= 0:
            raise MediaFileError(f"{self.path}: the audio stream has no sample rate")
        self._file_rate_hz = file_rate_hz
        super().__init__(
            sample_rate_hz=_default_rate(file_rate_hz, sample_rate_hz),
            channels=_default_channels(file_channels, channels),
        )

    @property
    def input_rate_hz(self) -> int:
        return self._file_rate_hz

    def _open(self) -> av.container.InputContainer:
        try:
            container = av.open(str(self.path), "r")
        except (av.FFmpegError, OSError) as error:
            raise MediaFileError(f"{self.path}: cannot open ({error})") from error
        if not container.streams.audio:
            container.close()
            raise MediaFileError(f"{self.path}: holds no audio stream")
        return container

    def _blocks(self) -> Iterator[npt.NDArray[np.int16]]:
        # PyAV converts to packed int16 at the file's own rate; changing the
        # rate is left to the native Resampler of the base class.
        layout = "mono" if self.channels == 1 else "stereo"
        converter = av.AudioResampler(format="s16", layout=layout, rate=self._file_rate_hz)
        with self._open() as container:
            try:
                for decoded in container.decode(audio=0):
                    for frame in converter.resample(decoded):
                        yield self._to_array(frame)
                for frame in converter.resample(None):
                    yield self._to_array(frame)
            except av.FFmpegError as error:
                raise MediaFileError(f"{self.path}: cannot decode ({error})") from error

    def _to_array(self, frame: av.AudioFrame) -> npt.NDArray[np.int16]:
        samples = frame.to_ndarray().reshape(-1)
        if self.channels > 1:
            return samples.reshape(-1, self.channels).astype(np.int16, copy=False)
        return samples.astype(np.int16, copy=False)


def open_source(
    path: str | Path, *, sample_rate_hz: int | None = None, channels: int | None = None
) -> AudioSource:
    """A WavSource for 16-bit PCM ``.wav`` files, an AvFileSource otherwise."""
    path = Path(path)
    if path.suffix.lower() == ".wav":
        try:
            return WavSource(path, sample_rate_hz=sample_rate_hz, channels=channels)
        except MediaFileError as error:
            # Float or 24-bit WAV is for FFmpeg; a missing file is not.
            if not path.is_file() or "16-bit" not in str(error):
                raise
    return AvFileSource(path, sample_rate_hz=sample_rate_hz, channels=channels)
