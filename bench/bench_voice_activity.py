"""Voice activity: ours beside WebRTC's VAD (pip webrtcvad-wheels) on noisy speech.

Workload: the committed espeak speech (alice, bob, carol; 16 kHz) after 1 s of
background, in white noise at -50, -40 and -30 dBFS, judged per 10 ms frame
against the clean speech's own level (speech: above -45 dBFS and no more than
5 dB under the noise); then 20 s of noise alone at -40 dBFS. Ours runs
without hangover (hangover_ms=0); WebRTC's VAD keeps its short built-in
overhang, which cannot be switched off. Our thresholds were tuned on this
same speech, so treat the margin as optimistic.

    .venv/bin/python bench/bench_voice_activity.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cloudlink import _native

SPEECH_DIR = Path(__file__).resolve().parents[1] / "src" / "cloudlink" / "media" / "speech"
RATE_HZ = 16000
FRAME = RATE_HZ // 100
LEAD_IN_FRAMES = 100
# Targets: at least WebRTC's agreement (its best mode) at every noise level,
# false starts on noise alone under 1% of frames.
FALSE_START_TARGET = 0.01


def read_speech(name: str) -> npt.NDArray[np.float64]:
    with wave.open(str(SPEECH_DIR / f"{name}.wav"), "rb") as file:
        assert file.getframerate() == RATE_HZ
        data = file.readframes(file.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64)


def noisy(clean: npt.NDArray[np.float64], noise_dbfs: float, seed: int) -> npt.NDArray[np.int16]:
    noise = (
        np.random.default_rng(seed).standard_normal(len(clean)) * 32768 * 10 ** (noise_dbfs / 20)
    )
    return np.clip(np.round(clean + noise), -32768, 32767).astype(np.int16)


def truth_of(clean: npt.NDArray[np.float64], noise_dbfs: float) -> npt.NDArray[np.bool_]:
    frames = clean.reshape(-1, FRAME)
    level_dbfs = 10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-13)
    return np.asarray(level_dbfs > max(-45.0, noise_dbfs - 5))


Detector = Callable[[npt.NDArray[np.int16]], bool]


def ours() -> Detector:
    detector = _native.VoiceActivityDetector(sample_rate_hz=RATE_HZ, hangover_ms=0)
    return detector.process


def webrtc(mode: int) -> Callable[[], Detector]:
    import webrtcvad

    def make() -> Detector:
        vad = webrtcvad.Vad(mode)
        return lambda frame: bool(vad.is_speech(frame.tobytes(), RATE_HZ))

    return make


def judge(make: Callable[[], Detector], pcm: npt.NDArray[np.int16]) -> tuple[np.ndarray, float]:
    detect = make()
    frames = pcm.reshape(-1, FRAME)
    start = time.perf_counter()
    decisions = np.array([detect(frame) for frame in frames])
    us_per_frame = (time.perf_counter() - start) / len(frames) * 1e6
    return decisions, us_per_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one talker, 5 s of noise alone")
    args = parser.parse_args()
    talkers = ["alice"] if args.quick else ["alice", "bob", "carol"]
    noise_alone_s = 5 if args.quick else 20

    detectors: dict[str, Callable[[], Detector]] = {"ours": ours}
    for mode in range(4):
        detectors[f"webrtc mode {mode}"] = webrtc(mode)

    results: dict[str, dict[str, float]] = {name: {} for name in detectors}
    costs: dict[str, list[float]] = {name: [] for name in detectors}
    for noise_dbfs in (-50.0, -40.0, -30.0):
        agree: dict[str, list[float]] = {name: [] for name in detectors}
        for seed, talker in enumerate(talkers):
            speech = read_speech(talker)
            clean = np.concatenate([np.zeros(LEAD_IN_FRAMES * FRAME), speech])
            clean = clean[: len(clean) // FRAME * FRAME]
            truth = truth_of(clean, noise_dbfs)[LEAD_IN_FRAMES:]
            pcm = noisy(clean, noise_dbfs, seed)
            for name, make in detectors.items():
                decisions, us = judge(make, pcm)
                agree[name].append(float(np.mean(decisions[LEAD_IN_FRAMES:] == truth)))
                costs[name].append(us)
        for name in detectors:
            results[name][f"agreement_{int(-noise_dbfs)}dbfs"] = float(np.mean(agree[name]))

    for name, make in detectors.items():
        pcm = noisy(np.zeros(noise_alone_s * RATE_HZ), -40.0, seed=99)
        decisions, _ = judge(make, pcm)
        results[name]["false_start_rate"] = float(np.mean(decisions[50:]))
        results[name]["us_per_10ms"] = float(np.median(costs[name]))

    best_webrtc = {
        key: max(results[f"webrtc mode {m}"][key] for m in range(4))
        for key in results["ours"]
        if key.startswith("agreement")
    }
    print(
        f"{'detector':<16}{'agree -50':>11}{'agree -40':>11}{'agree -30':>11}"
        f"{'false starts':>14}{'µs / 10 ms':>12}"
    )
    for name, row in results.items():
        print(
            f"{name:<16}{row['agreement_50dbfs']:>11.3f}{row['agreement_40dbfs']:>11.3f}"
            f"{row['agreement_30dbfs']:>11.3f}{row['false_start_rate']:>14.3f}"
            f"{row['us_per_10ms']:>12.1f}"
        )
    print()
    for key, anchor in best_webrtc.items():
        ratio = results["ours"][key] / anchor
        verdict = "met" if ratio >= 1.0 else "MISSED"
        print(f"{key}: ours / best webrtc = {ratio:.3f}  {verdict}")
    false_starts = results["ours"]["false_start_rate"]
    verdict = "met" if false_starts < FALSE_START_TARGET else "MISSED"
    print(f"false starts on noise alone: {false_starts:.3%} (target < 1%)  {verdict}")
    cost_ratio = results["ours"]["us_per_10ms"] / results["webrtc mode 3"]["us_per_10ms"]
    print(f"cost ours / webrtc: {cost_ratio:.2f}x")
    print("RESULT " + json.dumps({"results": results, "cost_ratio": cost_ratio}))


if __name__ == "__main__":
    main()
