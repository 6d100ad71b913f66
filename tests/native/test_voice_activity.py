"""The voice activity detector on the committed speech in white, babble and
office noise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native
from cloudlink.media.background_noise import babble, office_noise

LEAD_IN_S = 1.0  # background alone before the talker starts, as when a microphone opens


def upsample_3x(pcm: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """16 kHz to 48 kHz by zero-padding the spectrum."""
    spectrum = np.fft.rfft(pcm)
    padded = np.zeros(len(pcm) * 3 // 2 + 1, dtype=complex)
    padded[: len(spectrum)] = spectrum * 3
    return np.fft.irfft(padded, len(pcm) * 3)


def white_noise(samples: int, level_dbfs: float, seed: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(samples) * 32768 * 10 ** (level_dbfs / 20)


def frame_levels_dbfs(pcm: npt.NDArray[np.float64], frame_samples: int) -> npt.NDArray[np.float64]:
    frames = pcm[: len(pcm) // frame_samples * frame_samples].reshape(-1, frame_samples)
    mean_square = np.mean(frames**2, axis=1) / 32768**2
    return np.asarray(10 * np.log10(mean_square + 1e-13))


def to_int16(pcm: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(pcm), -32768, 32767).astype(np.int16)


def run(
    detector: _native.VoiceActivityDetector, pcm: npt.NDArray[np.int16]
) -> npt.NDArray[np.bool_]:
    frame = detector.frame_samples
    return np.array([detector.process(pcm[i : i + frame]) for i in range(0, len(pcm), frame)])


def noisy_speech(
    speech_16k: npt.NDArray[np.int16], rate_hz: int, noise_dbfs: float
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Speech after a lead-in of noise, and the truth per 10 ms frame.

    The truth is the clean speech's own level: a frame is speech when it is
    above -45 dBFS and no more than 5 dB under the noise (quieter speech is
    lost in the noise for any detector).
    """
    speech = speech_16k.astype(np.float64)
    if rate_hz == 48000:
        speech = upsample_3x(speech)
    frame = rate_hz // 100
    clean = np.concatenate([np.zeros(int(LEAD_IN_S * rate_hz)), speech])
    clean = clean[: len(clean) // frame * frame]
    truth = frame_levels_dbfs(clean, frame) > max(-45.0, noise_dbfs - 5)
    noisy = to_int16(clean + white_noise(len(clean), noise_dbfs, seed=3))
    return noisy, truth


def background(
    kind: str, samples: int, rate_hz: int, level_dbfs: float, seed: int
) -> npt.NDArray[np.float64]:
    """Babble of the talkers other than alice (the fixture), or office noise."""
    if kind == "babble":
        return babble(
            samples, level_dbfs=level_dbfs, sample_rate_hz=rate_hz, exclude="alice", seed=seed
        )
    return office_noise(samples, level_dbfs=level_dbfs, sample_rate_hz=rate_hz, seed=seed)


def speech_over(
    kind: str, speech_16k: npt.NDArray[np.int16], rate_hz: int, snr_db: float
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Speech after a lead-in of babble or office noise snr_db under its
    active level (the power of its frames above -45 dBFS), and the truth per
    10 ms frame as in noisy_speech."""
    speech = speech_16k.astype(np.float64)
    if rate_hz == 48000:
        speech = upsample_3x(speech)
    frame = rate_hz // 100
    levels_dbfs = frame_levels_dbfs(speech, frame)
    active_dbfs = 10 * np.log10(np.mean(10 ** (levels_dbfs[levels_dbfs > -45.0] / 10)))
    noise_dbfs = float(active_dbfs - snr_db)
    clean = np.concatenate([np.zeros(int(LEAD_IN_S * rate_hz)), speech])
    clean = clean[: len(clean) // frame * frame]
    truth = frame_levels_dbfs(clean, frame) > max(-45.0, noise_dbfs - 5)
    noisy = to_int16(clean + background(kind, len(clean), rate_hz, noise_dbfs, seed=7))
    return noisy, truth


@pytest.mark.parametrize("rate_hz", [16000, 48000])
@pytest.mark.parametrize("noise_dbfs", [-50.0, -30.0])
def test_agrees_with_the_clean_speech_energy(
    rate_hz: int, noise_dbfs: float, speech_16k: npt.NDArray[np.int16]
) -> None:
    noisy, truth = noisy_speech(speech_16k, rate_hz, noise_dbfs)
    detector = _native.VoiceActivityDetector(sample_rate_hz=rate_hz, hangover_ms=0)
    decision = run(detector, noisy)
    talk = slice(int(LEAD_IN_S * 100), None)

    agreement = np.mean(decision[talk] == truth[talk])
    speech_found = np.mean(decision[talk][truth[talk]])
    pauses_found = np.mean(~decision[talk][~truth[talk]])
    assert agreement >= 0.9
    # Neither "always on" nor "always off" could pass these.
    assert speech_found >= 0.85
    assert pauses_found >= 0.75
    assert not decision[: talk.start].any()


@pytest.mark.parametrize("noise_dbfs", [-50.0, -30.0])
def test_hangover_bridges_pauses(noise_dbfs: float, speech_16k: npt.NDArray[np.int16]) -> None:
    noisy, truth = noisy_speech(speech_16k, 16000, noise_dbfs)
    held = run(_native.VoiceActivityDetector(sample_rate_hz=16000), noisy)
    bare = run(_native.VoiceActivityDetector(sample_rate_hz=16000, hangover_ms=0), noisy)

    # The hangover only ever adds frames, and at most 20 after each speech frame.
    assert (held | ~bare).all()
    assert held.sum() > bare.sum()
    for i in np.flatnonzero(held & ~bare):
        assert bare[max(0, i - 20) : i].any()
    # Against the truth held on for the same 200 ms, it still agrees.
    truth_held = np.array([truth[max(0, i - 20) : i + 1].any() for i in range(len(truth))])
    assert np.mean(held == truth_held) >= 0.9


@pytest.mark.parametrize("noise_dbfs", [-50.0, -30.0])
def test_turns_on_within_two_frames_of_an_onset(
    noise_dbfs: float, speech_16k: npt.NDArray[np.int16]
) -> None:
    noisy, truth = noisy_speech(speech_16k, 16000, noise_dbfs)
    decision = run(_native.VoiceActivityDetector(sample_rate_hz=16000, hangover_ms=0), noisy)

    # Every onset after at least 200 ms of pause, the first one included.
    onsets = [i for i in range(20, len(truth)) if truth[i] and not truth[i - 20 : i].any()]
    assert len(onsets) >= 3
    for onset in onsets:
        assert decision[onset : onset + 3].any(), f"no speech found at frame {onset}"


@pytest.mark.parametrize("rate_hz", [16000, 48000])
@pytest.mark.parametrize("kind", ["babble", "office"])
def test_finds_speech_over_babble_and_office_noise(
    kind: str, rate_hz: int, speech_16k: npt.NDArray[np.int16]
) -> None:
    noisy, truth = speech_over(kind, speech_16k, rate_hz, snr_db=20.0)
    decision = run(_native.VoiceActivityDetector(sample_rate_hz=rate_hz, hangover_ms=0), noisy)
    talk = slice(int(LEAD_IN_S * 100), None)

    # Most of the talker is found, and the other voices and the keyboard in
    # its pauses are mostly not taken for it (the detector tuned on white
    # noise alone took babble for speech in three pauses out of four).
    assert np.mean(decision[talk][truth[talk]]) >= 0.85
    assert np.mean(~decision[talk][~truth[talk]]) >= 0.85
    assert np.mean(decision[talk] == truth[talk]) >= 0.88


def test_leaves_most_pauses_silent_in_loud_babble(speech_16k: npt.NDArray[np.int16]) -> None:
    noisy, truth = speech_over("babble", speech_16k, 16000, snr_db=10.0)
    decision = run(_native.VoiceActivityDetector(sample_rate_hz=16000, hangover_ms=0), noisy)
    talk = slice(int(LEAD_IN_S * 100), None)

    # At 10 dB SNR the talker's soft sounds drown in the babble, but its
    # loud ones are found and the pauses stay silent (the white-noise-only
    # detector filled 92% of them).
    assert np.mean(decision[talk][truth[talk]]) >= 0.65
    assert np.mean(~decision[talk][~truth[talk]]) >= 0.85
    assert np.mean(decision[talk] == truth[talk]) >= 0.78


@pytest.mark.parametrize("rate_hz", [8000, 16000, 48000])
@pytest.mark.parametrize("kind", ["babble", "office"])
def test_rarely_starts_on_babble_or_office_noise_alone(kind: str, rate_hz: int) -> None:
    # Three draws of 10 s; frames judged speech after half a second of
    # learning (no hangover) are false starts. The white-noise-only detector
    # flagged 95% of babble and 5-6% of office noise (its key clicks).
    shares = []
    for seed in (1, 2, 3):
        noise = to_int16(background(kind, rate_hz * 10, rate_hz, -30.0, seed))
        decision = run(_native.VoiceActivityDetector(sample_rate_hz=rate_hz, hangover_ms=0), noise)
        shares.append(np.mean(decision[50:]))
    assert np.mean(shares) < 0.01
    assert max(shares) < 0.02


@pytest.mark.parametrize("kind", ["babble", "office"])
def test_turns_on_within_three_frames_of_an_onset_over_babble_and_office_noise(
    kind: str, speech_16k: npt.NDArray[np.int16]
) -> None:
    noisy, truth = speech_over(kind, speech_16k, 16000, snr_db=20.0)
    decision = run(_native.VoiceActivityDetector(sample_rate_hz=16000, hangover_ms=0), noisy)

    # Among key clicks an onset waits one frame for its second, so three
    # frames are allowed here where two are in white noise.
    onsets = [i for i in range(20, len(truth)) if truth[i] and not truth[i - 20 : i].any()]
    assert len(onsets) >= 3
    for onset in onsets:
        assert decision[onset : onset + 4].any(), f"no speech found at frame {onset}"


@pytest.mark.parametrize("rate_hz", [8000, 16000, 48000])
@pytest.mark.parametrize("noise_dbfs", [-70.0, -50.0, -30.0, -10.0])
def test_stays_off_on_noise_alone(rate_hz: int, noise_dbfs: float) -> None:
    noise = to_int16(white_noise(rate_hz * 5, noise_dbfs, seed=int(-noise_dbfs)))
    detector = _native.VoiceActivityDetector(sample_rate_hz=rate_hz)
    decision = run(detector, noise)
    # After half a second of learning, at most one false start (20 frames of hangover).
    assert decision[50:].sum() <= 21
    assert detector.speech_probability < 0.5


def test_takes_a_louder_background_as_noise_within_two_seconds() -> None:
    quiet = white_noise(16000 * 2, -60.0, seed=1)
    loud = white_noise(16000 * 5, -30.0, seed=2)
    decision = run(
        _native.VoiceActivityDetector(sample_rate_hz=16000), to_int16(np.concatenate([quiet, loud]))
    )
    assert decision[200:220].all()  # the jump itself looks like a talker
    assert not decision[200 + 250 :].any()


def test_takes_a_louder_babble_as_noise_within_three_seconds() -> None:
    quiet = white_noise(16000 * 2, -60.0, seed=1)
    loud = babble(16000 * 6, level_dbfs=-30.0, seed=2)
    decision = run(
        _native.VoiceActivityDetector(sample_rate_hz=16000), to_int16(np.concatenate([quiet, loud]))
    )
    assert decision[200:220].all()  # the jump itself looks like a talker
    assert not decision[200 + 250 :].any()


def test_digital_silence_and_very_quiet_tones_are_not_speech() -> None:
    detector = _native.VoiceActivityDetector(sample_rate_hz=16000)
    silence = np.zeros(16000, dtype=np.int16)
    assert not run(detector, silence).any()
    # A tone at -66 dBov after the silence is under the -60 dBov floor.
    tone = 16 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
    assert not run(detector, to_int16(tone)).any()
    assert detector.speech_probability == 0.0


def test_float32_gives_the_same_decisions(speech_16k: npt.NDArray[np.int16]) -> None:
    noisy, _ = noisy_speech(speech_16k[: 16000 * 3], 16000, -40.0)
    as_int = run(_native.VoiceActivityDetector(sample_rate_hz=16000), noisy)
    as_float = run(
        _native.VoiceActivityDetector(sample_rate_hz=16000), noisy.astype(np.float32) / 32768
    )
    assert as_int.any() and np.array_equal(as_int, as_float)


def test_reset_forgets_the_talker(speech_16k: npt.NDArray[np.int16]) -> None:
    noisy, _ = noisy_speech(speech_16k[: 16000 * 3], 16000, -50.0)
    detector = _native.VoiceActivityDetector(sample_rate_hz=16000, hangover_ms=300)
    assert run(detector, noisy).any()
    assert 0.0 <= detector.speech_probability <= 1.0
    detector.reset()
    assert not detector.active and detector.speech_probability == 0.0
    assert detector.hangover_ms == 300 and detector.sample_rate_hz == 16000
    assert detector.frame_samples == 160


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample_rate_hz": 7999}, "sample_rate_hz"),
        ({"sample_rate_hz": 16050}, "sample_rate_hz"),
        ({"sample_rate_hz": 96000}, "sample_rate_hz"),
        ({"sample_rate_hz": 16000, "hangover_ms": -10}, "hangover_ms"),
        ({"sample_rate_hz": 16000, "hangover_ms": 10001}, "hangover_ms"),
    ],
)
def test_bad_configuration_raises_value_error(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _native.VoiceActivityDetector(**options)


def test_bad_frames_are_rejected() -> None:
    detector = _native.VoiceActivityDetector(sample_rate_hz=16000)
    with pytest.raises(TypeError):
        _native.VoiceActivityDetector(16000)  # type: ignore[misc]
    with pytest.raises(ValueError, match="160 samples"):
        detector.process(np.zeros(159, dtype=np.int16))
    with pytest.raises(ValueError, match="160 samples"):
        detector.process(np.zeros(0, dtype=np.int16))
    with pytest.raises(ValueError, match="160 samples"):
        detector.process(np.zeros((160, 2), dtype=np.int16))
    with pytest.raises(TypeError, match="int16 or float32"):
        detector.process(np.zeros(160, dtype=np.float64))
    with pytest.raises(TypeError):
        detector.process(b"\x00" * 320)
    nan_frame = np.full(160, np.nan, dtype=np.float32)
    assert detector.process(nan_frame) is False
