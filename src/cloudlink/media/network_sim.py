"""A simulated network path: per-packet loss and one-way delay.

Loss is random (Bernoulli) or bursty with the two-state Gilbert-Elliott
model (E. N. Gilbert, "Capacity of a burst-noise channel", 1960): a good state
that delivers every packet and a bad state that loses every packet, with
transition probabilities chosen so that the long-run loss rate is
``loss_pct`` and bad runs last ``burst_len`` packets on average.

Delay is a base delay plus jitter: the extra delay is the absolute value of
a Gaussian AR(1) process (consecutive packets see similar queues), scaled so
that its 95th percentile equals ``jitter_ms``. Packets may therefore arrive
out of order, as on a real path.

A trace file replaces both models: one line per packet in send order, its
one-way delay in ms or ``-`` when it is lost; ``#`` starts a comment. A trace
shorter than the stream is replayed from its start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cloudlink.errors import ConfigError, MediaFileError

__all__ = ["NetworkConditions", "NetworkSimulator", "read_trace"]

# Correlation between the queueing delays of consecutive packets (AR(1)).
_JITTER_CORRELATION = 0.7
# The 95th percentile of a half-normal variable is 1.96 standard deviations.
_HALF_NORMAL_P95 = 1.959964


@dataclass(frozen=True)
class NetworkConditions:
    """What the simulated path does to packets."""

    loss_pct: float = 0.0
    burst_len: float = 1.0
    jitter_ms: float = 0.0
    base_delay_ms: float = 20.0
    seed: int = 0
    trace: tuple[float | None, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss_pct < 100.0:
            raise ConfigError(f"loss_pct must be within [0, 100), got {self.loss_pct}")
        if self.burst_len < 1.0:
            raise ConfigError(f"burst_len must be at least 1 packet, got {self.burst_len}")
        if self.jitter_ms < 0.0 or not math.isfinite(self.jitter_ms):
            raise ConfigError(f"jitter_ms must be a non-negative number, got {self.jitter_ms}")
        if self.base_delay_ms < 0.0:
            raise ConfigError(f"base_delay_ms must not be negative, got {self.base_delay_ms}")
        if self.trace is not None and not self.trace:
            raise ConfigError("a trace must hold at least one packet")


class NetworkSimulator:
    """Decides, packet by packet in send order, whether and when it arrives."""

    def __init__(self, conditions: NetworkConditions) -> None:
        self.conditions = conditions
        self._rng = np.random.default_rng(conditions.seed)
        self._index = 0
        self._in_bad_state = False
        self._queue_state = 0.0
        self.packets_sent = 0
        self.packets_lost = 0

    def delay_ms(self) -> float | None:
        """Returns the next packet's one-way delay in ms, or None if it is lost."""
        self.packets_sent += 1
        c = self.conditions
        if c.trace is not None:
            delay = c.trace[self._index % len(c.trace)]
            self._index += 1
        else:
            delay = None if self._lose() else c.base_delay_ms + self._jitter_ms()
        if delay is None:
            self.packets_lost += 1
        return delay

    def _lose(self) -> bool:
        # Step 1: random loss needs no state.
        p = self.conditions.loss_pct / 100.0
        if p == 0.0:
            return False
        burst = self.conditions.burst_len
        if burst == 1.0:
            return bool(self._rng.random() < p)
        # Step 2: Gilbert-Elliott. Leaving the bad state has probability
        # 1/burst; entering it p/(burst*(1-p)), so the stationary loss is p.
        if self._in_bad_state:
            self._in_bad_state = self._rng.random() >= 1.0 / burst
        else:
            self._in_bad_state = self._rng.random() < p / (burst * (1.0 - p))
        return self._in_bad_state

    def _jitter_ms(self) -> float:
        if self.conditions.jitter_ms == 0.0:
            return 0.0
        rho = _JITTER_CORRELATION
        self._queue_state = (
            rho * self._queue_state + math.sqrt(1.0 - rho * rho) * self._rng.standard_normal()
        )
        sigma = self.conditions.jitter_ms / _HALF_NORMAL_P95
        return abs(self._queue_state) * sigma


def read_trace(path: str | Path) -> tuple[float | None, ...]:
    """Parses a trace file: one delay in ms or ``-`` (lost) per line."""
    delays: list[float | None] = []
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MediaFileError(f"{path}: cannot read the trace ({error})") from error
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text == "-":
            delays.append(None)
            continue
        try:
            delay = float(text)
        except ValueError:
            raise ConfigError(
                f"{path}:{number}: expected a delay in ms or '-', got {text!r}"
            ) from None
        if not math.isfinite(delay) or delay < 0.0:
            raise ConfigError(f"{path}:{number}: a delay must be a finite number >= 0")
        delays.append(delay)
    if not delays:
        raise ConfigError(f"{path}: the trace holds no packets")
    return tuple(delays)
