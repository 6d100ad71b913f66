"""The polyphase resampler: pass band, stop band, streaming, delay, layouts
and bad arguments."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from _gil import python_progress_during

from cloudlink import _native

RATES_HZ = (8000, 16000, 24000, 32000, 44100, 48000)
PAIRS = [(a, b) for a, b in itertools.product(RATES_HZ, RATES_HZ) if a != b]
DOWN_PAIRS = [(a, b) for a, b in PAIRS if a > b]
UP_PAIRS = [(a, b) for a, b in PAIRS if a < b]


def tone(
    frequency_hz: float, rate_hz: int, samples: int, *, amplitude: float = 0.5, phase: float = 0.0
) -> npt.NDArray[np.float64]:
    return amplitude * np.sin(2 * np.pi * frequency_hz * np.arange(samples) / rate_hz + phase)


def interior(signal: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The middle 80%: away from the filter's start-up and flush."""
    n = len(signal)
    return np.asarray(signal[n // 10 : n - n // 10], dtype=np.float64)


def level_db(signal: npt.NDArray[Any], reference: npt.NDArray[Any]) -> float:
    power = np.mean(np.asarray(signal, np.float64) ** 2)
    return float(10 * np.log10(max(power, 1e-30) / np.mean(np.asarray(reference, np.float64) ** 2)))


# --- pass band and stop band ------------------------------------------------------


@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), PAIRS)
def test_sine_keeps_frequency_amplitude_and_phase(input_rate_hz: int, output_rate_hz: int) -> None:
    nyquist_hz = min(input_rate_hz, output_rate_hz) / 2
    n_in = input_rate_hz // 4
    n_out = round(n_in * output_rate_hz / input_rate_hz)
    for fraction in (0.05, 0.5, 0.9):
        frequency_hz = fraction * nyquist_hz
        pcm = tone(frequency_hz, input_rate_hz, n_in, phase=0.3).astype(np.float32)
        out = _native.resample(pcm, input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
        assert out.dtype == np.float32
        assert out.shape == (n_out,)

        # The delay is compensated, so the output is the same sine sampled at
        # the new rate: same frequency, amplitude and phase.
        ideal = tone(frequency_hz, output_rate_hz, n_out, phase=0.3)
        gain_db = level_db(interior(out), interior(ideal))
        assert abs(gain_db) < 0.1, f"{frequency_hz:.0f} Hz: gain {gain_db:.3f} dB"
        error_db = level_db(interior(out) - interior(ideal), interior(ideal))
        assert error_db < -60, f"{frequency_hz:.0f} Hz: error {error_db:.1f} dB"


@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), DOWN_PAIRS)
def test_tones_above_the_output_nyquist_are_rejected(
    input_rate_hz: int, output_rate_hz: int
) -> None:
    n_in = input_rate_hz // 4
    nyquist_out_hz = output_rate_hz / 2
    reference = tone(1000, input_rate_hz, n_in)
    for frequency_hz in np.linspace(1.01 * nyquist_out_hz, 0.99 * input_rate_hz / 2, 7):
        pcm = tone(frequency_hz, input_rate_hz, n_in).astype(np.float32)
        out = _native.resample(pcm, input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
        rejection_db = level_db(interior(out), reference)
        assert rejection_db < -60, f"{frequency_hz:.0f} Hz leaks at {rejection_db:.1f} dB"


@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), UP_PAIRS)
def test_upsampling_leaves_no_images_above_the_input_nyquist(
    input_rate_hz: int, output_rate_hz: int
) -> None:
    nyquist_in_hz = input_rate_hz / 2
    n_in = input_rate_hz // 2
    for fraction in (0.3, 0.9):
        pcm = tone(fraction * nyquist_in_hz, input_rate_hz, n_in).astype(np.float32)
        out = interior(
            _native.resample(pcm, input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
        )
        # Blackman-Harris keeps the tone's own leakage far below -60 dB.
        spectrum = np.abs(np.fft.rfft(out * np.blackman(len(out)))) ** 2
        frequencies_hz = np.fft.rfftfreq(len(out), 1 / output_rate_hz)
        images = spectrum[frequencies_hz > 1.01 * nyquist_in_hz].sum()
        images_db = 10 * np.log10(max(images, 1e-30) / spectrum.sum())
        assert images_db < -60


# --- streaming, lengths and delay -----------------------------------------------


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), [(44100, 48000), (48000, 16000)])
def test_streaming_in_random_blocks_equals_one_shot(
    input_rate_hz: int, output_rate_hz: int, channels: int, dtype: Any
) -> None:
    rng = np.random.default_rng(7)
    n_in = input_rate_hz // 5
    noise = rng.normal(0, 0.2, (n_in, channels))
    pcm = (noise * 32767).astype(np.int16) if dtype == np.int16 else noise.astype(np.float32)
    if channels == 1:
        pcm = pcm[:, 0].copy()

    stream = _native.Resampler(
        input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz, channels=channels
    )
    blocks, start = [], 0
    while start < n_in:
        size = int(rng.choice([0, 1, 2, 7, 160, 441, 1000]))
        blocks.append(stream.process(pcm[start : start + size]))
        start += size
    blocks.append(stream.flush())
    streamed = np.concatenate(blocks)
    assert streamed.dtype == dtype

    whole = _native.Resampler(
        input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz, channels=channels
    )
    at_once = np.concatenate([whole.process(pcm), whole.flush()])
    assert np.array_equal(streamed, at_once)

    one_shot = _native.resample(pcm, input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
    delay = stream.delay_samples
    assert np.array_equal(one_shot, streamed[delay : delay + len(one_shot)])


@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), [(44100, 48000), (16000, 8000)])
@pytest.mark.parametrize("samples", [0, 1, 2, 3, 147, 160, 441, 999, 44100])
def test_output_lengths(input_rate_hz: int, output_rate_hz: int, samples: int) -> None:
    pcm = np.zeros(samples, np.int16)
    stream = _native.Resampler(input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
    ratio = Fraction(output_rate_hz, input_rate_hz)
    assert len(stream.process(pcm)) == math.ceil(samples * ratio)
    assert len(stream.flush()) == stream.delay_samples
    one_shot = _native.resample(pcm, input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
    assert len(one_shot) == round(samples * ratio)


@pytest.mark.parametrize(("input_rate_hz", "output_rate_hz"), PAIRS)
def test_delay_samples_matches_cross_correlation(input_rate_hz: int, output_rate_hz: int) -> None:
    # Many tones with random phases across the pass band: a signal we can
    # sample exactly at both rates, whose autocorrelation has one sharp peak.
    rng = np.random.default_rng(input_rate_hz + output_rate_hz)
    nyquist_hz = min(input_rate_hz, output_rate_hz) / 2
    frequencies_hz = rng.uniform(50, 0.9 * nyquist_hz, 40)
    phases = rng.uniform(0, 2 * np.pi, 40)

    def signal(rate_hz: int, samples: int) -> npt.NDArray[np.float64]:
        t = np.arange(samples)[:, None] / rate_hz
        return np.sin(2 * np.pi * frequencies_hz * t + phases).sum(axis=1) / 40

    n_in = input_rate_hz // 10
    stream = _native.Resampler(input_rate_hz=input_rate_hz, output_rate_hz=output_rate_hz)
    out = stream.process(signal(input_rate_hz, n_in).astype(np.float32)).astype(np.float64)
    ideal = signal(output_rate_hz, len(out))
    lags = range(0, 2 * stream.delay_samples + 10)
    window = slice(len(out) // 2, len(out) // 2 + len(out) // 4)
    scores = [np.dot(out[window], ideal[window.start - lag : window.stop - lag]) for lag in lags]
    assert int(np.argmax(scores)) == stream.delay_samples


def test_equal_rates_pass_the_signal_through() -> None:
    pcm = np.arange(-500, 500, dtype=np.int16)
    stream = _native.Resampler(input_rate_hz=16000, output_rate_hz=16000)
    assert stream.delay_samples == 0
    assert np.array_equal(stream.process(pcm), pcm)
    assert len(stream.flush()) == 0
    assert np.array_equal(_native.resample(pcm, input_rate_hz=16000, output_rate_hz=16000), pcm)


# --- layouts and dtypes -----------------------------------------------------------


def test_stereo_channels_are_resampled_independently() -> None:
    left = tone(440, 48000, 4800)
    right = tone(1700, 48000, 4800, amplitude=0.2)
    stereo = np.ascontiguousarray(np.stack([left, right], axis=1), dtype=np.float32)
    out = _native.resample(stereo, input_rate_hz=48000, output_rate_hz=16000)
    assert out.shape == (1600, 2)
    for channel, mono in enumerate((left, right)):
        alone = _native.resample(mono.astype(np.float32), input_rate_hz=48000, output_rate_hz=16000)
        assert np.array_equal(out[:, channel], alone)


def test_stereo_stream_accepts_flat_interleaved_blocks() -> None:
    stereo = (np.random.default_rng(1).normal(0, 3000, (960, 2))).astype(np.int16)
    two_d = _native.Resampler(input_rate_hz=48000, output_rate_hz=16000, channels=2)
    flat = _native.Resampler(input_rate_hz=48000, output_rate_hz=16000, channels=2)
    a = two_d.process(stereo)
    b = flat.process(stereo.reshape(-1))
    assert a.shape == b.shape == (320, 2)
    assert np.array_equal(a, b)


def test_int16_output_saturates_instead_of_wrapping() -> None:
    square = np.where(np.arange(4800) % 96 < 48, 32767, -32768).astype(np.int16)
    as_int16 = _native.resample(square, input_rate_hz=48000, output_rate_hz=44100)
    as_float = _native.resample(
        square.astype(np.float32), input_rate_hz=48000, output_rate_hz=44100
    )
    # The filter's ringing overshoots full scale; int16 clips it.
    assert np.max(as_float) > 32767
    clipped = np.clip(np.round(as_float), -32768, 32767)
    assert np.max(np.abs(as_int16.astype(np.float64) - clipped)) <= 1


def test_mono_column_keeps_its_shape() -> None:
    column = np.zeros((480, 1), np.float32)
    assert _native.resample(column, input_rate_hz=48000, output_rate_hz=16000).shape == (160, 1)
    stream = _native.Resampler(input_rate_hz=48000, output_rate_hz=16000)
    assert stream.process(column).shape == (160, 1)


def test_flush_starts_a_new_stream_and_keeps_the_dtype() -> None:
    pcm = tone(300, 16000, 1600).astype(np.float32)
    stream = _native.Resampler(input_rate_hz=16000, output_rate_hz=48000)
    first = np.concatenate([stream.process(pcm), stream.flush()])
    assert first.dtype == np.float32
    second = np.concatenate([stream.process(pcm), stream.flush()])
    assert np.array_equal(first, second)
    stream.process(pcm[:100])
    stream.reset()
    after_reset = stream.process(pcm)
    assert len(after_reset) == 4800
    assert np.array_equal(after_reset, first[:4800])


def test_properties() -> None:
    stream = _native.Resampler(input_rate_hz=44100, output_rate_hz=48000, channels=2)
    assert (stream.input_rate_hz, stream.output_rate_hz, stream.channels) == (44100, 48000, 2)
    assert 0 < stream.delay_samples < 480  # under 10 ms


# --- bad arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"input_rate_hz": 11025, "output_rate_hz": 48000}, "input_rate_hz .* got 11025"),
        ({"input_rate_hz": 48000, "output_rate_hz": 96000}, "output_rate_hz .* got 96000"),
        ({"input_rate_hz": 0, "output_rate_hz": 48000}, "input_rate_hz .* got 0"),
        ({"input_rate_hz": 48000, "output_rate_hz": -16000}, "output_rate_hz .* got -16000"),
        ({"input_rate_hz": 48000, "output_rate_hz": 16000, "channels": 0}, "channels .* got 0"),
        ({"input_rate_hz": 48000, "output_rate_hz": 16000, "channels": 3}, "channels .* got 3"),
    ],
)
def test_bad_config_is_rejected(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _native.Resampler(**options)


def test_options_are_keyword_only_and_rates_required() -> None:
    with pytest.raises(TypeError):
        _native.Resampler(48000, 16000)  # type: ignore[misc]
    with pytest.raises(TypeError):
        _native.Resampler(input_rate_hz=48000)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _native.resample(np.zeros(10, np.int16), 48000, 16000)  # type: ignore[misc]


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8, ">i2"])
def test_wrong_dtype_is_a_type_error(dtype: Any) -> None:
    pcm = np.zeros(480, dtype)
    with pytest.raises(TypeError, match="int16 or float32"):
        _native.Resampler(input_rate_hz=48000, output_rate_hz=16000).process(pcm)
    with pytest.raises(TypeError, match="int16 or float32"):
        _native.resample(pcm, input_rate_hz=48000, output_rate_hz=16000)


@pytest.mark.parametrize("pcm", [None, "pcm", [0.0] * 480])
def test_what_is_not_an_array_is_a_type_error(pcm: Any) -> None:
    with pytest.raises(TypeError):
        _native.Resampler(input_rate_hz=48000, output_rate_hz=16000).process(pcm)


@pytest.mark.parametrize(
    ("channels", "pcm", "message"),
    [
        (1, np.zeros((480, 2), np.int16), "1 channels"),
        (2, np.zeros((480, 3), np.int16), "2 channels"),
        (2, np.zeros((480, 1), np.int16), "2 channels"),
        (2, np.zeros(481, np.int16), "whole number of 2-channel samples"),
        (1, np.zeros((10, 48, 1), np.int16), "1-D or 2-D"),
        (1, np.zeros((), np.int16), "1-D or 2-D"),
        (1, np.zeros(960, np.int16)[::2], "C-contiguous"),
        (2, np.asfortranarray(np.zeros((480, 2), np.float32)), "C-contiguous"),
    ],
)
def test_bad_layout_is_a_value_error(channels: int, pcm: npt.NDArray[Any], message: str) -> None:
    stream = _native.Resampler(input_rate_hz=48000, output_rate_hz=16000, channels=channels)
    with pytest.raises(ValueError, match=message):
        stream.process(pcm)
    # The stream is unharmed.
    assert stream.process(np.zeros(480 * channels, np.int16)).size == 160 * channels


@pytest.mark.parametrize(
    "pcm",
    [np.zeros((480, 3), np.int16), np.zeros((2, 2, 2), np.float32), np.zeros(8, np.int16)[::2]],
)
def test_one_shot_rejects_bad_layouts(pcm: npt.NDArray[Any]) -> None:
    with pytest.raises(ValueError):
        _native.resample(pcm, input_rate_hz=48000, output_rate_hz=16000)


def test_one_shot_rejects_bad_rates() -> None:
    with pytest.raises(ValueError, match=r"output_rate_hz .* got 22050"):
        _native.resample(np.zeros(10, np.int16), input_rate_hz=48000, output_rate_hz=22050)


def test_resampling_releases_the_gil() -> None:
    pcm = np.zeros((44100, 2), np.float32)
    stream = _native.Resampler(input_rate_hz=44100, output_rate_hz=48000, channels=2)

    def resample_many() -> None:
        for _ in range(20):
            stream.process(pcm)
            _native.resample(pcm, input_rate_hz=44100, output_rate_hz=32000)

    # Holding the GIL throughout, the counter would not move at all.
    assert python_progress_during(resample_many) >= 10
