"""WAV reading and writing, including every kind of bad file."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from cloudlink.errors import MediaFileError
from cloudlink.media.wav import read_wav, write_wav


@pytest.mark.parametrize("channels", [1, 2])
def test_round_trip_keeps_samples_rate_and_shape(tmp_path: Path, channels: int) -> None:
    rng = np.random.default_rng(3)
    shape = (1234,) if channels == 1 else (1234, channels)
    samples = rng.integers(-32768, 32767, shape, dtype=np.int16)
    write_wav(tmp_path / "x.wav", samples, 24000)
    back, rate_hz = read_wav(tmp_path / "x.wav")
    assert rate_hz == 24000
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back, samples)


def test_missing_file_is_a_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError, match=r"missing\.wav"):
        read_wav(tmp_path / "missing.wav")


def test_text_file_is_not_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("hello, not audio")
    with pytest.raises(MediaFileError, match="not a readable WAV"):
        read_wav(path)


def test_truncated_header_is_not_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    write_wav(path, np.zeros(100, np.int16), 16000)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(MediaFileError):
        read_wav(path)


@pytest.mark.parametrize("width_bytes", [1, 3])
def test_other_sample_widths_are_refused(tmp_path: Path, width_bytes: int) -> None:
    path = tmp_path / "odd.wav"
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(width_bytes)
        file.setframerate(8000)
        file.writeframes(b"\0" * width_bytes * 80)
    with pytest.raises(MediaFileError, match="only 16-bit"):
        read_wav(path)


def test_writing_float_samples_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="int16"):
        write_wav(tmp_path / "x.wav", np.zeros(10, np.float32), 16000)  # type: ignore[arg-type]


def test_writing_into_a_missing_folder_is_a_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError):
        write_wav(tmp_path / "no" / "such" / "x.wav", np.zeros(10, np.int16), 16000)
