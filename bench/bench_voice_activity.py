"""Voice activity: ours beside WebRTC's VAD (pip webrtcvad-wheels) in white, babble, office noise.

Workload: the committed espeak speech (alice, bob, carol; 16 kHz) after 1 s of
background, judged per 10 ms frame against the foreground talker's clean
speech (a frame is speech when its clean level is above -45 dBFS and no more
than 5 dB under the background's RMS level). Backgrounds:

- white noise at -50, -40 and -30 dBFS;
- babble (cloudlink.media.background_noise: six voices made from the other
  two talkers, sped up or slowed down) at 20, 15, 10 and 5 dB under the
  talker's active level (the power of its frames above -45 dBFS);
- office noise (ventilation roar of pink and brown noise, 50 Hz hum, two
  keystrokes a second) at the same SNRs.

Each talker is heard over three draws of each background (seeds 10 r + t
for draw r of talker t in white noise, so that draw 0 is the noise these rows
always had; 1000 + 10 r + t in babble and office noise). Then 20 s of each
background alone, three draws each: white at -40 dBFS (seeds 99 + 10 r),
babble of all three talkers and office noise at -42, -37, -32 and -27 dBFS,
where a -22 dBFS talker would be at 20, 15, 10 and 5 dB SNR (seeds
2000 + 10 r + the row's index). Every frame judged speech there after the
first 500 ms is a false start. Ours runs without hangover (hangover_ms=0);
WebRTC's VAD keeps its short built-in overhang, which cannot be switched off.

Tuning and held out: the detector's Sohn thresholds were set on the white
rows. Its babble and office rules were tuned on alice and bob at 20 and
10 dB SNR over seeds 0-3, and on backgrounds alone from seeds 200-207,
300-307 and 500-539; seeds 0-22 in every condition (all three talkers, all
SNRs: the draws of an earlier version of this bench) were looked at along
the way, last to choose the level's 500 ms start-up. No babble or office
draw this bench plays (seeds 1000 and 2000 up) was run before the constants
were fixed, so those rows all measure what the tuning never saw; "set" says
whether the row's SNR was among those tuned on. "won" counts the
talker-draw cases in which ours agrees at least as well as WebRTC's best
mode on that same case.

    .venv/bin/python bench/bench_voice_activity.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.media.background_noise import babble, office_noise
from cloudlink.media.synthetic import speech_path
from cloudlink.media.wav import read_wav

RATE_HZ = 16000
FRAME = RATE_HZ // 100
LEAD_IN_FRAMES = 100
# False starts are counted after the first 500 ms of noise alone, in which
# every detector is still learning the background.
NOISE_LEARNING_FRAMES = 50
TALKERS = ("alice", "bob", "carol")
HELD_OUT_TALKER = "carol"
DRAWS = 3
# Seeds: white noise as the bench has always drawn it (talker index, and 99
# alone), babble and office noise from seeds no tuning run used.
WHITE_ALONE_SEED = 99
SPEECH_SEED_BASE = 1000
ALONE_SEED_BASE = 2000
# Targets: at least WebRTC's agreement (its best mode) in every condition,
# false starts on noise alone under 1% of frames.
FALSE_START_TARGET = 0.01
WEBRTC_MODES = range(4)


@dataclass(frozen=True)
class Condition:
    """A background, at an absolute level (white) or under the talker (SNR)."""

    kind: str  # "white", "babble" or "office"
    level: float  # dBFS for white and for noise alone, else dB SNR
    held_out: bool

    @property
    def label(self) -> str:
        unit = "dBFS" if self.kind == "white" else "dB SNR"
        return f"{self.kind} {self.level:g} {unit}"


SPEECH_CONDITIONS = (
    Condition("white", -50.0, held_out=False),
    Condition("white", -40.0, held_out=False),
    Condition("white", -30.0, held_out=False),
    *(
        Condition(kind, snr_db, held_out=snr_db in (15.0, 5.0))
        for kind in ("babble", "office")
        for snr_db in (20.0, 15.0, 10.0, 5.0)
    ),
)
NOISE_ALONE_CONDITIONS = (
    Condition("white", -40.0, held_out=False),
    *(
        Condition(kind, level_dbfs, held_out=True)
        for kind in ("babble", "office")
        for level_dbfs in (-42.0, -37.0, -32.0, -27.0)
    ),
)


def read_speech(name: str) -> npt.NDArray[np.float64]:
    samples, rate_hz = read_wav(speech_path(name))
    assert rate_hz == RATE_HZ
    return samples.astype(np.float64)


def frame_levels_dbfs(pcm: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    frames = pcm.reshape(-1, FRAME)
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-13))


def active_level_dbfs(speech: npt.NDArray[np.float64]) -> float:
    """The power of the frames above -45 dBFS, in dBFS."""
    frames = speech[: len(speech) // FRAME * FRAME].reshape(-1, FRAME)
    active = frames[frame_levels_dbfs(speech[: frames.size]) > -45.0]
    return float(10 * np.log10(np.mean(active**2) / 32768**2))


def background(
    kind: str, samples: int, level_dbfs: float, *, seed: int, exclude: str | None = None
) -> npt.NDArray[np.float64]:
    if kind == "white":
        rng = np.random.default_rng(seed)
        return rng.standard_normal(samples) * 32768 * 10 ** (level_dbfs / 20)
    if kind == "babble":
        return babble(samples, level_dbfs=level_dbfs, exclude=exclude, seed=seed)
    return office_noise(samples, level_dbfs=level_dbfs, seed=seed)


def to_int16(pcm: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(pcm), -32768, 32767).astype(np.int16)


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


def judge(
    make: Callable[[], Detector], pcm: npt.NDArray[np.int16]
) -> tuple[npt.NDArray[np.bool_], float]:
    detect = make()
    frames = pcm.reshape(-1, FRAME)
    start = time.perf_counter()
    decisions = np.array([detect(frame) for frame in frames])
    us_per_frame = (time.perf_counter() - start) / len(frames) * 1e6
    return decisions, us_per_frame


# Agreement per detector, then per case ("talker/draw").
Agreement = dict[str, dict[str, float]]


def speech_agreement(
    detectors: dict[str, Callable[[], Detector]],
    condition: Condition,
    talkers: tuple[str, ...],
    draws: int,
    costs: dict[str, list[float]],
) -> Agreement:
    """Agreement with the truth per detector and case in one condition."""
    agreement: Agreement = {name: {} for name in detectors}
    for index, talker in enumerate(talkers):
        speech = read_speech(talker)
        clean = np.concatenate([np.zeros(LEAD_IN_FRAMES * FRAME), speech])
        clean = clean[: len(clean) // FRAME * FRAME]
        noise_dbfs = condition.level
        if condition.kind != "white":
            noise_dbfs = active_level_dbfs(speech) - condition.level
        # The truth: the foreground talker's own frames, loud enough to matter.
        truth = frame_levels_dbfs(clean) > max(-45.0, noise_dbfs - 5)
        for draw in range(draws):
            seed = 10 * draw + index
            if condition.kind != "white":
                seed += SPEECH_SEED_BASE
            noise = background(condition.kind, len(clean), noise_dbfs, seed=seed, exclude=talker)
            pcm = to_int16(clean + noise)
            for name, make in detectors.items():
                decisions, us = judge(make, pcm)
                hits = decisions[LEAD_IN_FRAMES:] == truth[LEAD_IN_FRAMES:]
                agreement[name][f"{talker}/{draw}"] = float(np.mean(hits))
                costs[name].append(us)
    return agreement


def false_start_rates(
    detectors: dict[str, Callable[[], Detector]],
    condition: Condition,
    index: int,
    draws: int,
    duration_s: int,
) -> dict[str, list[float]]:
    """The share of frames judged speech in each draw of a background alone."""
    rates: dict[str, list[float]] = {name: [] for name in detectors}
    for draw in range(draws):
        seed = (
            WHITE_ALONE_SEED + 10 * draw
            if condition.kind == "white"
            else ALONE_SEED_BASE + 10 * draw + index
        )
        noise = background(condition.kind, duration_s * RATE_HZ, condition.level, seed=seed)
        pcm = to_int16(noise)
        for name, make in detectors.items():
            rates[name].append(float(np.mean(judge(make, pcm)[0][NOISE_LEARNING_FRAMES:])))
    return rates


def short(name: str) -> str:
    return name.replace("webrtc mode", "webrtc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one talker, one draw, 5 s of noise alone"
    )
    args = parser.parse_args()
    talkers = ("alice",) if args.quick else TALKERS
    draws = 1 if args.quick else DRAWS
    noise_alone_s = 5 if args.quick else 20

    detectors: dict[str, Callable[[], Detector]] = {"ours": ours}
    for mode in WEBRTC_MODES:
        detectors[f"webrtc mode {mode}"] = webrtc(mode)
    names = list(detectors)
    webrtc_names = [f"webrtc mode {mode}" for mode in WEBRTC_MODES]
    costs: dict[str, list[float]] = {name: [] for name in detectors}

    # Speech in each background, then each background alone.
    speech_results = {
        condition.label: speech_agreement(detectors, condition, talkers, draws, costs)
        for condition in SPEECH_CONDITIONS
    }
    alone_results = {
        condition.label: false_start_rates(detectors, condition, index, draws, noise_alone_s)
        for index, condition in enumerate(NOISE_ALONE_CONDITIONS)
    }

    # The speech table: mean agreement over the cases, the cases won, and
    # the held-out talker alone.
    held_out = HELD_OUT_TALKER if HELD_OUT_TALKER in talkers else None
    header = f"{'speech in':<18}{'set':<10}" + "".join(f"{short(n):>10}" for n in names)
    header += f"{'ours/best':>11}{'won':>7}"
    if held_out:
        header += f"{held_out + ': ours':>13}{'best':>7}{'ratio':>7}"
    print("agreement with the foreground talker's frames, per 10 ms frame")
    print(header)
    verdicts = []
    for condition in SPEECH_CONDITIONS:
        cases = speech_results[condition.label]
        mean = {name: float(np.mean(list(cases[name].values()))) for name in names}
        ratio = mean["ours"] / max(mean[name] for name in webrtc_names)
        won = sum(
            cases["ours"][case] >= max(cases[name][case] for name in webrtc_names)
            for case in cases["ours"]
        )
        row = f"{condition.label:<18}{'held out' if condition.held_out else 'tuned':<10}"
        row += "".join(f"{mean[name]:>10.3f}" for name in names)
        won_text = f"{won}/{len(cases['ours'])}"
        row += f"{ratio:>11.3f}{won_text:>7}"
        if held_out:
            mine = [case for case in cases["ours"] if case.startswith(held_out)]
            held = {name: float(np.mean([cases[name][case] for case in mine])) for name in names}
            held_best = max(held[name] for name in webrtc_names)
            row += f"{held['ours']:>13.3f}{held_best:>7.3f}{held['ours'] / held_best:>7.3f}"
        print(row)
        verdicts.append((condition.label, ratio >= 1.0))

    # The noise-alone table: mean share over the draws, and ours' worst draw.
    print()
    print("false starts: share of frames judged speech in noise alone, after 500 ms")
    header = f"{'noise alone':<18}{'ours':>10}{'worst':>8}"
    print(header + "".join(f"{short(n):>10}" for n in webrtc_names))
    worst = 0.0
    for condition in NOISE_ALONE_CONDITIONS:
        rates = alone_results[condition.label]
        worst = max(worst, *rates["ours"])
        row = f"{condition.kind + f' {condition.level:g} dBFS':<18}"
        row += f"{np.mean(rates['ours']):>10.4f}{max(rates['ours']):>8.4f}"
        print(row + "".join(f"{np.mean(rates[name]):>10.3f}" for name in webrtc_names))

    # Verdicts against the targets, and the cost.
    print()
    missed = [label for label, met in verdicts if not met]
    print(
        f"agreement >= best webrtc: {len(verdicts) - len(missed)} of {len(verdicts)} conditions"
        + (f"  MISSED: {', '.join(missed)}" if missed else "  met")
    )
    verdict = "met" if worst < FALSE_START_TARGET else "MISSED"
    print(f"false starts on noise alone, worst draw: {worst:.3%} (target < 1%)  {verdict}")
    us = {name: float(np.median(costs[name])) for name in names}
    cost_ratio = us["ours"] / us["webrtc mode 3"]
    print(
        f"µs / 10 ms frame: ours {us['ours']:.1f}, webrtc {us['webrtc mode 3']:.1f}; "
        f"ours / webrtc: {cost_ratio:.2f}x"
    )
    result = {
        "agreement": speech_results,
        "false_start_rate": alone_results,
        "us_per_10ms": us,
        "cost_ratio": cost_ratio,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
