"""Where frames go: memory, a callback, a WAV file or any container PyAV
writes. Every sink takes 10 ms frames through :meth:`AudioSink.write` and is
closed once (it is also a context manager)."""

from __future__ import annotations

import abc
import wave
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media._framing import check_channels
from cloudlink.media.frame import AudioFrame, frame_samples

__all__ = ["AudioSink", "AvFileSink", "CallbackSink", "MemorySink", "WavSink", "open_sink"]


class AudioSink(abc.ABC):
    """Takes 10 ms frames of one rate and channel count."""

    def __init__(self, *, sample_rate_hz: int, channels: int = 1) -> None:
        frame_samples(sample_rate_hz)
        self.sample_rate_hz = sample_rate_hz
        self.channels = check_channels(channels)
        self.closed = False

    def write(self, frame: AudioFrame) -> None:
        """Takes one frame; its rate and channels must match the sink's."""
        if self.closed:
            raise ConfigError("the sink is closed")
        if frame.sample_rate_hz != self.sample_rate_hz or frame.channels != self.channels:
            raise ConfigError(
                f"the sink takes {self.sample_rate_hz} Hz x {self.channels} channels, got "
                f"{frame.sample_rate_hz} Hz x {frame.channels}"
            )
        self._write(frame)

    def close(self) -> None:
        """Finishes the output; further writes raise."""
        if not self.closed:
            self.closed = True
            self._close()

    @abc.abstractmethod
    def _write(self, frame: AudioFrame) -> None: ...

    def _close(self) -> None:
        return None

    def __enter__(self) -> AudioSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MemorySink(AudioSink):
    """Keeps every frame; :meth:`samples` joins them."""

    def __init__(self, *, sample_rate_hz: int, channels: int = 1) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels)
        self.frames: list[AudioFrame] = []

    def _write(self, frame: AudioFrame) -> None:
        self.frames.append(frame)

    def samples(self) -> npt.NDArray[np.int16]:
        """Every sample written so far, in order."""
        if not self.frames:
            shape = (0,) if self.channels == 1 else (0, self.channels)
            return np.zeros(shape, np.int16)
        return np.concatenate([frame.samples for frame in self.frames])


class CallbackSink(AudioSink):
    """Hands each frame to ``callback``."""

    def __init__(
        self,
        callback: Callable[[AudioFrame], None],
        *,
        sample_rate_hz: int,
        channels: int = 1,
    ) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels)
        self._callback = callback

    def _write(self, frame: AudioFrame) -> None:
        self._callback(frame)


class WavSink(AudioSink):
    """Streams frames into a 16-bit PCM WAV file."""

    def __init__(self, path: str | Path, *, sample_rate_hz: int, channels: int = 1) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels)
        self.path = Path(path)
        try:
            self._raw = open(self.path, "wb")  # closed by close()
        except OSError as error:
            raise MediaFileError(f"{self.path}: {error.strerror or error}") from error
        self._file = wave.open(self._raw, "wb")
        self._file.setnchannels(channels)
        self._file.setsampwidth(2)
        self._file.setframerate(sample_rate_hz)

    def _write(self, frame: AudioFrame) -> None:
        try:
            self._file.writeframes(frame.samples.astype("<i2").tobytes())
        except OSError as error:
            raise MediaFileError(f"{self.path}: {error.strerror or error}") from error

    def _close(self) -> None:
        try:
            self._file.close()
        except OSError as error:
            raise MediaFileError(f"{self.path}: {error.strerror or error}") from error
        finally:
            self._raw.close()


class AvFileSink(AudioSink):
    """Encodes frames into any container PyAV writes, with the container's
    default audio codec unless ``codec`` names one (``.ogg`` -> FLAC or
    Vorbis, ``.mp3``, ``.flac``, ``.m4a`` -> AAC, ...)."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate_hz: int,
        channels: int = 1,
        codec: str | None = None,
    ) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, channels=channels)
        self.path = Path(path)
        self._layout = "mono" if channels == 1 else "stereo"
        try:
            self._container = av.open(str(self.path), "w")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise MediaFileError(f"{self.path}: cannot create ({error})") from error
        name = codec or self._container.default_audio_codec
        try:
            stream = self._container.add_stream(name, rate=sample_rate_hz)
            if not isinstance(stream, av.audio.stream.AudioStream):
                raise ValueError(f"{name} is not an audio codec")
            stream.layout = self._layout
            # Writing the header now opens the file, so a bad path fails here.
            self._container.start_encoding()
        except (av.FFmpegError, OSError, ValueError) as error:
            self._container.close()
            raise MediaFileError(f"{self.path}: cannot encode with {name!r} ({error})") from error
        self._stream = stream

    def _write(self, frame: AudioFrame) -> None:
        packed = frame.samples.reshape(1, -1)
        out = av.AudioFrame.from_ndarray(packed, format="s16", layout=self._layout)
        out.sample_rate = self.sample_rate_hz
        out.pts = frame.timestamp_samples
        self._mux(out)

    def _mux(self, frame: av.AudioFrame | None) -> None:
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.FFmpegError as error:
            raise MediaFileError(f"{self.path}: cannot encode ({error})") from error

    def _close(self) -> None:
        try:
            self._mux(None)
        finally:
            self._container.close()


def open_sink(path: str | Path, *, sample_rate_hz: int, channels: int = 1) -> WavSink | AvFileSink:
    """A WavSink for ``.wav`` paths, an AvFileSink for anything else."""
    path = Path(path)
    if path.suffix.lower() == ".wav":
        return WavSink(path, sample_rate_hz=sample_rate_hz, channels=channels)
    return AvFileSink(path, sample_rate_hz=sample_rate_hz, channels=channels)
