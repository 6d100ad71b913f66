"""The receiving side of one RTP stream (one SSRC): RFC 3550 receive
statistics from the native engine, the report block that goes back in
RTCP, the audio level the sender stamps (RFC 6464), and the feedback this
side has sent. Statistics keep the W3C names of RTCInboundRtpStreamStats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Literal

from cloudlink import _native
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.rtc import header_extensions as ext

__all__ = ["PayloadHandler", "RtpReceiver"]

logger = logging.getLogger(__name__)

Kind = Literal["audio", "video"]
# Where each accepted payload goes, with its arrival time on the session clock.
PayloadHandler = Callable[[RtpPayload, float], None]


class RtpReceiver:
    """One incoming stream of ``payload_types``. ``ssrc`` None binds the
    stream to the SSRC of its first packet."""

    def __init__(
        self,
        *,
        kind: Kind,
        clock_rate_hz: int,
        payload_types: Collection[int],
        on_payload: PayloadHandler,
        extension_ids: ext.HeaderExtensionIds,
        ssrc: int | None = None,
    ) -> None:
        self.kind: Kind = kind
        self.clock_rate_hz = clock_rate_hz
        self.payload_types = frozenset(payload_types)
        self.on_payload = on_payload
        self._ids = extension_ids
        self.ssrc = ssrc
        self.statistics: _native.ReceiveStatistics | None = None
        if ssrc is not None:
            self.bind(ssrc)
        self.audio_level: int | None = None
        self.voice_activity = False
        self.nack_count = 0
        self.pli_count = 0
        self.packets_malformed = 0
        self.last_packet_ms: float | None = None

    def bind(self, ssrc: int) -> None:
        """Fixes the stream's SSRC (and restarts its statistics)."""
        self.ssrc = ssrc
        self.statistics = _native.ReceiveStatistics(ssrc=ssrc, clock_rate_hz=self.clock_rate_hz)

    def on_packet(self, packet: _native.RtpPacket, arrival_ms: float) -> None:
        """Counts one packet of this stream and hands its payload on."""
        statistics = self.statistics
        if statistics is None:
            self.bind(packet.ssrc)
            statistics = self.statistics
            assert statistics is not None
        payload = packet.payload
        statistics.on_packet(
            sequence_number=packet.sequence_number,
            timestamp=packet.timestamp,
            arrival_time_ms=arrival_ms,
            payload_bytes=len(payload),
        )
        self.last_packet_ms = arrival_ms
        if self._ids.audio_level:
            level = packet.get_extension(self._ids.audio_level)
            if level:
                self.audio_level, self.voice_activity = ext.parse_audio_level(level)
        self.on_payload(
            RtpPayload(
                sequence_number=packet.sequence_number,
                timestamp=packet.timestamp,
                payload_type=packet.payload_type,
                payload=payload,
                marker=packet.marker,
            ),
            arrival_ms,
        )

    def on_sender_report(self, report: _native.RtcpSenderReport, arrival_ms: float) -> None:
        """Keeps the SR's time for LSR/DLSR in the next report block."""
        if self.statistics is not None:
            self.statistics.on_sender_report(
                ntp_timestamp=report.ntp_timestamp, arrival_time_ms=arrival_ms
            )

    def report_block(self, now_ms: float) -> _native.RtcpReportBlock | None:
        """RFC 3550 section 6.4.1: the block for the next SR or RR (it starts
        a new fraction-lost interval); None before any packet."""
        if self.statistics is None:
            return None
        return self.statistics.report_block(now_ms)

    def stats(self) -> dict[str, int | float | str]:
        """inbound-rtp figures of the transport layer of this stream."""
        stats: dict[str, int | float | str] = {
            "type": "inbound-rtp",
            "kind": self.kind,
            "nackCount": self.nack_count,
            "pliCount": self.pli_count,
        }
        if self.ssrc is not None:
            stats["ssrc"] = self.ssrc
        if self.statistics is not None:
            stats.update(self.statistics.stats())
            stats["packetsLost"] = self.statistics.cumulative_lost
        if self.audio_level is not None:
            # W3C audioLevel: linear 0..1 from the RFC 6464 -dBov value.
            stats["audioLevel"] = 10.0 ** (-self.audio_level / 20.0)
        return stats
