"""Made-up backgrounds: babble of the packaged talkers and office noise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink.errors import ConfigError
from cloudlink.media.background_noise import babble, office_noise


def rms_dbfs(signal: npt.NDArray[np.float64]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(signal**2)) / 32768))


def band_power(
    signal: npt.NDArray[np.float64], rate_hz: int, low_hz: float, high_hz: float
) -> float:
    spectrum = np.abs(np.fft.rfft(signal)) ** 2
    frequency_hz = np.fft.rfftfreq(len(signal), 1 / rate_hz)
    return float(spectrum[(frequency_hz >= low_hz) & (frequency_hz < high_hz)].sum())


def density(signal: npt.NDArray[np.float64], rate_hz: int, low_hz: float, high_hz: float) -> float:
    """Power per hertz between low_hz and high_hz."""
    return band_power(signal, rate_hz, low_hz, high_hz) / (high_hz - low_hz)


@pytest.mark.parametrize("rate_hz", [8000, 16000, 48000])
def test_both_come_at_the_level_asked_and_the_same_from_the_same_seed(rate_hz: int) -> None:
    for make in (babble, office_noise):
        first = make(rate_hz * 2, level_dbfs=-30.0, sample_rate_hz=rate_hz, seed=4)
        assert first.shape == (rate_hz * 2,)
        assert rms_dbfs(first) == pytest.approx(-30.0, abs=0.01)
        again = make(rate_hz * 2, level_dbfs=-30.0, sample_rate_hz=rate_hz, seed=4)
        other = make(rate_hz * 2, level_dbfs=-30.0, sample_rate_hz=rate_hz, seed=5)
        np.testing.assert_array_equal(first, again)
        assert not np.allclose(first, other)


def test_babble_is_speech_like_and_leaves_out_the_foreground_talker() -> None:
    rate_hz = 16000
    mix = babble(rate_hz * 10, level_dbfs=-30.0, exclude="alice", seed=1)

    # Speech-like: its energy lies in the voice band, and its 10 ms levels
    # come and go (six voices, not a steady hiss) but rarely stop.
    assert band_power(mix, rate_hz, 100, 4000) > 0.9 * band_power(mix, rate_hz, 0, 8000)
    levels_db = 10 * np.log10(np.mean(mix.reshape(-1, 160) ** 2, axis=1) + 1e-9)
    assert 2.0 < np.std(levels_db) < 8.0
    assert np.mean(levels_db < np.median(levels_db) - 20) < 0.01

    # Another talker left out, another babble; none left, an error.
    assert not np.allclose(mix, babble(rate_hz * 10, level_dbfs=-30.0, exclude="bob", seed=1))
    with pytest.raises(ConfigError, match="exclude"):
        babble(rate_hz, level_dbfs=-30.0, exclude="mallory")


def test_office_noise_falls_with_frequency_hums_and_clicks() -> None:
    rate_hz = 16000
    noise = office_noise(rate_hz * 10, level_dbfs=-30.0, seed=2)

    # The roar: its density in the octave 250-500 Hz is several times that
    # in 2-4 kHz, the clicks' band. The hum: 50 Hz stands far above the
    # roar's rumble beside it.
    assert density(noise, rate_hz, 250, 500) > 4 * density(noise, rate_hz, 2000, 4000)
    assert density(noise, rate_hz, 49.5, 50.5) > 10 * density(noise, rate_hz, 40, 45)
    # The clicks: about four a second (two keystrokes, each down and up),
    # short peaks far over the RMS, in a few frames in a hundred.
    frames = noise.reshape(-1, 160)
    peak_to_rms = np.max(np.abs(frames), axis=1) / np.sqrt(np.mean(noise**2))
    loud_frames = np.mean(peak_to_rms > 6)
    assert 0.01 < loud_frames < 0.1
    sixty_hz = office_noise(rate_hz * 10, level_dbfs=-30.0, seed=2, hum_hz=60.0)
    assert density(sixty_hz, rate_hz, 59.5, 60.5) > 10 * density(sixty_hz, rate_hz, 40, 45)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"samples": 0}, "samples"),
        ({"sample_rate_hz": 4000}, "sample_rate_hz"),
        ({"level_dbfs": 3.0}, "level_dbfs"),
        ({"level_dbfs": float("nan")}, "level_dbfs"),
    ],
)
def test_bad_options_raise_config_error(options: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {"samples": 1600, "level_dbfs": -30.0, "sample_rate_hz": 16000}
    arguments.update(options)
    for make in (babble, office_noise):
        with pytest.raises(ConfigError, match=message):
            make(
                int(arguments["samples"]),
                level_dbfs=arguments["level_dbfs"],
                sample_rate_hz=int(arguments["sample_rate_hz"]),
            )
    with pytest.raises(ConfigError, match="hum_hz"):
        office_noise(1600, level_dbfs=-30.0, hum_hz=9000.0)
