"""``cloudlink audio aec`` on short files, good and bad."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink.cli import main
from cloudlink.media.wav import read_wav, write_wav

SPEECH_DIR = Path(__file__).resolve().parents[2] / "src" / "cloudlink" / "media" / "speech"


def alice(seconds: float) -> npt.NDArray[np.int16]:
    with wave.open(str(SPEECH_DIR / "alice.wav"), "rb") as file:
        raw = file.readframes(int(seconds * file.getframerate()))
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def echo_of(far: npt.NDArray[np.int16], delay_samples: int) -> npt.NDArray[np.int16]:
    """A delayed, attenuated copy with a short decaying tail, plus a little noise."""
    response = np.zeros(delay_samples + 400)
    response[delay_samples] = 0.3
    rng = np.random.default_rng(0)
    response[delay_samples + 1 :] = rng.standard_normal(399) * 0.02 * np.exp(-np.arange(399) / 80)
    echo = np.convolve(far.astype(np.float64), response)[: len(far)]
    echo += rng.standard_normal(len(far)) * 3.0
    return np.clip(np.round(echo), -32768, 32767).astype(np.int16)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    far = alice(4.0)
    mic = echo_of(far, 480)
    write_wav(tmp_path / "far.wav", far, 16000)
    write_wav(tmp_path / "mic.wav", mic, 16000)
    return tmp_path / "far.wav", tmp_path / "mic.wav"


def test_cancels_and_reports_json(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    far, mic = files
    out = tmp_path / "out.wav"
    code = main(["audio", "aec", "--far", str(far), "--mic", str(mic), "-o", str(out), "--json"])
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"erle_db", "delay_ms", "us_per_frame"}
    assert figures["us_per_frame"] > 0
    assert figures["delay_ms"] is not None and abs(figures["delay_ms"] - 30.0) < 3.0
    cleaned, rate_hz = read_wav(out)
    original, _ = read_wav(mic)
    assert rate_hz == 16000 and len(cleaned) == len(original)
    # The last second carries at least 20 dB less echo.
    tail = slice(-16000, None)
    ratio = np.sum(original[tail].astype(np.float64) ** 2) / np.sum(
        cleaned[tail].astype(np.float64) ** 2
    )
    assert 10 * np.log10(ratio) > 20.0


def test_short_far_file_is_padded(tmp_path: Path) -> None:
    mic = echo_of(alice(1.0), 160)
    write_wav(tmp_path / "far.wav", alice(0.5), 16000)
    write_wav(tmp_path / "mic.wav", mic[:12345], 16000)
    out = tmp_path / "out.wav"
    args = ["audio", "aec", "--far", str(tmp_path / "far.wav"), "--mic", str(tmp_path / "mic.wav")]
    assert main([*args, "-o", str(out)]) == 0
    cleaned, _ = read_wav(out)
    assert len(cleaned) == 12345


def _write(path: Path, samples: npt.NDArray[np.int16], rate_hz: int) -> Path:
    write_wav(path, samples, rate_hz)
    return path


@pytest.mark.parametrize(
    ("far_rate_hz", "mic_rate_hz", "far_channels", "message"),
    [
        (16000, 32000, 1, "share a sample rate"),
        (44100, 44100, 1, "16000, 32000 or 48000"),
        (16000, 16000, 2, "mono"),
    ],
)
def test_bad_files_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    far_rate_hz: int,
    mic_rate_hz: int,
    far_channels: int,
    message: str,
) -> None:
    samples = alice(0.2)
    far_samples = np.stack([samples, samples], axis=1) if far_channels == 2 else samples
    far = _write(tmp_path / "far.wav", far_samples, far_rate_hz)
    mic = _write(tmp_path / "mic.wav", samples, mic_rate_hz)
    code = main(["audio", "aec", "--far", str(far), "--mic", str(mic), "-o", str(tmp_path / "o")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_missing_and_garbage_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not a wave file at all")
    good = _write(tmp_path / "good.wav", alice(0.2), 16000)
    out = str(tmp_path / "o.wav")
    assert main(["audio", "aec", "--far", str(garbage), "--mic", str(good), "-o", out]) == 2
    assert "garbage.wav" in capsys.readouterr().err
    missing = str(tmp_path / "missing.wav")
    assert main(["audio", "aec", "--far", str(good), "--mic", missing, "-o", out]) == 2
    assert "missing.wav" in capsys.readouterr().err


def test_missing_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["audio", "aec", "--far", "x.wav"])
    assert exit_info.value.code == 2
