"""``cloudlink audio network`` on short files, and its bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native
from cloudlink.cli import main
from cloudlink.media.synthetic import speech_path
from cloudlink.media.wav import read_wav, write_wav


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    samples, rate_hz = read_wav(speech_path("bob"))
    path = tmp_path / "in.wav"
    write_wav(path, samples[: 3 * rate_hz], rate_hz)
    return path


def _snr_db(sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16]) -> float:
    a, b = sent.astype(np.float64), heard.astype(np.float64)
    return float(10 * np.log10(np.sum(a**2) / max(np.sum((a - b) ** 2), 1.0)))


def _best_lag(
    sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16], *, start: int, length: int
) -> int:
    """The shift of ``heard`` against ``sent`` (within 20 ms at 16 kHz) that
    correlates best."""
    a = sent[start : start + length].astype(np.float64)
    lags = range(-320, 321)
    scores = [float(np.dot(a, heard[start + lag : start + lag + length])) for lag in lags]
    return lags[int(np.argmax(scores))]


def test_clean_network_gives_the_input_back_aligned(speech_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    assert main(["audio", "network", str(speech_wav), "-o", str(out)]) == 0
    sent, rate_hz = read_wav(speech_wav)
    heard, out_rate_hz = read_wav(out)
    assert out_rate_hz == rate_hz
    assert heard.shape == sent.shape
    # Aligned sample for sample: the best lag is 0 and the waveforms match.
    assert _best_lag(sent, heard, start=8000, length=16000) == 0
    assert _snr_db(sent[2000:-2000], heard[2000:-2000]) > 8.0


def test_json_statistics_of_a_lossy_jittery_path(
    speech_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.wav"
    argv = ["audio", "network", str(speech_wav), "-o", str(out), "--loss", "10", "--burst", "2"]
    argv += ["--jitter-ms", "30", "--red", "--seed", "5", "--json"]
    assert main(argv) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["packetsSent"] >= 150
    assert 2.0 < stats["networkLossPct"] < 25.0
    assert stats["fecPacketsRecovered"] > 0
    assert stats["meanPlayoutDelayMs"] > 0.0
    assert stats["alignment"] == "playout_timestamp"
    assert read_wav(out)[0].shape == read_wav(speech_wav)[0].shape


def test_fec_makes_a_difference(speech_wav: Path, tmp_path: Path) -> None:
    sent, _ = read_wav(speech_wav)
    snr = {}
    for flag in ("--fec", "--no-fec"):
        out = tmp_path / f"out{flag}.wav"
        argv = ["audio", "network", str(speech_wav), "-o", str(out), "--loss", "15", flag]
        assert main([*argv, "--seed", "2", "--json"]) == 0
        snr[flag] = _snr_db(sent, read_wav(out)[0])
    assert snr["--fec"] > snr["--no-fec"]


def test_trace_file_drives_the_path(
    speech_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "path.trace"
    trace.write_text("30\n-\n45\n60\n-\n-\n25\n")
    out = tmp_path / "out.wav"
    argv = ["audio", "network", str(speech_wav), "-o", str(out), "--trace", str(trace), "--json"]
    assert main(argv) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["networkLossPct"] == pytest.approx(300 / 7, abs=2.0)


def test_a_rate_opus_does_not_code_is_resampled_both_ways(tmp_path: Path) -> None:
    t = np.arange(44100 * 2) / 44100
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    write_wav(tmp_path / "in.wav", tone, 44100)
    assert main(["audio", "network", str(tmp_path / "in.wav"), "-o", str(tmp_path / "o.wav")]) == 0
    heard, rate_hz = read_wav(tmp_path / "o.wav")
    assert rate_hz == 44100
    assert heard.shape == tone.shape
    assert _snr_db(tone[4410:-4410], heard[4410:-4410]) > 6.0


def test_stereo_input_comes_back_stereo(tmp_path: Path) -> None:
    speech, _ = read_wav(speech_path("carol"))
    up = _native.resample(speech[:32000], input_rate_hz=16000, output_rate_hz=48000)
    stereo = np.stack([up, (up // 2).astype(np.int16)], axis=1)
    write_wav(tmp_path / "in.wav", stereo, 48000)
    assert main(["audio", "network", str(tmp_path / "in.wav"), "-o", str(tmp_path / "o.wav")]) == 0
    heard, rate_hz = read_wav(tmp_path / "o.wav")
    assert (heard.shape, rate_hz) == (stereo.shape, 48000)
    # Each channel keeps its own level.
    assert np.abs(heard[:, 0]).mean() > 1.5 * np.abs(heard[:, 1]).mean()


def test_console_script_runs_the_command(speech_wav: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "cloudlink"
    out = tmp_path / "out.wav"
    result = subprocess.run(
        [str(script), "audio", "network", str(speech_wav), "-o", str(out), "--loss", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "mean playout delay" in result.stdout
    assert out.is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--loss", "100"], "--loss"),
        (["--loss", "-1"], "--loss"),
        (["--burst", "0.5"], "--burst"),
        (["--jitter-ms", "-5"], "--jitter-ms"),
        (["--trace", "/nonexistent/trace"], "trace"),
    ],
)
def test_bad_values_exit_2_with_a_message(
    speech_wav: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    argv = ["audio", "network", str(speech_wav), "-o", str(tmp_path / "o.wav"), *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_input_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o.wav")
    assert main(["audio", "network", str(tmp_path / "absent.wav"), "-o", out]) == 2
    assert "absent.wav" in capsys.readouterr().err
    text = tmp_path / "text.wav"
    text.write_text("not audio")
    assert main(["audio", "network", str(text), "-o", out]) == 2
    empty = tmp_path / "empty.wav"
    write_wav(empty, np.zeros(0, np.int16), 16000)
    assert main(["audio", "network", str(empty), "-o", out]) == 2
    assert "no audio" in capsys.readouterr().err


def test_unwritable_output_exits_2(speech_wav: Path, tmp_path: Path) -> None:
    assert main(["audio", "network", str(speech_wav), "-o", str(tmp_path / "no" / "o.wav")]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["audio", "network", "in.wav"],  # no -o
        ["audio", "network", "in.wav", "-o", "o.wav", "--loss", "lots"],
        ["audio", "network", "in.wav", "-o", "o.wav", "--seed", "1.5"],
        ["audio", "network", "in.wav", "-o", "o.wav", "--bogus"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
