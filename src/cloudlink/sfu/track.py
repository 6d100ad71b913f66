"""A track a participant publishes into a room: its microphone, camera or
screen share, each one RTP stream (one SSRC) of its own."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

from cloudlink import _native
from cloudlink.sfu.bitrate_meter import LayerBitrateMeter
from cloudlink.sfu.keyframe_limiter import DEFAULT_INTERVAL_MS, KeyframeRequestLimiter
from cloudlink.sfu.packet_cache import DEFAULT_CAPACITY_PACKETS, PacketCache
from cloudlink.sfu.rtp_view import RtpView

if TYPE_CHECKING:
    from cloudlink.sfu.subscription import Subscription

__all__ = ["PublishedTrack", "TrackKind"]

# Round-trip time to publishers assumed for spacing NACK retries.
DEFAULT_UPSTREAM_RTT_MS: Final = 100.0


class TrackKind(enum.Enum):
    """What a track carries; screen share is video of its own, so a
    subscriber can take it beside the speaker's camera."""

    AUDIO = "audio"
    CAMERA = "camera"
    SCREEN = "screen"

    @property
    def is_video(self) -> bool:
        return self is not TrackKind.AUDIO


class PublishedTrack:
    """One published RTP stream: its recent packets (for NACKs), its
    per-layer bitrate, its keyframe-request limiter and its subscriptions.

    For video, packets lost between the publisher and the SFU are asked for
    again at once (RFC 4585 section 6.2.1), so that every subscriber gets
    the retransmission without asking for it.
    """

    def __init__(
        self,
        *,
        track_id: str,
        publisher_id: str,
        kind: TrackKind,
        ssrc: int,
        clock_rate_hz: int,
        cache_packets: int = DEFAULT_CAPACITY_PACKETS,
        keyframe_request_interval_ms: float = DEFAULT_INTERVAL_MS,
    ) -> None:
        if not 0 <= ssrc < 1 << 32:
            raise ValueError(f"ssrc must fit 32 bits, got {ssrc}")
        if clock_rate_hz <= 0:
            raise ValueError(f"clock_rate_hz must be > 0, got {clock_rate_hz}")
        self.track_id = track_id
        self.publisher_id = publisher_id
        self.kind = kind
        self.ssrc = ssrc
        self.clock_rate_hz = clock_rate_hz
        self.cache = PacketCache(capacity_packets=cache_packets)
        self.keyframe_limiter = KeyframeRequestLimiter(interval_ms=keyframe_request_interval_ms)
        self.bitrate_meter = LayerBitrateMeter()
        self.subscriptions: list[Subscription] = []
        self._unwrapper = _native.SequenceUnwrapper()
        self.nack_tracker = _native.NackTracker() if kind.is_video else None
        # Loss and jitter of the way in, for the room's receiver reports to
        # the publisher (RFC 3550 section 6.4.2), which give it its RTT.
        self.statistics = _native.ReceiveStatistics(ssrc=ssrc, clock_rate_hz=clock_rate_hz)
        # TODO(#5): the room does not measure its own RTT to publishers, so this is a guess.
        self.rtt_ms = DEFAULT_UPSTREAM_RTT_MS
        self.packets_received = 0
        self.bytes_received = 0
        # A muted track: received and reported on, not forwarded (Room.set_paused).
        self.paused = False

    def on_packet(self, view: RtpView, now_ms: float) -> list[int]:
        """Numbers, caches and measures one packet before it is forwarded;
        returns the sequence numbers to NACK to the publisher now."""
        view.sequence = self._unwrapper.unwrap(view.sequence_number)
        self.cache.put(view)
        self.statistics.on_packet(
            sequence_number=view.sequence_number,
            timestamp=view.timestamp,
            arrival_time_ms=now_ms,
            payload_bytes=view.payload_bytes,
        )
        self.bitrate_meter.on_packet(view.temporal_layer_id, len(view.data), now_ms)
        self.packets_received += 1
        self.bytes_received += len(view.data)
        tracker = self.nack_tracker
        if tracker is None:
            return []
        tracker.on_packet(view.sequence_number, now_ms=now_ms)
        if not tracker.missing_count:
            return []
        return list(tracker.nack_list(now_ms, rtt_ms=self.rtt_ms))

    def stats(self) -> dict[str, int | str | list[float]]:
        """What arrived, W3C webrtc-stats names where one fits
        (RTCInboundRtpStreamStats; the rest are ours)."""
        tracker = self.nack_tracker
        return {
            "ssrc": self.ssrc,
            "kind": self.kind.value,
            "publisher": self.publisher_id,
            "packetsReceived": self.packets_received,
            "bytesReceived": self.bytes_received,
            "nackCount": 0 if tracker is None else int(tracker.requests_sent),
            "pliCount": self.keyframe_limiter.requests_sent,
            "layerBitratesBps": list(self.bitrate_meter.rates_bps),
            "subscriptions": len(self.subscriptions),
        }

    def __repr__(self) -> str:
        return f"PublishedTrack({self.track_id!r}, {self.kind.value}, ssrc={self.ssrc})"
