from __future__ import annotations

import pytest

from cloudlink.errors import ConfigError
from cloudlink.rtc.bandwidth_estimator import BandwidthEstimator


def _feed(
    estimator: BandwidthEstimator,
    *,
    start_ms: float,
    seconds: float,
    bitrate_bps: float,
    queue_growth_ms_per_s: float = 0.0,
) -> float:
    """Packets of 1000 bytes at ``bitrate_bps``; each arrives later than the
    one before by the queue's growth. Returns the end time."""
    interval_ms = 8000.0 / bitrate_bps * 1000.0
    t = start_ms
    while t < start_ms + seconds * 1000.0:
        delay_ms = (t - start_ms) * queue_growth_ms_per_s / 1000.0
        estimator.on_packet(arrival_ms=t + delay_ms, size_bytes=1000, send_time_ms=t % 64_000)
        t += interval_ms
    return t


def test_grows_while_the_path_is_clear() -> None:
    estimator = BandwidthEstimator(start_bitrate_bps=500_000)
    now = 0.0
    for _ in range(10):
        now = _feed(estimator, start_ms=now, seconds=0.5, bitrate_bps=500_000)
        estimate = estimator.update(now)
    assert 600_000 < estimate <= 750_000  # 8% per second, capped at 1.5x incoming


def test_a_growing_queue_is_overuse() -> None:
    estimator = BandwidthEstimator(start_bitrate_bps=1_000_000)
    now = _feed(estimator, start_ms=0.0, seconds=1.0, bitrate_bps=800_000)
    estimator.update(now)
    now = _feed(
        estimator, start_ms=now, seconds=1.0, bitrate_bps=800_000, queue_growth_ms_per_s=200.0
    )
    estimate = estimator.update(now + 200.0)
    assert estimator.overuse_count == 1
    assert estimate <= 0.85 * 800_000 * 1.05


def test_heavy_loss_cuts_the_estimate() -> None:
    estimator = BandwidthEstimator(start_bitrate_bps=1_000_000)
    now = _feed(estimator, start_ms=0.0, seconds=1.0, bitrate_bps=800_000)
    assert estimator.update(now, fraction_lost=0.2) == pytest.approx(900_000, rel=0.01)


def test_bounds() -> None:
    estimator = BandwidthEstimator(
        start_bitrate_bps=100_000, min_bitrate_bps=100_000, max_bitrate_bps=200_000
    )
    assert estimator.update(0.0, fraction_lost=0.9) == 100_000
    with pytest.raises(ConfigError):
        BandwidthEstimator(start_bitrate_bps=10, min_bitrate_bps=100)
