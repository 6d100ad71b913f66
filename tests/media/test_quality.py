"""The E-model against values computed by hand from ITU-T G.107."""

from __future__ import annotations

import math

import pytest

from cloudlink.errors import ConfigError
from cloudlink.media import quality


def test_delay_costs_nothing_up_to_100_ms() -> None:
    assert quality.delay_impairment(0.0) == 0.0
    assert quality.delay_impairment(100.0) == 0.0


def test_delay_impairment_at_200_and_400_ms() -> None:
    # Ta = 200 ms: X = 1, Idd = 25 (2^(1/6) - 3 (1 + 1/729)^(1/6) + 2).
    expected_200 = 25.0 * (2 ** (1 / 6) - 3.0 * (1.0 + 1.0 / 729.0) ** (1 / 6) + 2.0)
    assert expected_200 == pytest.approx(3.0444, abs=1e-3)
    assert quality.delay_impairment(200.0) == pytest.approx(expected_200)
    # Ta = 400 ms: X = 2, Idd = 25 (65^(1/6) - 3 (1 + (2/3)^6)^(1/6) + 2) = 24.07.
    assert quality.delay_impairment(400.0) == pytest.approx(24.07, abs=0.01)


def test_effective_impairment_of_random_and_bursty_loss() -> None:
    # Ie,eff = 0 + 95 * 5 / (5 / 1 + 25.1) = 15.78; bursty (BurstR 2): 95*5/(2.5+25.1) = 17.21.
    assert quality.effective_equipment_impairment(5.0) == pytest.approx(15.781, abs=1e-3)
    assert quality.effective_equipment_impairment(5.0, burst_ratio=2.0) == pytest.approx(
        17.210, abs=1e-3
    )
    assert quality.effective_equipment_impairment(0.0) == 0.0


def test_r_factor_and_mos_of_a_clean_short_call() -> None:
    # R = 93.2: MOS = 1 + 3.262 + 7e-6 * 93.2 * 33.2 * 6.8 = 4.409.
    assert quality.r_factor(50.0, 0.0) == pytest.approx(93.2)
    assert quality.mos(50.0, 0.0) == pytest.approx(4.4093, abs=1e-4)


def test_mos_of_a_lossy_late_call() -> None:
    # Ta = 200 ms, 5% random loss: R = 93.2 - 3.044 - 15.781 = 74.375,
    # MOS = 1 + 2.6031 + 7e-6 * 74.375 * 14.375 * 25.625 = 3.7949.
    r = quality.r_factor(200.0, 5.0)
    assert r == pytest.approx(74.375, abs=1e-3)
    assert quality.mos_from_r(r) == pytest.approx(3.7949, abs=1e-3)


def test_mos_is_clamped_outside_0_to_100() -> None:
    assert quality.mos_from_r(-5.0) == 1.0
    assert quality.mos_from_r(0.0) == 1.0
    assert quality.mos_from_r(120.0) == 4.5
    # The cubic gives 1 + 0.105 - 7e-6 * 3 * 57 * 97 = 0.989 at R = 3: held at 1.
    assert quality.mos_from_r(3.0) == 1.0
    assert quality.mos_from_r(10.0) == pytest.approx(1.0 + 0.35 - 7e-6 * 10 * 50 * 90)


def test_burst_ratio_of_observed_patterns() -> None:
    # 2 runs of 2 in 10: observed 2, random loss at 40% would give 1/0.6.
    pattern = [True, True, False, False, False, True, True, False, False, False]
    assert quality.burst_ratio(pattern) == pytest.approx(2.0 * 0.6)
    assert quality.burst_ratio([False] * 5) == 1.0
    assert quality.burst_ratio([True] * 5) == 1.0
    # Isolated losses are no burstier than random.
    assert quality.burst_ratio([True, False, False, False] * 5) == 1.0


@pytest.mark.parametrize("delay_ms", [-1.0, math.inf, math.nan])
def test_bad_delay_is_refused(delay_ms: float) -> None:
    with pytest.raises(ConfigError):
        quality.delay_impairment(delay_ms)


def test_bad_loss_and_burst_are_refused() -> None:
    with pytest.raises(ConfigError):
        quality.effective_equipment_impairment(101.0)
    with pytest.raises(ConfigError):
        quality.effective_equipment_impairment(5.0, burst_ratio=0.5)
