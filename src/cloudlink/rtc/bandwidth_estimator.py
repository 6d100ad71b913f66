"""The receiver's estimate of the bandwidth available to the peer's
streams, sent back in REMB (draft-alvestrand-rmcat-remb-03) to set the
sender's encoder bitrate.

A simplified form of Google congestion control (draft-ietf-rmcat-gcc-02):

- delay: each packet's one-way delay offset, arrival time minus the
  abs-send-time it carries; the mean offset of the last 200 ms above the
  smallest offset of the last 2 s is the queuing delay. More than 40 ms of
  it is overuse: the estimate drops to 85% of the rate arriving (gcc 5.5).
- loss (gcc section 6): over 10% lost cuts the estimate by half the loss
  fraction; under 2% lets it grow 8% per second.
- no growth beyond 1.5 times the arriving rate (gcc 5.5), so a sender
  that sends less than it may does not push the estimate up without
  limit; nor does the estimate shrink toward it, as an encoder that
  undershoots its target would otherwise spiral down.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from cloudlink.errors import ConfigError
from cloudlink.rtc.header_extensions import abs_send_time_delta_ms

__all__ = ["BandwidthEstimator"]

_RATE_WINDOW_MS: Final = 1000.0
_RECENT_DELAY_MS: Final = 200.0
_BASE_DELAY_WINDOW_MS: Final = 2000.0
_OVERUSE_QUEUING_MS: Final = 40.0
_OVERUSE_BACKOFF: Final = 0.85
_HIGH_LOSS: Final = 0.10
_LOW_LOSS: Final = 0.02
_INCREASE_PER_S: Final = 1.08
_MAX_OVER_INCOMING: Final = 1.5


# TODO(#5): gcc's trendline filter and adaptive threshold are missing: a fixed 40 ms queuing
# threshold reacts late on short queues and can starve against TCP on long ones.
class BandwidthEstimator:
    """Receive-side estimate in bit/s; feed every packet to
    :meth:`on_packet`, call :meth:`update` at each RTCP interval."""

    def __init__(
        self,
        *,
        start_bitrate_bps: int = 1_000_000,
        min_bitrate_bps: int = 50_000,
        max_bitrate_bps: int = 2_500_000,
    ) -> None:
        if not 0 < min_bitrate_bps <= start_bitrate_bps <= max_bitrate_bps:
            raise ConfigError(
                "need 0 < min_bitrate_bps <= start_bitrate_bps <= max_bitrate_bps, got "
                f"{min_bitrate_bps}, {start_bitrate_bps}, {max_bitrate_bps}"
            )
        self.min_bitrate_bps = min_bitrate_bps
        self.max_bitrate_bps = max_bitrate_bps
        self.estimate_bps = float(start_bitrate_bps)
        self.queuing_delay_ms = 0.0
        self.incoming_bps = 0.0
        self.overuse_count = 0
        self._sizes: deque[tuple[float, int]] = deque()
        self._offsets: deque[tuple[float, float]] = deque()
        self._last_send_ms: float | None = None
        self._send_clock_ms = 0.0
        self._last_update_ms: float | None = None

    def on_packet(self, *, arrival_ms: float, size_bytes: int, send_time_ms: float | None) -> None:
        """One arrived packet; ``send_time_ms`` from its abs-send-time."""
        self._sizes.append((arrival_ms, size_bytes))
        if send_time_ms is None:
            return
        # Unwrap the 64 s abs-send-time into a running send clock.
        if self._last_send_ms is not None:
            self._send_clock_ms += abs_send_time_delta_ms(send_time_ms, self._last_send_ms)
        self._last_send_ms = send_time_ms
        self._offsets.append((arrival_ms, arrival_ms - self._send_clock_ms))

    def update(self, now_ms: float, *, fraction_lost: float = 0.0) -> int:
        """The estimate now, in bit/s, given the fraction of the peer's
        packets lost since the last update (0..1)."""
        # Step 1: the arriving rate and the queuing delay.
        while self._sizes and self._sizes[0][0] < now_ms - _RATE_WINDOW_MS:
            self._sizes.popleft()
        while self._offsets and self._offsets[0][0] < now_ms - _BASE_DELAY_WINDOW_MS:
            self._offsets.popleft()
        self.incoming_bps = sum(size for _, size in self._sizes) * 8000.0 / _RATE_WINDOW_MS
        recent = [offset for t, offset in self._offsets if t >= now_ms - _RECENT_DELAY_MS]
        if recent:
            base = min(offset for _, offset in self._offsets)
            self.queuing_delay_ms = sum(recent) / len(recent) - base
        elapsed_s = 0.0 if self._last_update_ms is None else (now_ms - self._last_update_ms) / 1e3
        self._last_update_ms = now_ms

        # Step 2: back off on overuse or heavy loss, else grow slowly.
        if self.queuing_delay_ms > _OVERUSE_QUEUING_MS:
            self.overuse_count += 1
            self.estimate_bps = min(self.estimate_bps, _OVERUSE_BACKOFF * self.incoming_bps)
        elif fraction_lost > _HIGH_LOSS:
            self.estimate_bps *= 1.0 - 0.5 * fraction_lost
        elif (
            fraction_lost < _LOW_LOSS and self.estimate_bps < _MAX_OVER_INCOMING * self.incoming_bps
        ):
            self.estimate_bps *= _INCREASE_PER_S**elapsed_s
        self.estimate_bps = min(max(self.estimate_bps, self.min_bitrate_bps), self.max_bitrate_bps)
        return round(self.estimate_bps)
