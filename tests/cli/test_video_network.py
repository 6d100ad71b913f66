"""``cloudlink video network`` on short inputs (the test pattern and a
file), with --json, a trace, and its bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest

from cloudlink.cli import main
from cloudlink.media.av_video_source import AvVideoSource
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_sink import AvVideoFileSink
from cloudlink.media.video_source import PatternSource

W3C_KEYS = (
    "framesReceived",
    "framesDecoded",
    "framesDropped",
    "keyFramesDecoded",
    "freezeCount",
    "totalFreezesDuration",
    "nackCount",
    "pliCount",
)


def _run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["video", "network", *argv, "--json"]) == 0
    stats: dict[str, Any] = json.loads(capsys.readouterr().out)
    return stats


def test_a_pattern_over_a_lossy_jittery_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shown.webm"
    argv = ["pattern:320x240@30", "-o", str(out), "--duration", "2", "--loss", "5"]
    stats = _run_json([*argv, "--jitter-ms", "30", "--seed", "3", "--bitrate", "400"], capsys)
    for key in W3C_KEYS:
        assert key in stats, key
    assert stats["framesSent"] == 60 and stats["latencyFrom"] == "test_pattern"
    assert 1.0 < stats["networkLossPct"] < 15.0
    assert stats["nackCount"] > 0 and stats["retransmissionsSent"] > 0
    assert stats["framesShown"] >= 55
    assert stats["stampsUnreadable"] == 0 and stats["framesOutOfOrder"] == 0
    latency = stats["latencyMs"]
    assert isinstance(latency, dict)
    # At least the 20 ms base delay; NACK repairs add a round trip or two.
    assert 20.0 <= latency["p50"] <= latency["p95"] <= latency["max"] < 600.0
    assert stats["meanPsnrDb"] > 30.0
    # OUT holds what was shown, in order, at the times it was shown.
    frames = list(AvVideoSource(out))
    assert len(frames) == stats["framesShown"]
    numbers = [read_test_pattern(f.pixels) for f in frames]
    assert all(n is not None for n in numbers)
    values = [n.frame_number for n in numbers if n is not None]
    assert values == sorted(values)


def test_a_clean_path_shows_every_frame_at_the_base_delay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shown.mp4"
    stats = _run_json(["pattern:320x240", "-o", str(out), "--duration", "1"], capsys)
    assert stats["framesShown"] == stats["framesSent"] == 30
    assert stats["framesDropped"] == 0 and stats["nackCount"] == 0 and stats["pliCount"] == 0
    latency = stats["latencyMs"]
    assert isinstance(latency, dict) and 20.0 <= latency["max"] <= 22.0
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames in (0, 30)  # mp4 may not count
    assert len(list(AvVideoSource(out))) == 30


def test_a_file_over_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = tmp_path / "clip.webm"
    with AvVideoFileSink(clip, width_px=320, height_px=240, bitrate_bps=2_000_000) as sink:
        for frame in PatternSource(width_px=320, height_px=240, duration_s=1.0):
            sink.write(frame)
    trace = tmp_path / "trace.txt"
    # Every 10th packet lost, the others 30 ms late, with a comment.
    lines = ["# one-way delays in ms"] + ["-" if i % 10 == 9 else "30" for i in range(100)]
    trace.write_text("\n".join(lines) + "\n")
    out = tmp_path / "shown.webm"
    stats = _run_json([str(clip), "-o", str(out), "--trace", str(trace)], capsys)
    assert stats["latencyFrom"] == "timeline" and stats["framesSent"] == 30
    assert stats["packetsRecovered"] > 0
    assert 9.0 <= stats["networkLossPct"] <= 11.0
    latency = stats["latencyMs"]
    assert isinstance(latency, dict) and latency["p50"] >= 30.0
    assert stats["meanPsnrDb"] > 30.0


def test_plain_output_is_one_line_of_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shown.webm"
    assert main(["video", "network", "pattern:320x240", "-o", str(out), "--duration", "0.5"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("sent 15 frames") and line.endswith(str(out))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.webm"], "missing.webm: no such file"),
        (["pattern:1280"], "pattern:WIDTHxHEIGHT"),
        (["pattern:641x360"], "even"),
        (["pattern:320x240", "--loss", "100"], "--loss"),
        (["pattern:320x240", "--loss", "nan"], "--loss"),
        (["pattern:320x240", "--burst", "0.5"], "--burst"),
        (["pattern:320x240", "--jitter-ms", "-1"], "--jitter-ms"),
        (["pattern:320x240", "--bitrate", "0"], "--bitrate"),
        (["pattern:320x240", "--duration", "0"], "--duration"),
        (["pattern:320x240", "--trace", "absent.txt"], "absent.txt"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(tmp_path / a) if a.endswith((".webm", ".txt")) else a for a in argv]
    assert main(["video", "network", *argv, "-o", str(tmp_path / "out.webm")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cloudlink: ") and message in err
    assert "Traceback" not in err


def test_bad_output_and_non_video_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["video", "network", "pattern:320x240", "-o", str(tmp_path / "out.xyz")]) == 2
    assert ".xyz" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n")
    assert main(["video", "network", str(text), "-o", str(tmp_path / "out.webm")]) == 2
    assert "notes.txt" in capsys.readouterr().err


def test_the_installed_command_reports_bad_numbers_without_a_traceback(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "cloudlink", "video", "network", "pattern:320x240"]
    result = subprocess.run(
        [*argv, "-o", str(tmp_path / "o.webm"), "--jitter-ms", "abc"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--jitter-ms" in result.stderr and "Traceback" not in result.stderr
