"""A stream over the simulated network in virtual time."""

from __future__ import annotations

import numpy as np

from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.simulated_link import SimulatedLink, place_by_timestamp
from cloudlink.media.synthetic import speech_source


def _link(conditions: NetworkConditions, *, red: bool = True) -> SimulatedLink:
    frames = list(speech_source("carol"))[:300]
    return SimulatedLink.create(
        frames, sample_rate_hz=16000, conditions=conditions, red=red, seed=3
    )


def test_a_lossy_jittery_link_plays_one_frame_per_tick() -> None:
    link = _link(NetworkConditions(loss_pct=10.0, burst_len=2.0, jitter_ms=30.0, seed=4))
    frames = [link.tick() for _ in range(400)]
    assert all(f.samples.shape == (160,) for f in frames)
    assert link.now_ms == 4000.0
    assert link.source_done
    report = link.report
    assert report.packets_sent == 200
    assert 3.0 < report.loss_pct < 20.0
    assert report.packets_lost == 200 - len(report.network_delay_ms)
    # Mouth to ear: at least the base delay, the packet and the codec's lookahead.
    assert report.mean_mouth_to_ear_ms > 20.0 + 20.0
    stats = link.receive.stats()
    assert stats["fecPacketsRecovered"] > 0
    assert len(link.playout_timestamps) == 400


def test_same_seed_same_call() -> None:
    conditions = NetworkConditions(loss_pct=5.0, jitter_ms=20.0, seed=8)
    first, second = _link(conditions), _link(conditions)
    a = np.concatenate([first.tick().samples for _ in range(200)])
    b = np.concatenate([second.tick().samples for _ in range(200)])
    np.testing.assert_array_equal(a, b)


def test_place_by_timestamp_skips_frames_before_the_first_packet() -> None:
    link = _link(NetworkConditions())
    played = [(link.tick(), link.receive.playout_timestamp) for _ in range(50)]
    assert played[0][1] is None
    heard = place_by_timestamp(
        played,
        initial_timestamp=link.send.initial_timestamp,
        lookahead_samples=link.send.lookahead_samples,
        length_samples=8000,
    )
    assert heard.shape == (8000,)
    assert np.abs(heard[:3000]).max() > 0
