"""``cloudlink demo``: a real meeting through the embedded server and SFU,
its JSON figures, and its bad arguments."""

from __future__ import annotations

import json

import pytest

from cloudlink.cli import main


def test_a_short_meeting_hears_and_shows_everyone(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["demo", "--participants", "3", "--duration", "4", "--loss", "3", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    figures = json.loads(captured.out)
    # Where and as whom a person can join it is said before it starts.
    assert f"open {figures['joinLink']} in a browser" in captured.err
    assert "organisation 'CloudLink Demo', account guest," in captured.err
    assert figures["joinLink"].endswith(f"/j/{figures['meeting']}")
    summary = figures["summary"]
    assert summary["streamsExpected"] == 6
    assert summary["audioStreamsHeard"] == 6
    assert summary["videoStreamsShown"] == 6
    assert summary["meanMos"] is not None and 1.0 <= summary["meanMos"] <= 4.5
    names = [person["name"] for person in figures["participants"]]
    assert names == ["host", "ada", "grace"]
    for person in figures["participants"]:
        # Everyone receives the two others, never themselves.
        assert sorted(pair["from"] for pair in person["received"]) == sorted(
            name for name in names if name != person["name"]
        )
        assert person["sent"]["audio"]["packetsSent"] > 100
        # Measured from the SFU's receiver reports on what the person sends.
        assert person["roundTripTimeMs"] is not None and person["roundTripTimeMs"] > 0.0
        assert person["sent"]["camera"]["packetsSent"] > 30
        for pair in person["received"]:
            video = pair["video"]
            assert video["framesShown"] > 10
            assert video["stampsUnreadable"] == 0
            assert video["framesOutOfOrder"] == 0
            # Glass to glass, on loopback with a 20 ms simulated path each way.
            assert 0.0 < video["latencyMs"]["p50"] < 1000.0
            assert pair["audio"]["packetsReceived"] > 100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--participants", "1", "--duration", "1"], "--participants"),
        (["--participants", "9", "--duration", "1"], "--participants"),
        (["--json"], "--json needs --duration"),
        (["--duration", "0"], "--duration"),
        (["--duration", "nan"], "--duration"),
        (["--duration", "1", "--video", "320x"], "--video"),
        (["--duration", "1", "--video", "321x240"], "--video"),
        (["--duration", "1", "--video", "320x240@0"], "--video"),
        (["--duration", "1", "--loss", "100"], "--loss"),
        (["--duration", "1", "--port", "70000"], "--port"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", *argv]) == 2
    assert message in capsys.readouterr().err
