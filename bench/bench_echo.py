"""Echo cancellation: ours beside WebRTC AEC3 and SpeexDSP MDF on one simulated room.

Workload: 16 kHz, far end = committed espeak-ng speech played into a
pyroomacoustics room (5 x 4 x 3 m, RT60 0.35 s) and delayed 40 ms; near end =
another voice at the echo's level talking over the far end for 10 s; white
noise at -70 dBFS. Figures (see ../shared/ANCHORS.md): ERLE over far-end
single talk after the first 5 s, how much the near talker is cut during
double talk, and CPU per 10 ms frame, each implementation run in this process.

    .venv/bin/python bench/bench_echo.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cloudlink._native import EchoCanceller

SPEECH_DIR = Path(__file__).resolve().parents[1] / "src" / "cloudlink" / "media" / "speech"
RATE_HZ = 16000
FRAME = RATE_HZ // 100
DELAY_MS = 40.0
NOISE_DBFS = -70.0
FAR_DBFS = -20.0  # far-end speech level while active
ECHO_DBFS = -30.0  # echo level at the microphone while active; the near talker matches it
WARMUP_S = 5.0
ACTIVE_DBFS = -55.0  # a 10 ms frame above this level counts as speech
NEAR_SILENT_DBFS = -100.0  # a near-end frame below this level is silence

Processor = Callable[[npt.NDArray[np.int16], npt.NDArray[np.int16]], npt.NDArray[np.int16]]


def read_speech(name: str) -> npt.NDArray[np.float64]:
    with wave.open(str(SPEECH_DIR / f"{name}.wav"), "rb") as file:
        assert file.getframerate() == RATE_HZ
        raw = file.readframes(file.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def frame_levels_dbfs(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def set_active_level(x: npt.NDArray[np.float64], dbfs: float) -> npt.NDArray[np.float64]:
    """Scales x so that its frames above ACTIVE_DBFS (relative) average `dbfs`."""
    levels = frame_levels_dbfs(x)
    active = levels > levels.max() - 40.0
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    power = float(np.mean(frames[active] ** 2))
    return x * 10.0 ** (dbfs / 20.0) / np.sqrt(power)


def room_response() -> npt.NDArray[np.float64]:
    """Loudspeaker to microphone in a 5 x 4 x 3 m room with RT60 0.35 s."""
    import pyroomacoustics as pra

    size = [5.0, 4.0, 3.0]
    absorption, max_order = pra.inverse_sabine(0.35, size)
    room = pra.ShoeBox(size, fs=RATE_HZ, materials=pra.Material(absorption), max_order=max_order)
    room.add_source([2.0, 1.8, 1.0])
    room.add_microphone([2.4, 2.1, 1.1])
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    delay = round(DELAY_MS * RATE_HZ / 1000)
    return np.concatenate([np.zeros(delay), rir])


@dataclass
class Scenario:
    far: npt.NDArray[np.int16]
    mic: npt.NDArray[np.int16]
    near: npt.NDArray[np.float64]
    echo: npt.NDArray[np.float64]
    true_delay_ms: float


def make_scenario(quick: bool) -> Scenario:
    far = np.concatenate([read_speech("alice"), read_speech("carol"), read_speech("alice")])
    near_voice = read_speech("bob")
    if quick:
        far = far[: 20 * RATE_HZ]
        near_voice = near_voice[: 5 * RATE_HZ]
    far = set_active_level(far, FAR_DBFS)
    rir = room_response()
    echo = set_active_level(np.convolve(far, rir)[: len(far)], ECHO_DBFS)
    near = np.zeros_like(far)
    start = int((10.0 if quick else 14.0) * RATE_HZ)
    near_voice = set_active_level(near_voice, ECHO_DBFS)
    near[start : start + len(near_voice)] = near_voice[: len(far) - start]
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(len(far)) * 10.0 ** (NOISE_DBFS / 20.0)
    mic = echo + near + noise
    n = len(far) // FRAME * FRAME
    to_int16 = lambda x: np.clip(np.round(x[:n] * 32768.0), -32768, 32767).astype(np.int16)  # noqa: E731
    true_delay_ms = 1000.0 * int(np.argmax(np.abs(rir))) / RATE_HZ
    return Scenario(to_int16(far), to_int16(mic), near[:n], echo[:n], true_delay_ms)


@dataclass
class Result:
    name: str
    erle_db: float
    near_energy_db: float
    near_gain_db: float
    us_per_frame: float
    floor_dbfs: float  # median output level in far-end single talk
    delay_ms: float | None = None


def measure(name: str, scenario: Scenario, process: Processor) -> tuple[Result, npt.NDArray]:
    """Runs `process` frame by frame and scores its output."""
    frames = len(scenario.mic) // FRAME
    out = np.zeros(frames * FRAME, dtype=np.int16)
    start = time.perf_counter()
    for i in range(frames):
        s = slice(i * FRAME, (i + 1) * FRAME)
        out[s] = process(scenario.mic[s], scenario.far[s])
    us_per_frame = (time.perf_counter() - start) / frames * 1e6
    return score(name, scenario, out.astype(np.float64) / 32768.0, us_per_frame), out


def best_lag(out: npt.NDArray[np.float64], near: npt.NDArray[np.float64]) -> int:
    """Output delay against the near end (0..10 ms), from their cross-correlation."""
    lags = range(0, RATE_HZ // 100)
    scores = [float(np.dot(out[lag:], near[: len(near) - lag])) for lag in lags]
    return int(np.argmax(scores))


def score(name: str, sc: Scenario, out: npt.NDArray[np.float64], us: float) -> Result:
    mic = sc.mic.astype(np.float64) / 32768.0
    lag = best_lag(out, sc.near)
    aligned = np.concatenate([out[lag:], np.zeros(lag)])
    echo_on = frame_levels_dbfs(sc.echo) > ACTIVE_DBFS
    # Far-end single talk means the near talker is silent: espeak-ng's pauses
    # are digital silence, so any near-end sound in a frame (or its
    # neighbours) makes it a near-end frame.
    near_sound = frame_levels_dbfs(sc.near) > NEAR_SILENT_DBFS
    near_on = near_sound | np.roll(near_sound, 1) | np.roll(near_sound, -1)
    after = np.arange(len(echo_on)) * FRAME >= WARMUP_S * RATE_HZ
    single = echo_on & ~near_on & after
    double = echo_on & (frame_levels_dbfs(sc.near) > ACTIVE_DBFS) & after

    def frames(x: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]) -> npt.NDArray:
        return x[: len(mask) * FRAME].reshape(-1, FRAME)[mask].ravel()

    erle = 10 * np.log10(np.sum(frames(mic, single) ** 2) / np.sum(frames(aligned, single) ** 2))
    near_dt = frames(sc.near, double)
    out_dt = frames(aligned, double)
    energy_db = 10 * np.log10(np.sum(out_dt**2) / np.sum(near_dt**2))
    # The part of the output that is the near end: its projection on the
    # near signal, immune to residual echo.
    gain = float(np.dot(out_dt, near_dt) / np.dot(near_dt, near_dt))
    gain_db = 20 * np.log10(max(gain, 1e-6))
    floor = float(np.median(frame_levels_dbfs(aligned)[single]))
    return Result(name, float(erle), float(energy_db), float(gain_db), us, floor)


def ours() -> tuple[Processor, EchoCanceller]:
    canceller = EchoCanceller(sample_rate_hz=RATE_HZ, tail_ms=250)

    def process(mic: npt.NDArray[np.int16], far: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        canceller.process_render(far)
        return canceller.process_capture(mic)

    return process, canceller


def webrtc_aec3() -> Processor | None:
    try:
        import pywebrtc_audio
    except ImportError:
        return None
    aec = pywebrtc_audio.EchoCanceller(sample_rate=RATE_HZ, num_channels=1)
    return lambda mic, far: np.asarray(aec.process(mic, far), dtype=np.int16)


def speex_mdf() -> Processor | None:
    try:
        import speexdsp
    except ImportError:
        return None
    # 256 ms filter, as in ANCHORS.md.
    aec = speexdsp.EchoCanceller.create(FRAME, RATE_HZ * 256 // 1000, RATE_HZ)
    return lambda mic, far: np.frombuffer(aec.process(mic.tobytes(), far.tobytes()), np.int16)


def livekit_aec3() -> Processor | None:
    try:
        from livekit import rtc
    except ImportError:
        return None
    apm = rtc.AudioProcessingModule(echo_cancellation=True)

    def process(mic: npt.NDArray[np.int16], far: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        far_frame = rtc.AudioFrame(far.tobytes(), RATE_HZ, 1, FRAME)
        apm.process_reverse_stream(far_frame)
        near_frame = rtc.AudioFrame(mic.tobytes(), RATE_HZ, 1, FRAME)
        apm.process_stream(near_frame)
        return np.frombuffer(bytes(near_frame.data), dtype=np.int16).copy()

    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s instead of 31 s")
    parser.add_argument("--save", type=Path, help="write our output WAV here")
    args = parser.parse_args()
    scenario = make_scenario(args.quick)
    print(__doc__.splitlines()[0])
    print(
        f"{len(scenario.mic) / RATE_HZ:.1f} s at {RATE_HZ} Hz, echo delay "
        f"{scenario.true_delay_ms:.1f} ms (40 ms + room), near at echo level, "
        f"noise {NOISE_DBFS:.0f} dBFS"
    )

    process, canceller = ours()
    result, out = measure("cloudlink", scenario, process)
    result.delay_ms = canceller.delay_ms
    results = [result]
    if args.save is not None:
        from cloudlink.media.wav import write_wav

        write_wav(args.save, out, RATE_HZ)
    anchors: list[tuple[str, Callable[[], Processor | None]]] = [
        ("webrtc-aec3 (pywebrtc-audio)", webrtc_aec3),
        ("webrtc-aec3 (livekit)", livekit_aec3),
        ("speexdsp-mdf 256 ms", speex_mdf),
    ]
    for name, make in anchors:
        anchor = make()
        if anchor is None:
            print(f"{name}: not installed, skipped")
            continue
        results.append(measure(name, scenario, anchor)[0])

    print()
    print(
        f"{'implementation':30} {'ERLE dB':>8} {'near dB (energy)':>17} "
        f"{'near dB (proj.)':>16} {'us/10ms':>8} {'floor dBFS':>11}"
    )
    for r in results:
        print(
            f"{r.name:30} {r.erle_db:8.1f} {r.near_energy_db:17.1f} "
            f"{r.near_gain_db:16.1f} {r.us_per_frame:8.1f} {r.floor_dbfs:11.1f}"
        )
    print(
        f"floor: median output level in far-end single talk (the noise is {NOISE_DBFS:.0f} dBFS); "
        "near dB: energy ratio, and the projection on the near talker (immune to residual echo)"
    )
    ours_result = results[0]
    aec3 = next((r for r in results if r.name.startswith("webrtc-aec3 (py")), None)
    near_cut = -min(ours_result.near_energy_db, ours_result.near_gain_db)
    print()
    print(
        f"cloudlink delay estimate: {ours_result.delay_ms} ms "
        f"(true {scenario.true_delay_ms:.1f} ms)"
    )
    figures: dict[str, object] = {
        "erle_db": round(ours_result.erle_db, 2),
        "near_attenuation_db": round(near_cut, 2),
        "us_per_frame": round(ours_result.us_per_frame, 1),
        "delay_ms": ours_result.delay_ms,
        "true_delay_ms": round(scenario.true_delay_ms, 2),
    }
    print(
        f"near-end cut in double talk: {near_cut:.1f} dB (target <= 3 dB) "
        f"{'met' if near_cut <= 3.0 else 'MISSED'}"
    )
    if aec3 is not None:
        erle_ratio = ours_result.erle_db - aec3.erle_db
        cpu_ratio = ours_result.us_per_frame / aec3.us_per_frame
        print(
            f"ERLE vs AEC3: {erle_ratio:+.1f} dB (target >= 0) "
            f"{'met' if erle_ratio >= 0 else 'MISSED'}"
        )
        print(
            f"CPU vs AEC3: {cpu_ratio:.2f}x (target <= 1) {'met' if cpu_ratio <= 1.0 else 'MISSED'}"
        )
        figures.update(
            aec3_erle_db=round(aec3.erle_db, 2),
            aec3_near_attenuation_db=round(-min(aec3.near_energy_db, aec3.near_gain_db), 2),
            aec3_us_per_frame=round(aec3.us_per_frame, 1),
            erle_vs_aec3_db=round(erle_ratio, 2),
            cpu_vs_aec3=round(cpu_ratio, 3),
        )
    keys = {
        "webrtc-aec3 (pywebrtc-audio)": "aec3_pywebrtc",
        "webrtc-aec3 (livekit)": "aec3_livekit",
        "speexdsp-mdf 256 ms": "speexdsp",
    }
    for r in results[1:]:
        figures[f"{keys[r.name]}_erle_db"] = round(r.erle_db, 2)
        figures[f"{keys[r.name]}_us_per_frame"] = round(r.us_per_frame, 1)
    figures["floor_dbfs"] = round(ours_result.floor_dbfs, 2)
    print("RESULT " + json.dumps(figures))


if __name__ == "__main__":
    main()
