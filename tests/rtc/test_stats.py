"""The call-quality figures of cloudlink.rtc.stats."""

from __future__ import annotations

from cloudlink.media import quality
from cloudlink.rtc.stats import audio_mos


def test_audio_mos_counts_concealment_as_loss() -> None:
    stats = {"totalSamplesReceived": 10_000, "concealedSamples": 300, "meanPlayoutDelayMs": 40.0}
    expected = quality.mos(5.0 + 40.0 + 26.5 + 20.0, 3.0)
    assert audio_mos(stats, round_trip_time_ms=10.0) == expected
    assert expected < audio_mos({**stats, "concealedSamples": 0}, round_trip_time_ms=10.0)


def test_audio_mos_leaves_out_the_trailing_concealment() -> None:
    # 100 concealed samples were a hole; the last 1000 came after the last
    # packet, which may be the end of the stream.
    stats = {
        "totalSamplesReceived": 11_000,
        "concealedSamples": 1_100,
        "trailingConcealedSamples": 1_000,
        "meanPlayoutDelayMs": 40.0,
    }
    expected = quality.mos(5.0 + 40.0 + 26.5 + 20.0, 1.0)
    assert audio_mos(stats, round_trip_time_ms=10.0) == expected


def test_audio_mos_takes_a_negative_playout_delay_as_none() -> None:
    # A late event loop can make the mean come out below zero; the score
    # is still a score, never an error.
    stats = {"totalSamplesReceived": 48000, "concealedSamples": 0, "meanPlayoutDelayMs": -5.0}
    clean = {"totalSamplesReceived": 48000, "concealedSamples": 0, "meanPlayoutDelayMs": 0.0}
    assert audio_mos(stats, round_trip_time_ms=-1.0) == audio_mos(clean, round_trip_time_ms=0.0)
