"""Two peers over real loopback UDP through ICE, DTLS and SRTP (aiortc and
aioice, nothing mocked), each sending Opus speech and the VP8 test pattern
through the media pipelines; each receiver checks what it decoded."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import numpy.typing as npt
import pytest
from _rtc_call import FPS, RATE_HZ, Peer, run_call

from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.rtc.bandwidth_estimator import BandwidthEstimator
from cloudlink.rtc.rtp_sender import DropFilter

_FRAME_SAMPLES = RATE_HZ // 100


def _envelope_db(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """10 ms energy envelope, in dB."""
    frames = len(samples) // _FRAME_SAMPLES
    blocks = samples[: frames * _FRAME_SAMPLES].astype(np.float64).reshape(frames, -1)
    return 10.0 * np.log10(1.0 + (blocks**2).mean(axis=1))


def _speech_match(sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16]) -> tuple[float, int]:
    """(best correlation of the energy envelopes, its lag in 10 ms frames)."""
    sent_env, heard_env = _envelope_db(sent), _envelope_db(heard)
    best = (-1.0, 0)
    for lag in range(0, 30):
        n = min(len(sent_env), len(heard_env) - lag)
        c = float(np.corrcoef(sent_env[:n], heard_env[lag : lag + n])[0, 1])
        best = max(best, (c, lag))
    return best


def _check_audio(receiver: Peer, sender: Peer) -> None:
    heard = receiver.heard_samples
    correlation, lag = _speech_match(sender.sent_speech[: len(heard)], heard)
    assert correlation > 0.6, f"the speech heard does not follow the speech sent ({correlation})"
    assert lag * 10 <= 150, f"mouth-to-ear delay {lag * 10} ms"
    rms = float(np.sqrt((heard.astype(np.float64) ** 2).mean()))
    assert rms > 300.0, "silence where speech was sent"


def _check_video(receiver: Peer, frames_sent: int, *, min_shown: float) -> list[int]:
    numbers = receiver.frame_numbers
    readable = [n for n in numbers if n is not None]
    assert len(readable) == len(numbers), "a shown picture was not the test pattern"
    assert readable == sorted(readable), "pictures shown out of order"
    assert len(set(readable)) >= min_shown * frames_sent, f"{len(set(readable))}/{frames_sent}"
    return readable


def test_audio_and_video_both_ways() -> None:
    duration_s = 3.0
    a, b = asyncio.run(run_call(duration_s))
    for receiver, sender in ((a, b), (b, a)):
        _check_audio(receiver, sender)
        _check_video(receiver, int(duration_s * FPS), min_shown=0.95)

        # RTCP SR/RR gave both senders a round-trip time, small on loopback.
        for name in ("audio_send", "video_send"):
            stats = sender.stats[name]
            assert stats["roundTripTimeMeasurements"] > 0
            assert 0.0 <= float(stats["roundTripTime"]) < 0.05
            assert stats["packetsLost"] == 0

        # The receiver's view, in W3C names, with the quality figures.
        audio = receiver.stats["audio_receive"]
        assert audio["packetsReceived"] == sender.stats["audio_send"]["packetsSent"]
        assert audio["bytesReceived"] == sender.stats["audio_send"]["bytesSent"]
        assert audio["fecPacketsReceived"] > 0  # RED
        assert 0.0 < float(audio["audioLevel"]) <= 1.0  # RFC 6464 extension
        assert float(audio["mos"]) > 4.0
        assert audio["networkQuality"] == "excellent"
        # Transport-wide feedback reached the sender and gave it an estimate.
        log = sender.session.sent_log
        assert log.feedback_received > 0 and log.packets_reported_lost == 0
        assert log.packets_acknowledged > 0.9 * (
            sender.stats["audio_send"]["packetsSent"] + sender.stats["video_send"]["packetsSent"]
        )
        assert sender.session.send_side_estimate_bps is not None
        video = receiver.stats["video_receive"]
        assert video["packetsReceived"] == sender.stats["video_send"]["packetsSent"]
        assert video["framesDecoded"] >= 0.95 * duration_s * FPS
        assert video["freezeCount"] == 0
        assert video["networkQuality"] == "excellent"


def test_nack_repairs_lost_video_packets() -> None:
    # Every 8th packet is lost the first time it is sent; retransmissions pass.
    counter = itertools.count()

    def every_8th(sender: Peer) -> DropFilter:
        def drop(payload: RtpPayload, retransmission: bool) -> bool:
            return not retransmission and next(counter) % 8 == 7

        return drop

    duration_s = 2.0
    a, b = asyncio.run(run_call(duration_s, drop_video_a_to_b=every_8th))
    sent = a.stats["video_send"]
    received = b.stats["video_receive"]
    assert a.video_send.sender.packets_dropped > 10
    assert received["nackCount"] > 0 and sent["nackCount"] == received["nackCount"]
    assert sent["retransmittedPacketsSent"] >= a.video_send.sender.packets_dropped - 2
    assert received["packetsRecovered"] > 0
    # The lost first transmissions show as lost in transport feedback too.
    assert a.session.sent_log.packets_reported_lost >= a.video_send.sender.packets_dropped - 2
    shown = _check_video(b, int(duration_s * FPS), min_shown=0.95)
    # Repaired in time: nothing was given up, no keyframe was needed.
    assert received["framesDropped"] == 0
    assert sent["pliCount"] == 0 and sent["keyFramesEncoded"] == 1
    assert shown[0] == 0


def test_pli_brings_a_keyframe_after_unrecoverable_loss() -> None:
    # Every packet of frame 20, retransmissions too: the frame cannot be
    # repaired, so the receiver asks for a keyframe and the picture resumes.
    def lose_frame_20(sender: Peer) -> DropFilter:
        pipeline = sender.video_send.pipeline

        def drop(payload: RtpPayload, retransmission: bool) -> bool:
            return payload.timestamp == pipeline.timestamp_for(20 * 1000.0 / FPS)

        return drop

    duration_s = 2.5
    a, b = asyncio.run(run_call(duration_s, drop_video_a_to_b=lose_frame_20))
    sent = a.stats["video_send"]
    received = b.stats["video_receive"]
    assert a.video_send.sender.packets_dropped > 0
    assert received["pliCount"] >= 1 and sent["pliCount"] == received["pliCount"]
    assert sent["keyFramesEncoded"] >= 2
    assert received["framesDropped"] >= 1
    shown = [n for n in b.frame_numbers if n is not None]
    assert 20 not in shown
    assert max(shown) >= int(duration_s * FPS) - 5, "the picture did not resume"


def test_red_repairs_lost_audio_packets() -> None:
    # Every 5th audio packet is lost; each RED packet carries the one before.
    counter = itertools.count()

    def drop(payload: RtpPayload, retransmission: bool) -> bool:
        return next(counter) % 5 == 4

    a, b = asyncio.run(run_call(2.0, drop_audio_a_to_b=drop))
    dropped = a.audio_send.sender.packets_dropped
    audio = b.stats["audio_receive"]
    assert dropped >= 15
    assert audio["packetsLost"] >= dropped - 1  # what the network lost ...
    assert audio["fecPacketsRecovered"] >= dropped - 2  # ... RED gave back
    _check_audio(b, a)
    # What the listener heard concealed, leaving out the run after A's last
    # packet (A has stopped sending when the stats are taken): little, as
    # RED repaired every loss.
    trailing = int(audio["trailingConcealedSamples"])
    heard_concealed = int(audio["concealedSamples"]) - trailing
    assert heard_concealed <= 0.03 * (int(audio["totalSamplesReceived"]) - trailing)
    assert float(audio["mos"]) > 4.0
    assert audio["networkQuality"] in ("poor", "bad")  # 20% loss on the path


@pytest.mark.parametrize("limit_bps", [300_000])
def test_remb_sets_the_encoder_bitrate(limit_bps: int) -> None:
    estimator = BandwidthEstimator(
        start_bitrate_bps=limit_bps, min_bitrate_bps=50_000, max_bitrate_bps=limit_bps
    )
    a, _ = asyncio.run(run_call(1.5, estimator_b=estimator, video_bitrate_bps=1_000_000))
    assert a.session.remote_estimate_bps == limit_bps
    target = int(a.stats["video_send"]["targetBitrate"])
    assert target <= limit_bps - 80_000  # the audio stream's share comes off first
