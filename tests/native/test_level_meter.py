"""The level meter: dBov and the RFC 6464 audio level, W3C energy totals."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native


def sine(rate_hz: int, samples: int, *, peak: float) -> npt.NDArray[np.float64]:
    """A 1 kHz sine (an exact number of periods per 10 ms at these rates)."""
    return peak * np.sin(2 * np.pi * 1000 * np.arange(samples) / rate_hz)


@pytest.mark.parametrize("rate_hz", [8000, 16000, 48000])
@pytest.mark.parametrize("gain_db", [0.0, -20.0, -40.0, -60.0])
def test_sine_reads_three_db_under_its_peak(rate_hz: int, gain_db: float) -> None:
    meter = _native.LevelMeter(sample_rate_hz=rate_hz)
    peak = 10 ** (gain_db / 20)
    block = sine(rate_hz, rate_hz // 100, peak=peak)

    level_float = meter.process(block.astype(np.float32))
    assert level_float == pytest.approx(gain_db - 3.01, abs=0.01)
    assert meter.level_dbov == level_float
    assert meter.audio_level == round(3.01 - gain_db)

    level_int = meter.process(np.round(block * 32767).astype(np.int16))
    assert level_int == pytest.approx(gain_db - 3.01, abs=0.05)


def test_digital_silence_is_127() -> None:
    meter = _native.LevelMeter(sample_rate_hz=48000)
    assert meter.process(np.zeros(480, dtype=np.int16)) == -127.0
    assert meter.audio_level == 127
    assert meter.process(np.zeros(480, dtype=np.float32)) == -127.0


def test_levels_below_minus_127_dbov_clamp() -> None:
    meter = _native.LevelMeter(sample_rate_hz=16000)
    block = np.zeros(160, dtype=np.float32)
    block[0] = 1e-7  # about -142 dBov
    assert meter.process(block) == -127.0 and meter.audio_level == 127


def test_one_lsb_and_full_scale_square() -> None:
    meter = _native.LevelMeter(sample_rate_hz=16000)
    lsb = np.tile(np.array([1, -1], dtype=np.int16), 80)
    assert meter.process(lsb) == pytest.approx(20 * math.log10(1 / 32768), abs=1e-9)
    assert meter.audio_level == 90
    square = np.tile(np.array([-32768, -32768], dtype=np.int16), 80)
    assert meter.process(square) == 0.0 and meter.audio_level == 0


def test_float_overload_clips_and_nan_is_silence() -> None:
    meter = _native.LevelMeter(sample_rate_hz=16000)
    assert meter.process(np.full(160, 4.0, dtype=np.float32)) == 0.0
    assert meter.process(np.full(160, np.nan, dtype=np.float32)) == -127.0
    assert meter.process(np.full(160, -np.inf, dtype=np.float32)) == 0.0


def test_totals_follow_webrtc_stats() -> None:
    rate_hz = 16000
    meter = _native.LevelMeter(sample_rate_hz=rate_hz)
    assert meter.total_audio_energy == 0.0 and meter.total_samples_duration_s == 0.0
    assert meter.level_dbov == -127.0 and meter.audio_level == 127

    # One second of a full-scale float sine: mean square 1/2 for 1 s.
    signal = sine(rate_hz, rate_hz, peak=1.0).astype(np.float32)
    for block in signal.reshape(100, -1):
        meter.process(block)
    assert meter.total_samples_duration_s == pytest.approx(1.0)
    assert meter.total_audio_energy == pytest.approx(0.5, rel=1e-4)

    # Stereo counts instants, not values: 0.5 s more, channels averaged.
    stereo = np.zeros((rate_hz // 2, 2), dtype=np.float32)
    stereo[:, 0] = 1.0
    assert meter.process(stereo) == pytest.approx(-3.01, abs=0.01)
    assert meter.total_samples_duration_s == pytest.approx(1.5)
    assert meter.total_audio_energy == pytest.approx(0.75, rel=1e-4)

    meter.reset()
    assert meter.total_audio_energy == 0.0 and meter.total_samples_duration_s == 0.0
    assert meter.level_dbov == -127.0 and meter.audio_level == 127


@pytest.mark.parametrize("rate_hz", [0, 7999, 192001, -16000])
def test_bad_rate_raises_value_error(rate_hz: int) -> None:
    with pytest.raises(ValueError, match="sample_rate_hz"):
        _native.LevelMeter(sample_rate_hz=rate_hz)


def test_bad_input_is_rejected() -> None:
    meter = _native.LevelMeter(sample_rate_hz=16000)
    with pytest.raises(TypeError):
        _native.LevelMeter(16000)  # type: ignore[misc]
    with pytest.raises(ValueError, match="empty"):
        meter.process(np.zeros(0, dtype=np.int16))
    with pytest.raises(ValueError, match="empty"):
        meter.process(np.zeros((160, 0), dtype=np.int16))
    with pytest.raises(ValueError, match="dimensions"):
        meter.process(np.zeros((2, 2, 2), dtype=np.int16))
    with pytest.raises(TypeError, match="int16 or float32"):
        meter.process(np.zeros(160, dtype=np.float64))
    with pytest.raises(TypeError, match="int16 or float32"):
        meter.process(np.zeros(160, dtype=np.int32))
    with pytest.raises(TypeError):
        meter.process([0] * 160)
    # Nothing above changed the meter.
    assert meter.total_samples_duration_s == 0.0
