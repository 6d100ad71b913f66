"""The echo canceller on synthetic echo paths: convergence, delay, path change, double talk."""

from __future__ import annotations

import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink import _native

SPEECH_DIR = Path(__file__).resolve().parents[2] / "src" / "cloudlink" / "media" / "speech"
NOISE_DBFS = -70.0


def read_speech(name: str) -> tuple[npt.NDArray[np.int16], int]:
    with wave.open(str(SPEECH_DIR / f"{name}.wav"), "rb") as file:
        raw = file.readframes(file.getnframes())
        return np.frombuffer(raw, dtype="<i2").astype(np.int16), file.getframerate()


def speech(name: str, rate_hz: int) -> npt.NDArray[np.float64]:
    """A committed speech file at `rate_hz`, full scale 1.0 (band-limited upsampling)."""
    samples, source_hz = read_speech(name)
    x = samples.astype(np.float64) / 32768.0
    if rate_hz == source_hz:
        return x
    factor = rate_hz // source_hz
    spectrum = np.fft.rfft(x)
    padded = np.zeros(len(x) * factor // 2 + 1, dtype=complex)
    padded[: len(spectrum)] = spectrum
    return np.fft.irfft(padded, len(x) * factor) * factor


def echo_path(rate_hz: int, delay_ms: float, seed: int) -> npt.NDArray[np.float64]:
    """Pure delay, then a direct tap and a noise tail decaying 60 dB in 200 ms.

    The tail holds about as much energy as the direct tap at every rate.
    """
    rng = np.random.default_rng(seed)
    tail = int(0.15 * rate_hz)
    t = np.arange(tail) / rate_hz
    scale = 0.1 * np.sqrt(16000 / rate_hz)
    response = rng.standard_normal(tail) * scale * 10.0 ** (-3.0 * t / 0.2)
    response[0] = 1.0
    return np.concatenate([np.zeros(int(delay_ms * rate_hz / 1000)), response * 0.3])


def to_int16(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def run(
    canceller: _native.EchoCanceller,
    far: npt.NDArray[np.float64],
    mic: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Feeds whole frames of far and mic as int16; returns the output as float."""
    frame = canceller.frame_samples
    far16, mic16 = to_int16(far), to_int16(mic)
    frames = len(mic) // frame
    out = np.zeros(frames * frame, dtype=np.int16)
    for i in range(frames):
        s = slice(i * frame, (i + 1) * frame)
        canceller.process_render(far16[s])
        out[s] = canceller.process_capture(mic16[s])
    return out.astype(np.float64) / 32768.0


def erle_db(mic: npt.NDArray[np.float64], out: npt.NDArray[np.float64], start: int) -> float:
    return float(10 * np.log10(np.sum(mic[start : len(out)] ** 2) / np.sum(out[start:] ** 2)))


def noise(n: int, seed: int = 3) -> npt.NDArray[np.float64]:
    return np.random.default_rng(seed).standard_normal(n) * 10 ** (NOISE_DBFS / 20)


@pytest.mark.parametrize("rate_hz", [16000, 32000, 48000])
def test_converges_on_a_known_echo_path(rate_hz: int) -> None:
    far = speech("alice", rate_hz)[: 8 * rate_hz] * 0.5
    mic = np.convolve(far, echo_path(rate_hz, 60.0, seed=1))[: len(far)] + noise(len(far))
    canceller = _native.EchoCanceller(sample_rate_hz=rate_hz)
    out = run(canceller, far, mic)
    # After 5 s, the echo is at least 25 dB down.
    assert erle_db(mic, out, 5 * rate_hz) > 25.0
    assert canceller.erle_db > 20.0
    assert canceller.delay_ms is not None
    assert abs(canceller.delay_ms - 60.0) < 3.0


def test_reconverges_after_the_echo_path_changes() -> None:
    rate_hz = 16000
    far = speech("alice", rate_hz) * 0.5
    half = 5 * rate_hz
    first = np.convolve(far, echo_path(rate_hz, 40.0, seed=1))[: len(far)]
    second = np.convolve(far, echo_path(rate_hz, 90.0, seed=2))[: len(far)]
    mic = np.concatenate([first[:half], second[half:]]) + noise(len(far))
    canceller = _native.EchoCanceller(sample_rate_hz=rate_hz)
    out = run(canceller, far, mic)
    # Right after the change the echo leaks; 4 s later it is cancelled again.
    assert erle_db(mic[: half + rate_hz // 2], out[: half + rate_hz // 2], half) < 20.0
    assert erle_db(mic, out, half + 4 * rate_hz) > 25.0
    assert canceller.delay_ms is not None
    assert abs(canceller.delay_ms - 90.0) < 3.0


def test_keeps_the_near_talker_in_double_talk() -> None:
    rate_hz = 16000
    far = np.concatenate([speech("alice", rate_hz), speech("carol", rate_hz)]) * 0.5
    echo = np.convolve(far, echo_path(rate_hz, 50.0, seed=4))[: len(far)]
    near_voice = speech("bob", rate_hz)[: 6 * rate_hz]
    near_voice *= np.sqrt(np.mean(echo**2) / np.mean(near_voice**2))
    near = np.zeros_like(far)
    start = 10 * rate_hz
    near[start : start + len(near_voice)] = near_voice
    mic = echo + near + noise(len(far))
    canceller = _native.EchoCanceller(sample_rate_hz=rate_hz)
    out = run(canceller, far, mic)
    segment = slice(start, start + len(near_voice))
    # The near talker's share of the output: its projection on the near signal
    # (the output is 4 ms late).
    lag = 4 * rate_hz // 1000
    kept = out[start + lag : start + lag + len(near_voice)]
    gain = np.dot(kept, near_voice) / np.dot(near_voice, near_voice)
    assert 20 * np.log10(gain) > -3.0
    # Echo alone before the near talker starts is still cancelled.
    assert erle_db(mic[: start - rate_hz], out[: start - rate_hz], 6 * rate_hz) > 25.0
    assert not np.any(np.isnan(out[segment]))


def test_double_talk_is_reported() -> None:
    rate_hz = 16000
    far = speech("alice", rate_hz)[: 9 * rate_hz] * 0.5
    echo = np.convolve(far, echo_path(rate_hz, 30.0, seed=5))[: len(far)]
    near = speech("bob", rate_hz)[: 3 * rate_hz]
    canceller = _native.EchoCanceller(sample_rate_hz=rate_hz)
    run(canceller, far[: 6 * rate_hz], echo[: 6 * rate_hz] + noise(6 * rate_hz))
    flags = []
    frame = canceller.frame_samples
    mic = echo[6 * rate_hz :] + near * 0.5
    for i in range(len(mic) // frame):
        s = slice(i * frame, (i + 1) * frame)
        canceller.process_render(to_int16(far[6 * rate_hz :][s]))
        canceller.process_capture(to_int16(mic[s]))
        flags.append(canceller.double_talk)
    assert sum(flags) > len(flags) // 4
    assert canceller.stats()["double_talk"] in (True, False)


def test_float32_in_float32_out_and_stats() -> None:
    canceller = _native.EchoCanceller(sample_rate_hz=32000, tail_ms=300)
    assert canceller.frame_samples == 320
    assert canceller.sample_rate_hz == 32000
    assert canceller.tail_ms == 300
    frame = np.zeros(320, dtype=np.float32)
    canceller.process_render(frame)
    out = canceller.process_capture(frame)
    assert out.dtype == np.float32 and out.shape == (320,)
    stats = canceller.stats()
    for key in ("erle_db", "linear_erle_db", "delay_ms", "double_talk", "render_underruns"):
        assert key in stats
    assert stats["delay_ms"] is None
    # Capture without render counts an underrun and still works.
    canceller.process_capture(frame)
    assert canceller.stats()["render_underruns"] == 1
    canceller.reset()
    assert canceller.stats()["render_underruns"] == 0


def test_render_queue_overflow_drops_the_oldest() -> None:
    canceller = _native.EchoCanceller()
    frame = np.zeros(160, dtype=np.int16)
    for _ in range(25):
        canceller.process_render(frame)
    assert canceller.stats()["render_frames_dropped"] == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample_rate_hz": 44100}, "sample_rate_hz"),
        ({"sample_rate_hz": 8000}, "sample_rate_hz"),
        ({"tail_ms": 0}, "tail_ms"),
        ({"tail_ms": 5000}, "tail_ms"),
    ],
)
def test_bad_configuration_is_rejected(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _native.EchoCanceller(**options)


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (np.zeros(159, dtype=np.int16), ValueError),
        (np.zeros(320, dtype=np.int16), ValueError),
        (np.zeros((160, 2), dtype=np.int16), ValueError),
        (np.zeros(0, dtype=np.int16), ValueError),
        (np.zeros(160, dtype=np.float64), TypeError),
        (np.zeros(160, dtype=np.int32), TypeError),
    ],
)
def test_bad_frames_are_rejected(frame: npt.NDArray[np.generic], error: type) -> None:
    canceller = _native.EchoCanceller()
    with pytest.raises(error):
        canceller.process_render(frame)
    with pytest.raises(error):
        canceller.process_capture(frame)
    # The canceller still works afterwards.
    out = canceller.process_capture(np.zeros(160, dtype=np.int16))
    assert out.shape == (160,)


def test_non_arrays_are_rejected() -> None:
    canceller = _native.EchoCanceller()
    with pytest.raises(TypeError):
        canceller.process_capture(b"\x00" * 320)  # type: ignore[arg-type]


def test_threads_give_the_same_output_as_one_thread() -> None:
    """The GIL is released while processing: two cancellers in two threads
    must each produce what they produce alone."""
    rate_hz = 16000
    far = speech("alice", rate_hz)[: 2 * rate_hz] * 0.5
    mic = np.convolve(far, echo_path(rate_hz, 20.0, seed=6))[: len(far)] + noise(len(far))
    alone = run(_native.EchoCanceller(), far, mic)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run, _native.EchoCanceller(), far, mic) for _ in range(2)]
        outputs = [f.result() for f in futures]
    for out in outputs:
        np.testing.assert_array_equal(out, alone)


def test_strided_frames_are_accepted() -> None:
    canceller = _native.EchoCanceller()
    wide = np.arange(320, dtype=np.int16)
    canceller.process_render(wide[::2])
    out = canceller.process_capture(wide[::2])
    assert out.shape == (160,) and out.dtype == np.int16
