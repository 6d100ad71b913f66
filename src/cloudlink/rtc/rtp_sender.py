"""The sending side of one RTP stream (one SSRC): stamps the payloads a
media pipeline makes into native RTP packets with their header extensions,
hands them to the transport, counts what went out, writes its sender
report and learns from the report blocks the peer returns.

Statistics keep the W3C webrtc-stats names of RTCOutboundRtpStreamStats and
RTCRemoteInboundRtpStreamStats.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Literal

from cloudlink import _native
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.rtc import header_extensions as ext
from cloudlink.rtc.ntp_time import ntp_now, round_trip_time_ms

__all__ = ["DropFilter", "RtpSender"]

logger = logging.getLogger(__name__)

Kind = Literal["audio", "video"]
# A deliberate loss in the send path, for tests: called with each payload
# and whether it is a retransmission; True drops it before the transport.
DropFilter = Callable[[RtpPayload, bool], bool]
Send = Callable[[bytes], Awaitable[None]]


class RtpSender:
    """Sends one stream's RTP through ``send``; ``now_ms`` is the session's
    monotonic clock and ``next_transport_sequence`` numbers every packet
    of the transport (shared by the session's senders); ``on_sent`` hears
    (transport-wide sequence, send time, bytes) of each packet. ``mid`` is
    the stream's media section, sent in the MID extension until the peer
    first reports on the stream (by then it has bound our SSRC)."""

    def __init__(
        self,
        *,
        kind: Kind,
        clock_rate_hz: int,
        send: Send,
        now_ms: Callable[[], float],
        next_transport_sequence: Callable[[], int],
        extension_ids: ext.HeaderExtensionIds,
        ssrc: int | None = None,
        mid: str | None = None,
        on_sent: Callable[[int, float, int], None] | None = None,
    ) -> None:
        self.kind: Kind = kind
        self.mid = mid
        self._mid_element = ext.sdes_mid(mid) if mid is not None else None
        self.clock_rate_hz = clock_rate_hz
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self._send = send
        self._now_ms = now_ms
        self._next_transport_sequence = next_transport_sequence
        self._ids = extension_ids
        self._on_sent = on_sent
        self.drop: DropFilter | None = None
        # What the peer's feedback asks of the media pipeline.
        self.on_nack: Callable[[list[int]], None] | None = None
        self.on_keyframe_request: Callable[[], None] | None = None
        # Counters (W3C names in stats()).
        self.packets_sent = 0
        self.bytes_sent = 0
        self.header_bytes_sent = 0
        self.retransmitted_packets_sent = 0
        self.retransmitted_bytes_sent = 0
        self.packets_dropped = 0
        self.nack_count = 0
        self.pli_count = 0
        self.fir_count = 0
        # From the peer's report blocks about this stream.
        self.round_trip_time_ms: float | None = None
        self.total_round_trip_time_ms = 0.0
        self.round_trip_time_measurements = 0
        self.remote_fraction_lost = 0.0
        self.remote_packets_lost = 0
        self.remote_jitter_s = 0.0
        self._last_timestamp: int | None = None
        self._last_send_ms = 0.0

    async def send(
        self,
        payload: RtpPayload,
        *,
        audio_level: tuple[int, bool] | None = None,
        retransmission: bool = False,
    ) -> None:
        """Sends one payload as an RTP packet; ``audio_level`` is the RFC 6464
        (level in -dBov, voice) of the audio it carries."""
        # Step 1: the header extensions this session agreed on.
        now_ms = self._now_ms()
        extensions: dict[int, bytes | bytearray | memoryview] = {}
        sequence: int | None = None
        if audio_level is not None and self._ids.audio_level:
            extensions[self._ids.audio_level] = ext.audio_level(
                audio_level[0], voice=audio_level[1]
            )
        if self._ids.abs_send_time:
            extensions[self._ids.abs_send_time] = ext.abs_send_time(now_ms)
        if self._ids.mid and self._mid_element is not None:
            extensions[self._ids.mid] = self._mid_element
        if self._ids.transport_sequence:
            sequence = self._next_transport_sequence()
            extensions[self._ids.transport_sequence] = ext.transport_sequence(sequence)

        # Step 2: the packet, unless a test drops it on purpose (after it is
        # logged for transport feedback, so it counts as lost on the way).
        data = _native.RtpPacket(
            payload_type=payload.payload_type,
            sequence_number=payload.sequence_number,
            timestamp=payload.timestamp,
            ssrc=self.ssrc,
            marker=payload.marker,
            payload=payload.payload,
            extensions=extensions,
        ).serialize()
        if sequence is not None and self._on_sent is not None:
            self._on_sent(sequence, now_ms, len(data))
        if self.drop is not None and self.drop(payload, retransmission):
            self.packets_dropped += 1
            return
        await self._send(data)

        # Step 3: count it (W3C: bytesSent counts payload bytes only).
        self.packets_sent += 1
        self.bytes_sent += len(payload.payload)
        self.header_bytes_sent += len(data) - len(payload.payload)
        if retransmission:
            self.retransmitted_packets_sent += 1
            self.retransmitted_bytes_sent += len(payload.payload)
        else:
            self._last_timestamp = payload.timestamp
            self._last_send_ms = now_ms
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "rtp [ssrc:%d] [seq:%d] [bytes:%d] [rtx:%d]",
                self.ssrc,
                payload.sequence_number,
                len(data),
                retransmission,
            )

    def sender_report(
        self, report_blocks: list[_native.RtcpReportBlock]
    ) -> _native.RtcpSenderReport | None:
        """RFC 3550 section 6.4.1: this stream's SR now, None before its
        first packet. Its RTP timestamp is extrapolated from the last
        packet's to the SR's NTP time."""
        if self._last_timestamp is None:
            return None
        elapsed_ms = self._now_ms() - self._last_send_ms
        rtp_timestamp = (self._last_timestamp + round(elapsed_ms * self.clock_rate_hz / 1000.0)) % (
            1 << 32
        )
        return _native.RtcpSenderReport(
            ssrc=self.ssrc,
            ntp_timestamp=ntp_now(),
            rtp_timestamp=rtp_timestamp,
            packet_count=self.packets_sent & 0xFFFFFFFF,
            octet_count=self.bytes_sent & 0xFFFFFFFF,
            report_blocks=report_blocks,
        )

    def on_report_block(self, block: _native.RtcpReportBlock) -> None:
        """Takes the peer's report block about this stream: loss, jitter and
        the round-trip time (RFC 3550 section 6.4.1)."""
        self._mid_element = None
        self.remote_fraction_lost = block.fraction_lost / 256.0
        self.remote_packets_lost = block.cumulative_lost
        self.remote_jitter_s = block.jitter / self.clock_rate_hz
        rtt_ms = round_trip_time_ms(ntp_now(), block.last_sr, block.delay_since_last_sr)
        if rtt_ms is not None:
            self.round_trip_time_ms = rtt_ms
            self.total_round_trip_time_ms += rtt_ms
            self.round_trip_time_measurements += 1

    def handle_nack(self, sequence_numbers: list[int]) -> None:
        """RFC 4585 section 6.2.1: the peer misses these packets."""
        self.nack_count += 1
        if self.on_nack is not None:
            self.on_nack(sequence_numbers)

    def handle_keyframe_request(self, *, fir: bool) -> None:
        """A PLI (RFC 4585 section 6.3.1) or FIR (RFC 5104 section 4.3.1)."""
        if fir:
            self.fir_count += 1
        else:
            self.pli_count += 1
        if self.on_keyframe_request is not None:
            self.on_keyframe_request()

    def stats(self) -> dict[str, int | float | str]:
        """outbound-rtp and remote-inbound-rtp figures of this stream."""
        stats: dict[str, int | float | str] = {
            "type": "outbound-rtp",
            "kind": self.kind,
            "ssrc": self.ssrc,
            "packetsSent": self.packets_sent,
            "bytesSent": self.bytes_sent,
            "headerBytesSent": self.header_bytes_sent,
            "retransmittedPacketsSent": self.retransmitted_packets_sent,
            "retransmittedBytesSent": self.retransmitted_bytes_sent,
            "nackCount": self.nack_count,
            "pliCount": self.pli_count,
            "firCount": self.fir_count,
            "fractionLost": self.remote_fraction_lost,
            "packetsLost": self.remote_packets_lost,
            "remoteJitter": self.remote_jitter_s,
            "totalRoundTripTime": self.total_round_trip_time_ms / 1000.0,
            "roundTripTimeMeasurements": self.round_trip_time_measurements,
        }
        if self.round_trip_time_ms is not None:
            stats["roundTripTime"] = self.round_trip_time_ms / 1000.0
        return stats
