"""Rate limiting of keyframe requests sent to a publisher.

Every subscriber that loses a frame sends a PLI or FIR (RFC 4585 section
6.3.1, RFC 5104 section 4.3.1); forwarding each one would make the
publisher send keyframes back to back, each several times the size of a
delta frame. One request per interval answers them all: the keyframe it
brings goes to every subscriber.
"""

from __future__ import annotations

from typing import Final

__all__ = ["KeyframeRequestLimiter"]

# At most one keyframe request per stream this often: a 720p keyframe takes
# about 100-200 ms to send at 1.5 Mbit/s, so a keyframe still on its way
# answers the requests of the next few hundred milliseconds.
DEFAULT_INTERVAL_MS: Final = 500.0


class KeyframeRequestLimiter:
    """Says whether a keyframe request may go upstream now."""

    def __init__(self, *, interval_ms: float = DEFAULT_INTERVAL_MS) -> None:
        if interval_ms < 0:
            raise ValueError(f"interval_ms must be >= 0, got {interval_ms}")
        self.interval_ms = interval_ms
        self._last_sent_ms: float | None = None
        self.requests_sent = 0
        self.requests_suppressed = 0

    def allow(self, now_ms: float) -> bool:
        """True (and counted as sent) when no request went out within the
        interval; False (counted as suppressed) otherwise."""
        last = self._last_sent_ms
        if last is not None and now_ms - last < self.interval_ms:
            self.requests_suppressed += 1
            return False
        self._last_sent_ms = now_ms
        self.requests_sent += 1
        return True
