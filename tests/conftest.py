"""Shared fixtures: the committed test speech, loaded without the media layer."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

SPEECH_DIR = Path(__file__).resolve().parents[1] / "src" / "cloudlink" / "media" / "speech"


def read_speech(name: str) -> tuple[npt.NDArray[np.int16], int]:
    """Returns (samples, sample_rate_hz) of a committed speech file."""
    with wave.open(str(SPEECH_DIR / f"{name}.wav"), "rb") as file:
        rate_hz = file.getframerate()
        samples = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
    return samples.astype(np.int16), rate_hz


@pytest.fixture(scope="session")
def speech_16k() -> npt.NDArray[np.int16]:
    """Alice's 11 s of espeak-ng speech at 16 kHz."""
    samples, rate_hz = read_speech("alice")
    assert rate_hz == 16000
    return samples
