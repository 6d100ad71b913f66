"""The simulated video link: a clean path shows every frame at the path's
delay; a lossy, jittery one repairs losses with NACKs over the backward
path and measures its round trip; a trace that loses a keyframe for good
is repaired by a PLI."""

from __future__ import annotations

import numpy as np
import pytest

from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_link import SimulatedVideoLink
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_source import PatternSource

WIDTH_PX, HEIGHT_PX = 320, 240


def _link(conditions: NetworkConditions, *, duration_s: float = 2.0) -> SimulatedVideoLink:
    source = PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, duration_s=duration_s)
    return SimulatedVideoLink.create(
        source,
        width_px=WIDTH_PX,
        height_px=HEIGHT_PX,
        frame_rate_fps=30.0,
        bitrate_bps=500_000,
        conditions=conditions,
        keep_pictures=True,
    )


def test_a_clean_path_shows_every_frame_after_the_one_way_delay() -> None:
    link = _link(NetworkConditions(base_delay_ms=30.0))
    shown = list(link.run())
    assert [s.sent.index for s in shown] == list(range(60))
    # Shown on the first 2 ms tick after arrival: 30-32 ms after capture.
    assert all(30.0 <= s.latency_ms <= 32.0 for s in shown)
    assert all(s.sent.pixels is not None for s in shown)
    assert link.report.retransmissions_sent == 0 and link.report.feedback_sent == 0
    assert link.done


def test_loss_and_jitter_are_repaired_by_nacks_timed_by_the_measured_rtt() -> None:
    link = _link(NetworkConditions(loss_pct=5.0, jitter_ms=30.0, base_delay_ms=25.0, seed=4))
    shown = list(link.run())
    numbers = []
    for item in shown:
        stamp = read_test_pattern(item.frame.pixels)
        assert stamp is not None and stamp.frame_number == item.sent.index
        numbers.append(stamp.frame_number)
    report = link.report
    assert report.packets_lost > 0 and report.retransmissions_sent >= report.packets_lost
    assert numbers == sorted(set(numbers)) and len(numbers) >= 57
    # Round trip: two base delays plus jitter on both paths.
    assert 50.0 <= float(np.median(report.rtt_ms)) <= 120.0
    receive = link.receive
    assert isinstance(receive, VideoReceivePipeline)
    # Retries are spaced by the fastest recent round trip: never below the
    # two base delays.
    assert receive.assembler.rtt_ms == pytest.approx(min(report.rtt_ms[-32:]))
    assert 50.0 <= receive.assembler.rtt_ms < float(np.median(report.rtt_ms))
    assert receive.stats()["packetsRecovered"] > 0


def test_a_keyframe_lost_for_good_is_replaced_after_a_pli() -> None:
    # The path delivers the first packet of the first keyframe, then loses
    # the next 90 packets (1.4 s of first sends and retransmissions alike):
    # the keyframe stays incomplete beyond the receiver's 1 s frame age, so
    # only a new keyframe, asked for by PLI, can start the picture.
    trace: list[float | None] = [20.0] + [None] * 90 + [20.0] * 1000
    link = _link(NetworkConditions(trace=tuple(trace)), duration_s=3.0)
    shown = list(link.run())
    receive = link.receive
    assert isinstance(receive, VideoReceivePipeline)
    stats = receive.stats()
    assert stats["pliCount"] >= 1 and link.report.keyframes_sent == stats["pliCount"] + 1
    assert stats["keyFramesDecoded"] >= 2 and stats["framesDropped"] > 0
    # The picture starts at a requested keyframe and runs, in order, to the end.
    first = shown[0].sent.index
    assert first > 0 and [s.sent.index for s in shown] == list(range(first, 90))
    assert receive.decoder.keyframes_decoded == stats["keyFramesDecoded"]
