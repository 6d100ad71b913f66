"""NTP timestamps for RTCP (RFC 3550 section 4) and the round-trip time
they give (RFC 3550 section 6.4.1).

An NTP timestamp is 64-bit fixed point seconds since 1900-01-01; a report
block echoes the middle 32 bits of the last SR's (LSR) and the delay since
it arrived (DLSR), both in 1/65536 s.
"""

from __future__ import annotations

import time
from typing import Final

__all__ = ["ntp_now", "ntp_timestamp", "round_trip_time_ms"]

# Seconds from the NTP epoch (1900) to the Unix epoch (1970).
_NTP_UNIX_OFFSET_S: Final = 2_208_988_800
_COMPACT_UNITS_PER_S: Final = 65536.0


def ntp_timestamp(unix_time_s: float) -> int:
    """The 64-bit NTP timestamp of a Unix time."""
    return int((unix_time_s + _NTP_UNIX_OFFSET_S) * (1 << 32)) & ((1 << 64) - 1)


def ntp_now() -> int:
    """The NTP timestamp of the wall clock now."""
    return ntp_timestamp(time.time())


def round_trip_time_ms(now_ntp: int, last_sr: int, delay_since_last_sr: int) -> float | None:
    """RFC 3550 section 6.4.1: A - LSR - DLSR in ms, from a report block
    arriving at ``now_ntp``; None when the block echoes no SR (LSR 0)."""
    if last_sr == 0:
        return None
    compact_now = (now_ntp >> 16) & 0xFFFFFFFF
    rtt = (compact_now - last_sr - delay_since_last_sr) % (1 << 32)
    if rtt >= 1 << 31:  # clock steps can make it negative: treat as 0
        return 0.0
    return rtt * 1000.0 / _COMPACT_UNITS_PER_S
