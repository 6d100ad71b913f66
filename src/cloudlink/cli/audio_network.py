"""``cloudlink audio network``: a file through the engine over a bad network.

IN is encoded, sent through the simulated network (cloudlink.media.
network_sim), received through the jitter buffer and decoder in virtual time,
and written as a listener would hear it, aligned sample for sample with IN:
each played frame is placed by the jitter buffer's playout RTP timestamp,
less the codec's lookahead, which removes the fixed delay of the pipeline
(concealed and stretched audio lands where the audio it replaces belonged).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.cli._network_options import add_network_options, network_conditions
from cloudlink.errors import MediaFileError
from cloudlink.media.file_source import WavSource
from cloudlink.media.frame import FRAME_MS, OPUS_RATES_HZ, AudioFrame
from cloudlink.media.rtp_payload import OPUS_CLOCK_HZ
from cloudlink.media.simulated_link import SimulatedLink, place_by_timestamp
from cloudlink.media.wav import write_wav

__all__ = ["register", "run"]

_DESCRIPTION: Final = (
    "Encodes IN with Opus, sends it through a simulated network, receives it through the "
    "jitter buffer and decoder, and writes what a listener hears, aligned sample for sample "
    "with IN (frames placed by the jitter buffer's playout timestamp, less the codec's "
    "lookahead). A trace file has one line per packet in send order: its one-way delay in ms, "
    "or '-' when it is lost."
)
# Rate the link runs at when IN's rate is not one Opus codes.
_LINK_RATE_HZ: Final = 48000
# After the last packet has arrived, the listener waits at most this long
# for the rest of the audio (the jitter buffer's largest delay plus margin).
_DRAIN_MS: Final = 2500.0


def register(subparsers: Any) -> None:
    """Adds the ``network`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "network",
        help="send a file through the engine over a simulated lossy, jittery network",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("input", metavar="IN.wav", help="16-bit PCM WAV file to send")
    parser.add_argument("-o", "--output", metavar="OUT.wav", required=True, help="what is heard")
    add_network_options(parser)
    parser.add_argument(
        "--fec", action=argparse.BooleanOptionalAction, default=True, help="Opus in-band FEC"
    )
    parser.add_argument(
        "--red",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="RFC 2198 redundancy (each packet also carries the previous one)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the network model")
    parser.add_argument(
        "--json", action="store_true", help="print the receive statistics as one JSON object"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the exit code."""
    # Step 1: the input, and the rate the link runs at.
    probe = WavSource(args.input)
    input_rate_hz = probe.input_rate_hz
    length = probe.duration_samples
    if length == 0:
        raise MediaFileError(f"{args.input}: holds no audio")
    link_rate_hz = input_rate_hz if input_rate_hz in OPUS_RATES_HZ else _LINK_RATE_HZ
    source = WavSource(args.input, sample_rate_hz=link_rate_hz)
    conditions = network_conditions(args)

    # Step 2: the link, ticked until the listener has heard all of IN.
    link = SimulatedLink.create(
        source,
        sample_rate_hz=link_rate_hz,
        channels=source.channels,
        conditions=conditions,
        fec=args.fec,
        red=args.red,
        seed=args.seed,
    )
    link_length = math.ceil(length * link_rate_hz / input_rate_hz)
    frames = _listen(link, link_length)

    # Step 3: the heard audio, aligned with IN, at IN's rate.
    heard = place_by_timestamp(
        frames,
        initial_timestamp=link.send.initial_timestamp,
        lookahead_samples=link.send.lookahead_samples,
        length_samples=link_length,
    )
    if link_rate_hz != input_rate_hz:
        heard = _native.resample(heard, input_rate_hz=link_rate_hz, output_rate_hz=input_rate_hz)
    write_wav(args.output, _fit(heard, length), input_rate_hz)

    # Step 4: the figures.
    stats = _figures(link)
    if args.json:
        print(json.dumps(stats, sort_keys=True))
    else:
        print(
            f"sent {stats['packetsSent']} packets, lost {stats['networkLossPct']:.1f}% "
            f"({stats['packetsLost']} not received), recovered {stats['fecPacketsRecovered']}, "
            f"concealed {stats['concealedPct']:.1f}%, mean playout delay "
            f"{stats['meanPlayoutDelayMs']:.1f} ms -> {args.output}"
        )
    return 0


def _listen(link: SimulatedLink, link_length: int) -> list[tuple[AudioFrame, int | None]]:
    """Ticks until the playout has passed the end of IN, or nothing more can
    arrive."""
    frames: list[tuple[AudioFrame, int | None]] = []
    lookahead = link.send.lookahead_samples
    while True:
        frame = link.tick()
        timestamp = link.receive.playout_timestamp
        frames.append((frame, timestamp))
        if timestamp is not None:
            offset = (timestamp - link.send.initial_timestamp) % (1 << 32)
            if offset * link.send.sample_rate_hz // OPUS_CLOCK_HZ - lookahead >= link_length:
                return frames
        if link.source_done and link.now_ms > link.last_arrival_ms + _DRAIN_MS:
            return frames


def _fit(samples: npt.NDArray[np.int16], length: int) -> npt.NDArray[np.int16]:
    if samples.shape[0] >= length:
        return samples[:length]
    pad = [(0, length - samples.shape[0])] + [(0, 0)] * (samples.ndim - 1)
    return np.pad(samples, pad)


def _figures(link: SimulatedLink) -> dict[str, Any]:
    stats: dict[str, Any] = dict(link.receive.stats())
    received = stats.get("totalSamplesReceived", 0)
    report = link.report
    stats.update(
        packetsSent=report.packets_sent,
        networkLossPct=report.loss_pct,
        concealedPct=100.0 * stats.get("concealedSamples", 0) / received if received else 0.0,
        meanNetworkDelayMs=float(np.mean(report.network_delay_ms))
        if report.network_delay_ms
        else 0.0,
        meanMouthToEarDelayMs=report.mean_mouth_to_ear_ms,
        frameMs=FRAME_MS,
        alignment="playout_timestamp",
    )
    return stats
