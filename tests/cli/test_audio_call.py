"""``cloudlink audio call``: the offline call, its figures and its bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudlink.cli import main
from cloudlink.media.wav import read_wav


def test_json_figures_per_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "call.wav"
    assert main(["audio", "call", "--duration", "3", "--out", str(out), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    streams = figures["streams"]
    assert [s["stream"] for s in streams] == ["alice", "bob", "carol"]
    for stream in streams:
        assert stream["packetsSent"] >= 150
        assert 0.0 <= stream["concealedPct"] < 50.0
        assert stream["mouthToEarDelayMs"] > 40.0
        assert 1.0 <= stream["mos"] <= 4.5
    heard, rate_hz = read_wav(out)
    assert rate_hz == 16000
    assert heard.shape[0] == 16000 * 3 + 8000  # the call and its half-second tail
    assert abs(heard).max() > 1000


def test_a_clean_network_scores_better_than_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mos = {}
    for loss, jitter in (("0", "0"), ("20", "80")):
        argv = ["audio", "call", "--duration", "2", "--speakers", "2", "--loss", loss]
        argv += ["--jitter-ms", jitter, "--out", str(tmp_path / "c.wav"), "--json"]
        assert main(argv) == 0
        streams = json.loads(capsys.readouterr().out)["streams"]
        assert len(streams) == 2
        mos[loss] = min(s["mos"] for s in streams)
    assert mos["0"] > 4.0
    assert mos["20"] < mos["0"]


def test_console_script_prints_the_table(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "cloudlink"
    out = tmp_path / "call.wav"
    result = subprocess.run(
        [str(script), "audio", "call", "--out", str(out), "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "concealed %" in lines[1] and "MOS" in lines[1]
    assert [line.split()[0] for line in lines[3:6]] == ["alice", "bob", "carol"]
    assert out.is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "0"], "--duration"),
        (["--duration", "nan"], "--duration"),
        (["--loss", "100"], "--loss"),
        (["--jitter-ms", "-1"], "--jitter-ms"),
    ],
)
def test_bad_values_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["audio", "call", "--out", str(tmp_path / "c.wav"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_unwritable_output_exits_2(tmp_path: Path) -> None:
    assert main(["audio", "call", "--duration", "1", "--out", str(tmp_path / "no" / "c.wav")]) == 2


@pytest.mark.parametrize("argv", [["--speakers", "4"], ["--duration", "long"], ["--what"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audio", "call", *argv])
    assert exited.value.code == 2


def test_default_output_goes_to_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["audio", "call", "--duration", "1", "--speakers", "2"]) == 0
    assert (tmp_path / "out" / "audio-call.wav").is_file()
    assert "out/audio-call.wav" in capsys.readouterr().out
