"""Counters of what a room's data path received, forwarded and dropped."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["RoomCounters"]


@dataclass
class RoomCounters:
    """Datagrams in, by fate. A bad datagram is counted in one of the
    ``*_malformed`` / ``unknown_*`` fields and dropped."""

    rtp_received: int = 0
    rtp_paused: int = 0
    rtcp_received: int = 0
    rtp_malformed: int = 0
    rtcp_malformed: int = 0
    unknown_participant: int = 0
    unknown_ssrc: int = 0
    internal_errors: int = 0
    nacks_received: int = 0
    nack_cache_misses: int = 0
    nacks_sent_upstream: int = 0
    keyframe_requests_received: int = 0
    keyframe_requests_forwarded: int = 0
    keyframe_requests_suppressed: int = 0
    rembs_received: int = 0
    report_blocks_received: int = 0
    sender_reports_forwarded: int = 0
    receiver_reports_sent: int = 0
    rtcp_ignored: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
