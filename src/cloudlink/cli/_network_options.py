"""The simulated-network options shared by ``audio network`` and ``video network``."""

from __future__ import annotations

import argparse
import math

from cloudlink.errors import ConfigError
from cloudlink.media.network_sim import NetworkConditions, read_trace

__all__ = ["add_network_options", "network_conditions"]


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """Adds --loss, --burst, --jitter-ms and --trace (--seed is the caller's)."""
    parser.add_argument("--loss", type=float, default=0.0, metavar="PCT", help="loss rate in %%")
    parser.add_argument(
        "--burst", type=float, default=1.0, metavar="LEN", help="mean loss run in packets"
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, metavar="MS", help="95th percentile of jitter"
    )
    parser.add_argument(
        "--trace", metavar="FILE", help="per-packet delays in ms, '-' for lost (replaces the above)"
    )


def network_conditions(args: argparse.Namespace) -> NetworkConditions:
    """The path the options describe; ConfigError names a bad value."""
    # Step 1: NaN and infinity are refused with the out-of-range values.
    if not (math.isfinite(args.loss) and 0.0 <= args.loss < 100.0):
        raise ConfigError(f"--loss must be a percentage within [0, 100), got {args.loss}")
    if not (math.isfinite(args.burst) and args.burst >= 1.0):
        raise ConfigError(f"--burst must be at least 1 packet, got {args.burst}")
    if not (math.isfinite(args.jitter_ms) and args.jitter_ms >= 0.0):
        raise ConfigError(f"--jitter-ms must be a number >= 0, got {args.jitter_ms}")

    # Step 2: a trace replaces the random model.
    trace = read_trace(args.trace) if args.trace else None
    return NetworkConditions(
        loss_pct=args.loss,
        burst_len=args.burst,
        jitter_ms=args.jitter_ms,
        seed=args.seed,
        trace=trace,
    )
