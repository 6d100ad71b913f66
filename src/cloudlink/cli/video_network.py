"""``cloudlink video network``: a video through the engine over a bad network.

IN (a file PyAV reads, or the stamped test pattern ``pattern:WxH[@FPS]``)
is encoded with VP8, sent through the simulated network (cloudlink.media.
video_link: loss, jitter or a trace forward, NACK and PLI back over the
same kind of path, retransmissions and keyframes answering them), assembled
and decoded in virtual time, and written as the receiver showed it: each
frame at the moment it was shown, so a freeze lasts as long in OUT as on the
screen.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Final

import numpy as np

from cloudlink.cli._network_options import add_network_options, network_conditions
from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.av_video_source import open_video_source
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_frame import VideoFrame, psnr_db
from cloudlink.media.video_link import ShownFrame, SimulatedVideoLink
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_sink import AvVideoFileSink
from cloudlink.media.video_source import PatternSource

__all__ = ["register", "run"]

_DESCRIPTION: Final = (
    "Encodes IN with VP8, sends it through a simulated network with NACK retransmissions and "
    "PLI keyframe requests going back over it, decodes it and writes what the receiver showed, "
    "each frame at the time it was shown. IN is a file PyAV reads or pattern:WIDTHxHEIGHT[@FPS] "
    "(the stamped test pattern, whose frames carry their number and capture time). A trace "
    "file has one line per packet in send order: its one-way delay in ms, or '-' when lost."
)
# Default length of a test pattern, in seconds.
_PATTERN_DURATION_S: Final = 5.0
# Highest bitrate accepted, kbit/s (4K VP8 needs no more).
_MAX_BITRATE_KBPS: Final = 50_000


def register(subparsers: Any) -> None:
    """Adds the ``network`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "network",
        help="send a video through the engine over a simulated lossy, jittery network",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("input", metavar="IN", help="video file, or pattern:1280x720@30")
    parser.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="what is shown (.webm, .mkv, .mp4)"
    )
    add_network_options(parser)
    parser.add_argument(
        "--bitrate", type=float, default=1500.0, metavar="KBPS", help="VP8 target bitrate"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds of IN to send (a pattern: {_PATTERN_DURATION_S:g} unless given)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the network model")
    parser.add_argument(
        "--json", action="store_true", help="print the receive statistics as one JSON object"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the exit code."""
    # Step 1: the options, the input and the output, each checked before work starts.
    conditions = network_conditions(args)
    bitrate_bps = _bitrate_bps(args.bitrate)
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0.0):
        raise ConfigError(f"--duration must be a positive number of seconds, got {args.duration}")
    source = open_video_source(args.input, duration_s=args.duration)
    pattern = isinstance(source, PatternSource)
    width_px, height_px = source.width_px, source.height_px
    if width_px < 16 or height_px < 16:
        raise MediaFileError(f"{args.input}: the video is {width_px}x{height_px}, too small")
    sink = AvVideoFileSink(
        args.output,
        width_px=width_px,
        height_px=height_px,
        frame_rate_fps=source.frame_rate_fps,
        bitrate_bps=max(bitrate_bps, 1_000_000),
    )

    # Step 2: the link, run to its end; each shown frame is scored and written.
    link = SimulatedVideoLink.create(
        source,
        width_px=width_px,
        height_px=height_px,
        frame_rate_fps=source.frame_rate_fps,
        bitrate_bps=bitrate_bps,
        conditions=conditions,
        keep_pictures=True,
    )
    scores = _Scores(pattern=pattern)
    with sink:
        for shown in link.run():
            scores.add(shown)
            sink.write(VideoFrame(shown.frame.pixels, shown.shown_ms))
    if link.report.frames_captured == 0:
        raise MediaFileError(f"{args.input}: holds no video frames")

    # Step 3: the figures.
    stats = _figures(link, scores)
    if args.json:
        print(json.dumps(stats, sort_keys=True))
    else:
        latency = stats["latencyMs"]
        print(
            f"sent {stats['framesSent']} frames in {stats['packetsSent']} packets, lost "
            f"{stats['networkLossPct']:.1f}%, showed {stats['framesShown']} "
            f"({stats['freezeCount']} freezes, longest {stats['longestFreezeMs']:.0f} ms), "
            f"PSNR {stats['meanPsnrDb']:.1f} dB, latency p50 {latency['p50']:.0f} / p95 "
            f"{latency['p95']:.0f} / max {latency['max']:.0f} ms -> {args.output}"
        )
    return 0


class _Scores:
    """PSNR and glass-to-glass latency of the shown frames."""

    def __init__(self, *, pattern: bool) -> None:
        self.pattern = pattern
        self.psnr_db: list[float] = []
        self.latency_ms: list[float] = []
        self.shown_ms: list[float] = []
        self.unreadable = 0
        self.out_of_order = 0
        self._last_number = -1

    def add(self, shown: ShownFrame) -> None:
        pixels = shown.frame.pixels
        if shown.sent.pixels is not None and shown.sent.pixels.shape == pixels.shape:
            self.psnr_db.append(psnr_db(shown.sent.pixels, pixels))
        self.shown_ms.append(shown.shown_ms)
        if not self.pattern:
            self.latency_ms.append(shown.latency_ms)
            return
        # The pattern says itself which frame it is and when it was taken.
        stamp = read_test_pattern(pixels)
        if stamp is None:
            self.unreadable += 1
            return
        if stamp.frame_number <= self._last_number:
            self.out_of_order += 1
        self._last_number = stamp.frame_number
        self.latency_ms.append(shown.shown_ms - stamp.send_time_ms)


def _figures(link: SimulatedVideoLink, scores: _Scores) -> dict[str, Any]:
    receive = link.receive
    assert isinstance(receive, VideoReceivePipeline)
    stats: dict[str, Any] = dict(receive.stats())
    report = link.report
    latency = np.asarray(scores.latency_ms) if scores.latency_ms else np.zeros(1)
    gaps = np.diff(scores.shown_ms) if len(scores.shown_ms) > 1 else np.zeros(1)
    stats.update(
        framesSent=report.frames_captured,
        framesShown=len(scores.shown_ms),
        keyframesSent=report.keyframes_sent,
        packetsSent=report.packets_sent,
        networkLossPct=report.loss_pct,
        retransmissionsSent=report.retransmissions_sent,
        feedbackPacketsSent=report.feedback_sent,
        meanRttMs=float(np.mean(report.rtt_ms)) if report.rtt_ms else None,
        meanPsnrDb=float(np.mean(scores.psnr_db)) if scores.psnr_db else 0.0,
        longestFreezeMs=float(gaps.max()),
        latencyMs={
            "p50": float(np.percentile(latency, 50)),
            "p95": float(np.percentile(latency, 95)),
            "max": float(latency.max()),
        },
        latencyFrom="test_pattern" if scores.pattern else "timeline",
    )
    if scores.pattern:
        stats.update(stampsUnreadable=scores.unreadable, framesOutOfOrder=scores.out_of_order)
    return stats


def _bitrate_bps(kbps: float) -> int:
    if not (math.isfinite(kbps) and 10.0 <= kbps <= _MAX_BITRATE_KBPS):
        raise ConfigError(f"--bitrate must be within 10..{_MAX_BITRATE_KBPS} kbit/s, got {kbps}")
    return round(kbps * 1000)
