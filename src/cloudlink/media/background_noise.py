"""Backgrounds a microphone picks up besides its own talker, made up on the
spot from the packaged speech and from noise: the babble of a room of other
talkers, and an office (ventilation, mains hum, keyboard clicks).

Both come back as float64 samples in int16 units (full scale 32768) at an
RMS level in dBFS, reproducible from a seed, ready to add to speech.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from cloudlink.errors import ConfigError
from cloudlink.media.synthetic import SPEAKERS, speech_path
from cloudlink.media.wav import read_wav

__all__ = ["babble", "office_noise"]

_FULL_SCALE: Final = 32768.0
# The rate of the packaged speech.
_SPEECH_RATE_HZ: Final = 16000

# Six voices: babble of four or more talkers no longer changes much in its
# acoustic spread (Krishnamurthy, Ikeno and Hansen, Interspeech 2008), yet
# six still come and go audibly.
_BABBLE_VOICES: Final = 6
# Each voice plays a packaged talker faster or slower, which moves its pitch
# and its pace together: -3.9 to +3.9 semitones (12 log2 of the factor), so
# no voice is the packaged talker itself.
_VOICE_SPEED_FACTORS: Final = (0.8, 0.88, 0.95, 1.06, 1.14, 1.25)
# Voices at different distances: gains spread over +-3 dB.
_VOICE_GAIN_SPREAD_DB: Final = 3.0

# The ventilation roar falls with frequency: pink and brown noise (density
# -3 and -6 dB per octave) of equal density at 250 Hz, so brown rules the
# rumble below and pink the band above. Blazier's room criterion curves
# (ANSI S12.2) put a neutral office at -5 dB per octave band, steeper still
# than brown noise (-3 dB per octave band): this flatter mix leaves more of
# the noise where speech is. A microphone's low cut (second order) takes it
# away below 50 Hz.
_PINK_BROWN_CROSSOVER_HZ: Final = 250.0
_LOW_CUT_HZ: Final = 50.0
# Mains hum: the fundamental and two harmonics at halving amplitudes, 10 dB
# under the roar (audible, not dominant).
_HUM_HARMONIC_AMPLITUDES: Final = (1.0, 0.5, 0.25)
_HUM_UNDER_ROAR_DB: Final = 10.0
# Keystrokes: 2 a second at random (a typist at 40 words a minute strikes
# about 3.3 keys a second; this one pauses too), each a press and, 60-120 ms
# later, a release at half its amplitude.
_KEYSTROKES_PER_S: Final = 2.0
_RELEASE_DELAY_MS: Final = (60.0, 120.0)
_RELEASE_AMPLITUDE: Final = 0.5
# A click: 8 ms of noise decaying with a 1 ms time constant, differentiated
# so that its energy lies high, like a key's plastic snap; it peaks 20 dB
# over the roar's RMS (a keyboard beside the microphone), +-3 dB from key to
# key.
_CLICK_MS: Final = 8.0
_CLICK_DECAY_MS: Final = 1.0
_CLICK_OVER_ROAR_DB: Final = 20.0
_CLICK_SPREAD_DB: Final = 3.0


def _check(samples: int, sample_rate_hz: int, level_dbfs: float) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples <= 0:
        raise ConfigError(f"samples must be > 0, got {samples}")
    if sample_rate_hz < 8000 or sample_rate_hz > 48000:
        raise ConfigError(f"sample_rate_hz must be 8000..48000, got {sample_rate_hz}")
    if not level_dbfs <= 0.0:
        raise ConfigError(f"level_dbfs must be <= 0, got {level_dbfs}")


def _at_level(signal: npt.NDArray[np.float64], level_dbfs: float) -> npt.NDArray[np.float64]:
    rms = float(np.sqrt(np.mean(signal**2)))
    target = _FULL_SCALE * 10.0 ** (level_dbfs / 20.0)
    return signal * (target / rms if rms > 0.0 else 0.0)


def _resampled(pcm: npt.NDArray[np.float64], samples: int) -> npt.NDArray[np.float64]:
    """``pcm`` stretched or squeezed to ``samples`` by its spectrum (band-limited)."""
    spectrum = np.fft.rfft(pcm)
    bins = samples // 2 + 1
    out = np.zeros(bins, dtype=complex)
    kept = min(bins, len(spectrum))
    out[:kept] = spectrum[:kept]
    return np.fft.irfft(out, samples) * (samples / len(pcm))


def babble(
    samples: int,
    *,
    level_dbfs: float,
    sample_rate_hz: int = 16000,
    exclude: str | None = None,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """Six voices talking at once, ``samples`` long at ``level_dbfs`` RMS.

    The voices are the packaged talkers other than ``exclude`` (the one in
    the foreground), each sped up or slowed down, from a random place in
    its recording (looped) and at a random gain.
    """
    _check(samples, sample_rate_hz, level_dbfs)
    if exclude is not None and exclude not in SPEAKERS:
        raise ConfigError(f"exclude must be one of {', '.join(SPEAKERS)} or None, got {exclude!r}")
    sources = [name for name in SPEAKERS if name != exclude]
    recordings = [read_wav(speech_path(name))[0].astype(np.float64) for name in sources]

    # Each voice: its talker resampled so that it plays at its speed factor
    # at sample_rate_hz, started at a random place and looped.
    rng = np.random.default_rng(seed)
    mix = np.zeros(samples)
    for voice, factor in enumerate(_VOICE_SPEED_FACTORS[:_BABBLE_VOICES]):
        recording = recordings[voice % len(recordings)]
        played = round(len(recording) * sample_rate_hz / _SPEECH_RATE_HZ / factor)
        voice_pcm = _resampled(recording, played)
        start = int(rng.integers(played))
        gain_db = rng.uniform(-_VOICE_GAIN_SPREAD_DB, _VOICE_GAIN_SPREAD_DB)
        mix += np.resize(np.roll(voice_pcm, -start), samples) * 10.0 ** (gain_db / 20.0)
    return _at_level(mix, level_dbfs)


def office_noise(
    samples: int,
    *,
    level_dbfs: float,
    sample_rate_hz: int = 16000,
    hum_hz: float = 50.0,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """An office, ``samples`` long at ``level_dbfs`` RMS: ventilation roar
    (pink and brown noise), mains hum at ``hum_hz`` and sparse keyboard
    clicks."""
    _check(samples, sample_rate_hz, level_dbfs)
    if not 0.0 < hum_hz < sample_rate_hz / 2:
        raise ConfigError(f"hum_hz must be within (0, {sample_rate_hz / 2}), got {hum_hz}")
    rng = np.random.default_rng(seed)

    # The roar: white noise shaped in one transform to pink + brown density
    # under the microphone's low cut.
    frequency_hz = np.fft.rfftfreq(samples, 1.0 / sample_rate_hz)
    relative = np.maximum(frequency_hz, 1.0) / _PINK_BROWN_CROSSOVER_HZ
    low_cut = 1.0 / (1.0 + (_LOW_CUT_HZ / np.maximum(frequency_hz, 1.0)) ** 4)
    density = (1.0 / relative + 1.0 / relative**2) * low_cut
    spectrum = np.fft.rfft(rng.standard_normal(samples)) * np.sqrt(density)
    roar = np.fft.irfft(spectrum, samples)
    roar_rms = float(np.sqrt(np.mean(roar**2)))

    # The hum, at a random phase per harmonic.
    t_s = np.arange(samples) / sample_rate_hz
    hum = np.zeros(samples)
    for harmonic, amplitude in enumerate(_HUM_HARMONIC_AMPLITUDES, start=1):
        phase = rng.uniform(0.0, 2.0 * np.pi)
        hum += amplitude * np.sin(2.0 * np.pi * harmonic * hum_hz * t_s + phase)
    hum *= roar_rms * 10.0 ** (-_HUM_UNDER_ROAR_DB / 20.0) / np.sqrt(np.mean(hum**2))

    # The clicks: a press and its release for every keystroke.
    clicks = np.zeros(samples)
    click_samples = round(_CLICK_MS * sample_rate_hz / 1000.0)
    decay = np.exp(-np.arange(click_samples) / (_CLICK_DECAY_MS * sample_rate_hz / 1000.0))
    keystrokes = rng.poisson(_KEYSTROKES_PER_S * samples / sample_rate_hz)
    for press in rng.integers(0, samples, size=keystrokes):
        delay_ms = rng.uniform(*_RELEASE_DELAY_MS)
        release = press + round(delay_ms * sample_rate_hz / 1000.0)
        for start, amplitude in ((press, 1.0), (release, _RELEASE_AMPLITUDE)):
            if start >= samples:
                continue
            click = np.diff(rng.standard_normal(click_samples + 1)) * decay
            click *= amplitude / np.max(np.abs(click))
            spread_db = rng.uniform(-_CLICK_SPREAD_DB, _CLICK_SPREAD_DB)
            click *= roar_rms * 10.0 ** ((_CLICK_OVER_ROAR_DB + spread_db) / 20.0)
            end = min(samples, start + click_samples)
            clicks[start:end] += click[: end - start]
    return _at_level(roar + hum + clicks, level_dbfs)
