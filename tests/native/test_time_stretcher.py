"""The WSOLA time stretcher: whole pitch periods, no seams, speech kept intact."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native

RATES_HZ = [8000, 16000, 48000]
TONE_HZ = 200  # a period of 5 ms: a whole number of samples at every rate above


def harmonic_tone(rate_hz: int, samples: int, *, phase: float = 0.0) -> npt.NDArray[np.int16]:
    """A 200 Hz tone with its first five harmonics, peak 12000."""
    t = np.arange(samples) / rate_hz
    wave = np.sum(
        [np.sin(2 * np.pi * TONE_HZ * k * t + phase * k) / k for k in range(1, 6)], axis=0
    )
    return (wave / np.abs(wave).max() * 12000).astype(np.int16)


def max_step(pcm: npt.NDArray[np.int16]) -> int:
    return int(np.abs(np.diff(pcm.astype(np.int32), axis=0)).max())


def upsample_3x(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """16 kHz to 48 kHz by zero-padding the spectrum (band-limited, no filter ringing)."""
    spectrum = np.fft.rfft(pcm.astype(np.float64))
    out_samples = len(pcm) * 3
    padded = np.zeros(out_samples // 2 + 1, dtype=complex)
    padded[: len(spectrum)] = spectrum * 3
    return np.clip(np.fft.irfft(padded, out_samples), -32768, 32767).astype(np.int16)


def log_spectral_distance_db(
    a: npt.NDArray[np.int16], b: npt.NDArray[np.int16], rate_hz: int
) -> float:
    """RMS difference in dB of the long-term spectra (32 ms Hann frames), 100 Hz to 7 kHz."""
    fft_samples = rate_hz * 32 // 1000
    window = np.hanning(fft_samples)

    def spectrum(x: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), fft_samples)
        power = np.abs(np.fft.rfft(frames[:: fft_samples // 2] * window, axis=1)) ** 2
        return np.asarray(power.mean(axis=0))

    freqs_hz = np.fft.rfftfreq(fft_samples, 1 / rate_hz)
    band = (freqs_hz > 100) & (freqs_hz < 7000)
    ratio_db = 10 * np.log10(spectrum(a)[band] / spectrum(b)[band])
    return float(np.sqrt(np.mean(ratio_db**2)))


@pytest.mark.parametrize("rate_hz", RATES_HZ)
@pytest.mark.parametrize("phase", [0.0, 1.3, 4.0])
def test_accelerate_removes_whole_periods_without_a_seam(rate_hz: int, phase: float) -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=rate_hz)
    period = rate_hz // TONE_HZ
    tone = harmonic_tone(rate_hz, stretcher.min_input_samples * 2, phase=phase)
    block = tone[: stretcher.min_input_samples]

    out, removed = stretcher.accelerate(block)

    assert removed in (period, 2 * period)
    assert len(out) == len(block) - removed
    # A periodic signal shortened by whole periods is the same signal, cut short.
    assert np.abs(out.astype(np.int32) - block[: len(out)]).max() <= 2
    assert max_step(out) <= max_step(block) + 2


@pytest.mark.parametrize("rate_hz", RATES_HZ)
@pytest.mark.parametrize("phase", [0.0, 2.2])
def test_preemptive_expand_adds_one_period_without_a_seam(rate_hz: int, phase: float) -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=rate_hz)
    period = rate_hz // TONE_HZ
    tone = harmonic_tone(rate_hz, stretcher.min_input_samples * 2, phase=phase)
    block = tone[: stretcher.min_input_samples]

    out, added = stretcher.preemptive_expand(block)

    assert added == period
    assert len(out) == len(block) + added
    assert np.abs(out.astype(np.int32) - tone[: len(out)]).max() <= 2
    assert max_step(out) <= max_step(block) + 2


@pytest.mark.parametrize("rate_hz", [16000, 48000])
@pytest.mark.parametrize("mode", ["accelerate", "preemptive_expand"])
def test_repeated_stretching_of_speech_keeps_its_spectrum(
    rate_hz: int, mode: str, speech_16k: npt.NDArray[np.int16]
) -> None:
    speech = speech_16k if rate_hz == 16000 else upsample_3x(speech_16k)
    stretcher = _native.TimeStretcher(sample_rate_hz=rate_hz)
    block_samples = stretcher.min_input_samples
    sign = -1 if mode == "accelerate" else 1

    pieces, changed, stretched_blocks = [], 0, 0
    for start in range(0, len(speech) - block_samples + 1, block_samples):
        block = speech[start : start + block_samples]
        out, samples = getattr(stretcher, mode)(block)
        assert len(out) == block_samples + sign * samples
        if samples == 0:
            assert np.array_equal(out, block)
        pieces.append(out)
        changed += samples
        stretched_blocks += samples > 0
    out = np.concatenate(pieces)
    used = len(pieces) * block_samples

    assert len(out) == used + sign * changed
    # Most of espeak's speech is voiced or silent, so most blocks stretch,
    # each by at least 2.5 ms.
    assert stretched_blocks > 0.5 * len(pieces)
    assert changed >= stretched_blocks * rate_hz // 400
    assert log_spectral_distance_db(speech[:used], out, rate_hz) < 1.5
    assert max_step(out) <= max_step(speech[:used])


@pytest.mark.parametrize("rate_hz", RATES_HZ)
def test_loud_white_noise_is_mostly_left_alone(rate_hz: int) -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=rate_hz)
    rng = np.random.default_rng(7)
    block_samples = stretcher.min_input_samples
    noise = (rng.standard_normal(block_samples * 100) * 3000).astype(np.int16)  # -21 dBFS

    stretched = 0
    for start in range(0, len(noise), block_samples):
        block = noise[start : start + block_samples]
        for out, samples in (stretcher.accelerate(block), stretcher.preemptive_expand(block)):
            stretched += samples > 0
            if samples == 0:
                assert np.array_equal(out, block)
    assert stretched <= 0.05 * 200


def test_digital_silence_is_stretched() -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=16000)
    silence = np.zeros(480, dtype=np.int16)
    out, removed = stretcher.accelerate(silence)
    assert removed > 0 and len(out) == 480 - removed and not out.any()
    out, added = stretcher.preemptive_expand(silence)
    assert added > 0 and len(out) == 480 + added and not out.any()


@pytest.mark.parametrize("rate_hz", RATES_HZ)
def test_accelerate_takes_no_more_than_its_limit(rate_hz: int) -> None:
    """A loud block is cut by whole periods or not at all: a limit below
    its period leaves it unchanged, one below two periods takes one."""
    stretcher = _native.TimeStretcher(sample_rate_hz=rate_hz)
    period = rate_hz // TONE_HZ
    block = harmonic_tone(rate_hz, stretcher.min_input_samples)
    out, removed = stretcher.accelerate(block, max_removed_samples=period - 1)
    assert removed == 0 and np.array_equal(out, block)
    out, removed = stretcher.accelerate(block, max_removed_samples=2 * period - 1)
    assert removed == period and len(out) == len(block) - period
    _, removed = stretcher.accelerate(block, max_removed_samples=2 * period)
    assert removed in (period, 2 * period)


def test_quiet_block_is_cut_exactly_to_the_limit() -> None:
    """A quiet block may be spliced at any lag, so a limit shorter than
    its period (but not than the shortest pitch, 2.5 ms) is met exactly."""
    stretcher = _native.TimeStretcher(sample_rate_hz=48000)
    quiet = (harmonic_tone(48000, 1440) // 400).astype(np.int16)  # about -50 dBov
    out, removed = stretcher.accelerate(quiet, max_removed_samples=150)
    assert removed == 150 and len(out) == 1440 - 150
    assert max_step(out) <= max_step(quiet) + 4
    out, removed = stretcher.accelerate(quiet, max_removed_samples=100)  # under 2.5 ms
    assert removed == 0 and np.array_equal(out, quiet)
    with pytest.raises(ValueError, match="max_removed_samples must not be negative, got -1"):
        stretcher.accelerate(quiet, max_removed_samples=-1)


def test_the_quiet_level_follows_the_room() -> None:
    """Noise at -35 dBov is neither periodic nor quiet by default; with the
    quiet level raised above it (as the jitter buffer does from its
    background estimate) it is stretched like any pause."""
    stretcher = _native.TimeStretcher(sample_rate_hz=48000)
    rng = np.random.default_rng(2)
    noise = rng.normal(0.0, 32768 * 10 ** (-35 / 20), 1440).astype(np.int16)
    assert stretcher.quiet_dbov == pytest.approx(-45.0, abs=0.1)
    assert stretcher.accelerate(noise)[1] == 0
    assert stretcher.preemptive_expand(noise)[1] == 0
    stretcher.quiet_dbov = -29.0
    assert stretcher.quiet_dbov == pytest.approx(-29.0)
    out, removed = stretcher.accelerate(noise)
    assert removed > 0 and len(out) == 1440 - removed
    assert stretcher.preemptive_expand(noise)[1] > 0
    # A loud tone stays judged by its periodicity alone.
    tone = harmonic_tone(48000, 1440)
    assert stretcher.accelerate(tone)[1] in (240, 480)
    stretcher.quiet_dbov = -80.0  # never below the default
    assert stretcher.quiet_dbov == pytest.approx(-45.0, abs=0.1)
    for bad in (1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="quiet_dbov must be a finite level <= 0 dBov"):
            stretcher.quiet_dbov = bad


@pytest.mark.parametrize("mode", ["accelerate", "preemptive_expand"])
def test_stereo_channels_stay_aligned(mode: str) -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=16000, channels=2)
    left = harmonic_tone(16000, 720, phase=0.7)
    right = (-left // 2).astype(np.int16)
    block = np.stack([left, right], axis=1)[:480]

    out, samples = getattr(stretcher, mode)(block)

    assert samples in (80, 160)
    assert out.shape == (480 + (samples if mode == "preemptive_expand" else -samples), 2)
    # Both channels were cut at the same place: right is still -left / 2.
    assert np.abs(out[:, 1].astype(np.int32) + out[:, 0] // 2).max() <= 1
    # A flat interleaved block gives the same samples, flat.
    flat, flat_samples = getattr(stretcher, mode)(block.reshape(-1))
    assert flat_samples == samples and np.array_equal(flat, out.reshape(-1))


def test_stereo_with_one_silent_channel_keeps_it_silent() -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=48000, channels=2)
    block = np.zeros((1440, 2), dtype=np.int16)
    block[:, 0] = harmonic_tone(48000, 1440)
    out, removed = stretcher.accelerate(block)
    assert removed in (240, 480)
    assert not out[:, 1].any()
    assert np.abs(out[:, 0].astype(np.int32) - block[: len(out), 0]).max() <= 2


def test_float32_follows_the_int16_path() -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=16000)
    block = harmonic_tone(16000, 480, phase=0.3)
    out_int, removed_int = stretcher.accelerate(block)
    out_float, removed_float = stretcher.accelerate(block.astype(np.float32) / 32768)
    assert out_float.dtype == np.float32 and removed_float == removed_int
    assert np.abs(out_float * 32768 - out_int).max() <= 1


def test_properties() -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=48000, channels=2)
    assert stretcher.min_input_samples == 1440
    assert stretcher.sample_rate_hz == 48000 and stretcher.channels == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample_rate_hz": 7999}, "sample_rate_hz"),
        ({"sample_rate_hz": 96000}, "sample_rate_hz"),
        ({"sample_rate_hz": 16000, "channels": 0}, "channels"),
        ({"sample_rate_hz": 16000, "channels": 3}, "channels"),
    ],
)
def test_bad_configuration_raises_value_error(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _native.TimeStretcher(**options)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        _native.TimeStretcher(16000)  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["accelerate", "preemptive_expand"])
def test_bad_input_is_rejected(mode: str) -> None:
    mono = _native.TimeStretcher(sample_rate_hz=16000)
    stereo = _native.TimeStretcher(sample_rate_hz=16000, channels=2)
    with pytest.raises(ValueError, match="min_input_samples = 480"):
        getattr(mono, mode)(np.zeros(479, dtype=np.int16))
    with pytest.raises(ValueError, match="min_input_samples"):
        getattr(mono, mode)(np.zeros(0, dtype=np.int16))
    with pytest.raises(ValueError, match="min_input_samples"):
        getattr(stereo, mode)(np.zeros((479, 2), dtype=np.int16))
    with pytest.raises(ValueError, match="shape"):
        getattr(stereo, mode)(np.zeros(961, dtype=np.int16))
    with pytest.raises(ValueError, match="shape"):
        getattr(mono, mode)(np.zeros((480, 2), dtype=np.int16))
    with pytest.raises(ValueError, match="shape"):
        getattr(mono, mode)(np.zeros((480, 1, 1), dtype=np.int16))
    with pytest.raises(TypeError, match="int16 or float32"):
        getattr(mono, mode)(np.zeros(480, dtype=np.float64))
    with pytest.raises(TypeError):
        getattr(mono, mode)([0] * 480)


def test_float_nan_and_overload_do_not_crash() -> None:
    stretcher = _native.TimeStretcher(sample_rate_hz=16000)
    block = np.full(480, np.nan, dtype=np.float32)
    block[::2] = 4.0
    out, changed = stretcher.accelerate(block)
    assert np.isfinite(out).all() and len(out) == 480 - changed
