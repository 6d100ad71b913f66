"""Reading and writing 16-bit PCM WAV files with the standard library.

Samples come back as int16 numpy arrays: shape ``(n,)`` for mono and
``(n, channels)`` otherwise.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cloudlink.errors import MediaFileError

__all__ = ["read_wav", "write_wav"]


def read_wav(path: str | Path) -> tuple[npt.NDArray[np.int16], int]:
    """Returns ``(samples, sample_rate_hz)`` of a 16-bit PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as file:
            if file.getsampwidth() != 2:
                raise MediaFileError(
                    f"{path}: only 16-bit PCM is read, got {8 * file.getsampwidth()}-bit"
                )
            channels = file.getnchannels()
            rate_hz = file.getframerate()
            raw = file.readframes(file.getnframes())
    except (wave.Error, EOFError) as error:
        raise MediaFileError(f"{path}: not a readable WAV file ({error})") from error
    except OSError as error:
        if isinstance(error, MediaFileError):
            raise
        raise MediaFileError(f"{path}: {error.strerror or error}") from error
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels)
    return samples, rate_hz


def write_wav(path: str | Path, samples: npt.NDArray[np.int16], sample_rate_hz: int) -> None:
    """Writes int16 samples, shape ``(n,)`` or ``(n, channels)``, as a WAV file."""
    if samples.dtype != np.int16:
        raise TypeError(f"samples must be int16, got {samples.dtype}")
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    try:
        # Opening the file first keeps wave from half-building a writer
        # when the path cannot be created.
        with open(path, "wb") as raw, wave.open(raw, "wb") as file:
            file.setnchannels(channels)
            file.setsampwidth(2)
            file.setframerate(sample_rate_hz)
            file.writeframes(samples.astype("<i2").tobytes())
    except OSError as error:
        raise MediaFileError(f"{path}: {error.strerror or error}") from error
