"""Shared fixtures: the committed test speech, loaded without the media layer."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from databases import BACKENDS, fresh_database

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


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of each backend."""
    with fresh_database(request.param, tmp_path) as db:
        yield db.url.render_as_string(hide_password=False)
