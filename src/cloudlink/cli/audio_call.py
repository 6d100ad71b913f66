"""``cloudlink audio call``: an offline call through the engine.

Two or three of the committed speakers take turns; each speaker's audio goes
through its own send pipeline, a simulated lossy and jittery network and a
receive pipeline (jitter buffer, FEC/RED recovery, concealment), all in
virtual time; the listener's mixer sums the streams, and the command prints
per-stream quality figures with an E-model (ITU-T G.107) MOS estimate and
writes what the listener heard to a WAV file.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, Final

import numpy as np

from cloudlink.errors import ConfigError
from cloudlink.media import quality
from cloudlink.media.frame import AudioFrame
from cloudlink.media.mixer import Mixer
from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.simulated_link import SimulatedLink
from cloudlink.media.sink import WavSink
from cloudlink.media.synthetic import SPEAKERS, speech_source

__all__ = ["register", "run"]

_DESCRIPTION: Final = (
    "An offline call: the committed speakers take turns, each through the engine (Opus, FEC, "
    "RED, jitter buffer, concealment) over its own simulated lossy, jittery network; the "
    "listener mixes the streams. Prints per-stream quality figures with an E-model "
    "(ITU-T G.107) MOS estimate and writes what the listener heard to a WAV file."
)
# The committed speech is 16 kHz: the call runs in wideband.
_RATE_HZ: Final = 16000
# Playout after the last turn, so its end is heard too.
_TAIL_S: Final = 0.5
# Longest call the command runs, and the mean loss run of its bursty loss
# (in packets: a Gilbert-Elliott path as cloudlink.media.network_sim models).
_MAX_DURATION_S: Final = 600.0
_BURST_PACKETS: Final = 3.0
# The listener's audio unless --out says otherwise (out/ is git-ignored).
_DEFAULT_OUT: Final = Path("out") / "audio-call.wav"


def register(subparsers: Any) -> None:
    """Adds the ``audio call`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "call",
        help="an offline call over a simulated lossy network, with its quality figures",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--duration", type=float, default=12.0, metavar="S", help="length of the call in s"
    )
    parser.add_argument(
        "--speakers", type=int, choices=(2, 3), default=3, help="how many people talk"
    )
    parser.add_argument(
        "--loss",
        type=float,
        default=5.0,
        metavar="PCT",
        help=f"loss rate in %%, in bursts of {_BURST_PACKETS:g} packets on average",
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=30.0, metavar="MS", help="95th percentile of jitter"
    )
    parser.add_argument(
        "--fec", action=argparse.BooleanOptionalAction, default=True, help="Opus in-band FEC"
    )
    parser.add_argument(
        "--red", action=argparse.BooleanOptionalAction, default=True, help="RFC 2198 redundancy"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the network model")
    parser.add_argument(
        "--out",
        default=str(_DEFAULT_OUT),
        metavar="FILE",
        help="where the listener's audio goes",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Runs the call; returns the exit code."""
    _check(args)
    if args.out == str(_DEFAULT_OUT):
        _DEFAULT_OUT.parent.mkdir(parents=True, exist_ok=True)
    names = SPEAKERS[: args.speakers]
    links = {
        name: SimulatedLink.create(
            _turn(name, index, len(names), args.duration),
            sample_rate_hz=_RATE_HZ,
            conditions=NetworkConditions(
                loss_pct=args.loss,
                burst_len=_BURST_PACKETS if args.loss > 0 else 1.0,
                jitter_ms=args.jitter_ms,
                seed=args.seed * 1000 + index,
            ),
            fec=args.fec,
            red=args.red,
            seed=args.seed * 1000 + index,
        )
        for index, name in enumerate(names)
    }

    # Every 10 ms of virtual time: each stream plays a frame, the mixer sums them.
    mixer = Mixer(sample_rate_hz=_RATE_HZ)
    ticks = round((args.duration + _TAIL_S) * 100)
    with WavSink(args.out, sample_rate_hz=_RATE_HZ) as sink:
        for _ in range(ticks):
            sink.write(mixer.mix({name: link.tick() for name, link in links.items()}))

    rows = [_figures(name, link) for name, link in links.items()]
    if args.json:
        print(json.dumps({"streams": rows, "out": args.out}, sort_keys=True))
    else:
        _print_table(rows, args)
    return 0


def _check(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.duration) and 0.0 < args.duration <= _MAX_DURATION_S):
        raise ConfigError(
            f"--duration must be within (0, {_MAX_DURATION_S:g}] s, got {args.duration}"
        )
    if not 0.0 <= args.loss < 100.0:
        raise ConfigError(f"--loss must be a percentage within [0, 100), got {args.loss}")
    if not (math.isfinite(args.jitter_ms) and args.jitter_ms >= 0.0):
        raise ConfigError(f"--jitter-ms must be a number >= 0, got {args.jitter_ms}")


def _turn(name: str, index: int, speakers: int, duration_s: float) -> list[AudioFrame]:
    """The speaker's frames: silent but for their turn, the index-th of
    ``speakers`` equal slices of the call, spoken from the start of their file."""
    total = round(duration_s * 100)
    start, end = total * index // speakers, total * (index + 1) // speakers
    speech = list(speech_source(name, sample_rate_hz=_RATE_HZ))[: end - start]
    silence = AudioFrame.silence(sample_rate_hz=_RATE_HZ)
    return [silence] * start + speech + [silence] * (total - start - len(speech))


def _figures(name: str, link: SimulatedLink) -> dict[str, Any]:
    stats = link.receive.stats()
    report = link.report
    received = stats.get("totalSamplesReceived", 0)
    concealed_pct = 100.0 * stats.get("concealedSamples", 0) / received if received else 0.0
    lost = report.packets_lost
    recovered = int(stats.get("fecPacketsRecovered", 0))
    # BurstR over 20 ms packet slots: a slot counts as lost when either of
    # its 10 ms frames was concealed.
    frames = report.concealed_frames
    slots = [any(frames[i : i + 2]) for i in range(0, len(frames), 2)]
    burst = quality.burst_ratio(slots)
    delay_ms = report.mean_mouth_to_ear_ms
    return {
        "stream": name,
        "packetsSent": report.packets_sent,
        "lossPct": report.loss_pct,
        "packetsLost": lost,
        "recoveredPct": 100.0 * recovered / lost if lost else 0.0,
        "concealedPct": concealed_pct,
        "meanPlayoutDelayMs": float(stats["meanPlayoutDelayMs"]),
        "meanTargetDelayMs": float(stats["meanTargetDelayMs"]),
        "mouthToEarDelayMs": delay_ms,
        "burstRatio": burst,
        "rFactor": quality.r_factor(delay_ms, min(concealed_pct, 100.0), burst_ratio=burst),
        "mos": quality.mos(delay_ms, min(concealed_pct, 100.0), burst_ratio=burst),
    }


def _print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"offline call: {len(rows)} speakers, {args.duration:g} s, {args.loss:g}% bursty loss, "
        f"{args.jitter_ms:g} ms jitter (p95), FEC {'on' if args.fec else 'off'}, "
        f"RED {'on' if args.red else 'off'}"
    )
    header = (
        f"{'stream':<8} {'loss %':>7} {'recovered %':>12} {'concealed %':>12} "
        f"{'playout ms':>11} {'target ms':>10} {'m2e ms':>8} {'MOS':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['stream']:<8} {row['lossPct']:>7.1f} {row['recoveredPct']:>12.1f} "
            f"{row['concealedPct']:>12.1f} {row['meanPlayoutDelayMs']:>11.1f} "
            f"{row['meanTargetDelayMs']:>10.1f} {row['mouthToEarDelayMs']:>8.1f} "
            f"{row['mos']:>5.2f}"
        )
    mean_mos = float(np.mean([row["mos"] for row in rows]))
    print(f"mean MOS (E-model, ITU-T G.107, narrowband scale): {mean_mos:.2f}; heard -> {args.out}")
