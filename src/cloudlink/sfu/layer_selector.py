"""Choosing a subscriber's temporal layer from its bandwidth estimate.

The estimate (REMB, draft-alvestrand-rmcat-remb, or a transport-wide
congestion controller) is compared with the measured cumulative bitrate of
each layer. Hysteresis keeps a subscriber near the edge from flapping: a
layer is dropped as soon as it no longer fits, but taken again only when it
fits with headroom and the last change is old enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["LayerSelector"]

# A higher layer is taken when the estimate exceeds its bitrate by 25%:
# estimates of delay-based controllers wander by about 10-20% in steady
# state, so a smaller margin would switch back and forth.
DEFAULT_UP_HEADROOM: Final = 1.25
# And no sooner than this after the previous change, so that the rates
# measured after a change have settled.
DEFAULT_UP_HOLD_MS: Final = 1000.0


class LayerSelector:
    """The highest temporal layer a subscriber should receive."""

    def __init__(
        self,
        *,
        max_layer: int = 2,
        up_headroom: float = DEFAULT_UP_HEADROOM,
        up_hold_ms: float = DEFAULT_UP_HOLD_MS,
    ) -> None:
        if up_headroom < 1.0:
            raise ValueError(f"up_headroom must be >= 1, got {up_headroom}")
        self.max_layer = max_layer
        self.up_headroom = up_headroom
        self.up_hold_ms = up_hold_ms
        self.target_layer = max_layer
        self._changed_ms: float | None = None
        self.switches = 0

    def update(self, budget_bps: float, rates_bps: Sequence[float], now_ms: float) -> int:
        """Returns the target layer for ``budget_bps`` given the cumulative
        layer rates (index t: layers 0..t); with no rates yet the target
        stays where it is."""
        if not rates_bps:
            return self.target_layer
        top = min(self.max_layer, len(rates_bps) - 1)
        current = min(self.target_layer, top)
        target = current
        # Step 1: down at once to the highest layer that fits (the base layer at least).
        if rates_bps[current] > budget_bps:
            target = 0
            for layer in range(current - 1, -1, -1):
                if rates_bps[layer] <= budget_bps:
                    target = layer
                    break
        # Step 2: up only with headroom and once the last change has settled.
        elif current < top and (
            self._changed_ms is None or now_ms - self._changed_ms >= self.up_hold_ms
        ):
            for layer in range(top, current, -1):
                if rates_bps[layer] * self.up_headroom <= budget_bps:
                    target = layer
                    break
        if target != current:
            self.target_layer = target
            self._changed_ms = now_ms
            self.switches += 1
        return target
