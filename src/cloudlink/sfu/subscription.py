"""One stream a subscriber receives: a published track, or a video slot
whose source follows the active speaker.

For video, each frame is forwarded or dropped as a whole by its temporal
layer (RFC 7741 section 4.2: TID, and the Y bit telling that a frame
depends on the base layer only). The forwarded layer goes down at any
frame and up at a layer-sync frame or a keyframe. A new source is taken at
its next keyframe; the old one is forwarded until then, so the picture
never stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Final

from cloudlink import _native
from cloudlink.sfu.layer_selector import LayerSelector
from cloudlink.sfu.rtp_view import RtpView
from cloudlink.sfu.stream_rewriter import StreamRewriter
from cloudlink.sfu.track import PublishedTrack, TrackKind
from cloudlink.sfu.transport import DatagramTransport

__all__ = ["Subscription"]

logger = logging.getLogger(__name__)

# Forwarded packets remembered to map a NACKed sequence number back to its
# published packet; as deep as a track's packet cache.
_HISTORY_PACKETS: Final = 1024
# Frames whose forward-or-drop decision is remembered, for their late
# packets (a 720p keyframe spans ~40 packets; 64 frames are 2 s at 30 fps).
_FRAME_DECISIONS: Final = 64
_DROPPED: Final = -1

# Asks the room for a keyframe of a track (rate limited there).
KeyframeRequest = Callable[[PublishedTrack, float], None]
# Tells the room that a subscription now takes its packets from a new track.
SourceCommitted = Callable[["Subscription", PublishedTrack | None, PublishedTrack], None]


class Subscription:
    """Forwards one source to one subscriber, rewritten by a
    :class:`StreamRewriter`, and answers that subscriber's feedback."""

    def __init__(
        self,
        *,
        subscriber_id: str,
        transport: DatagramTransport,
        kind: TrackKind,
        ssrc: int,
        clock_rate_hz: int,
        request_keyframe: KeyframeRequest,
        source_committed: SourceCommitted,
        follows_active_speaker: bool = False,
        max_layer: int = 2,
    ) -> None:
        self.subscriber_id = subscriber_id
        self.transport = transport
        self.kind = kind
        self.ssrc = ssrc
        self.follows_active_speaker = follows_active_speaker
        self.rewriter = StreamRewriter(ssrc=ssrc, clock_rate_hz=clock_rate_hz)
        self.selector = LayerSelector(max_layer=max_layer)
        self.source: PublishedTrack | None = None
        self.pending: PublishedTrack | None = None
        self.current_layer = max_layer
        self._request_keyframe = request_keyframe
        self._source_committed = source_committed
        self._frames: dict[int, int] = {}
        self._upswitch_layer = -1
        self._history: list[tuple[int, PublishedTrack, int, int, int, int] | None] = [
            None
        ] * _HISTORY_PACKETS
        self.packets_sent = 0
        self.bytes_sent = 0
        self.packets_dropped = 0
        self.packets_retransmitted = 0
        self.fraction_lost = 0
        self.jitter = 0

    def switch_to(self, track: PublishedTrack, now_ms: float) -> None:
        """Takes ``track`` as the source: at once for audio, at its next
        keyframe for video (one is asked for now)."""
        if track is self.source:
            self.pending = None
            return
        self.pending = track
        if self.kind.is_video:
            self._request_keyframe(track, now_ms)

    def resume(self, track: PublishedTrack, now_ms: float) -> None:
        """After ``track`` was paused: the stream goes on from its next
        packet (audio) or keyframe (video, asked for now), numbered and
        timed on from the last one forwarded, so the pause is no loss."""
        if self.source is track:
            self.source = None
            self.switch_to(track, now_ms)

    def on_rtp(self, track: PublishedTrack, view: RtpView, now_ms: float) -> None:
        """Forwards (or drops) one packet of a track this subscription
        listens to."""
        # Step 1: the source changes at a keyframe (video) or the next packet (audio).
        if track is not self.source:
            if track is not self.pending:
                return
            if self.kind.is_video and not (view.keyframe and view.frame_start):
                self._request_keyframe(track, now_ms)
                return
            self._commit_source(track, view, now_ms)

        # Step 2: video frames are forwarded or dropped whole, by temporal layer.
        rewriter = self.rewriter
        picture_id = 0
        if self.kind.is_video:
            decision = self._frames.get(view.timestamp)
            if decision is None:
                decision = self._decide_frame(view, now_ms)
            if decision == _DROPPED:
                rewriter.drop(view)
                self.packets_dropped += 1
                return
            picture_id = decision

        # Step 3: rewrite, remember for NACKs, send.
        sequence = rewriter.output_sequence(view)
        if sequence is None:
            self.packets_dropped += 1
            return
        timestamp = rewriter.output_timestamp(view)
        tl0_pic_idx = rewriter.output_tl0_pic_idx(view)
        data = rewriter.write(view, sequence, timestamp, picture_id, tl0_pic_idx)
        rewriter.commit(sequence, timestamp, picture_id, tl0_pic_idx, now_ms)
        self._history[sequence % _HISTORY_PACKETS] = (
            sequence,
            track,
            view.sequence,
            timestamp,
            picture_id,
            tl0_pic_idx,
        )
        self.packets_sent += 1
        self.bytes_sent += len(data)
        self.transport.send_rtp(data)

    def retransmit(self, sequence_numbers: Iterable[int]) -> list[tuple[PublishedTrack, int]]:
        """Answers a NACK (RFC 4585 section 6.2.1) from the tracks' packet
        caches; returns the (track, published sequence) pairs no cache had."""
        missing = []
        last = self.rewriter.last_sequence
        for number in sequence_numbers:
            # The subscriber's 16-bit number, unwrapped against the newest sent.
            sequence = last - ((last - number) & 0xFFFF)
            entry = self._history[sequence % _HISTORY_PACKETS]
            if entry is None or entry[0] != sequence:
                continue
            _, track, published, timestamp, picture_id, tl0_pic_idx = entry
            view = track.cache.get(published)
            if view is None:
                missing.append((track, published))
                continue
            # TODO(#5): resent on the media SSRC; RFC 4588 RTX once the transport negotiates it.
            data = self.rewriter.write(view, sequence, timestamp, picture_id, tl0_pic_idx)
            self.packets_retransmitted += 1
            self.transport.send_rtp(data)
        return missing

    def stats(self) -> dict[str, int | str | None]:
        """What was sent, W3C webrtc-stats names where one fits
        (RTCOutboundRtpStreamStats; the rest are ours)."""
        return {
            "ssrc": self.ssrc,
            "kind": self.kind.value,
            "source": None if self.source is None else self.source.track_id,
            "packetsSent": self.packets_sent,
            "bytesSent": self.bytes_sent,
            "retransmittedPacketsSent": self.packets_retransmitted,
            "packetsDropped": self.packets_dropped,
            "targetTemporalLayer": self.selector.target_layer if self.kind.is_video else None,
            "temporalLayer": self.current_layer if self.kind.is_video else None,
            "fractionLost": self.fraction_lost,
            "jitter": self.jitter,
        }

    def on_report_block(self, block: _native.RtcpReportBlock) -> None:
        """Keeps what the subscriber reports of this stream (RFC 3550 section 6.4.2)."""
        self.fraction_lost = block.fraction_lost
        self.jitter = block.jitter

    # TODO(#5): no SR of the SFU's own if a publisher sends none; no RTT to subscribers.
    def sender_report(self, report: _native.RtcpSenderReport) -> bytes | None:
        """The publisher's sender report (RFC 3550 section 6.4.1) as this
        subscriber's stream has it: own SSRC, rewritten RTP timestamp, own
        counts; None before the first packet."""
        if not self.rewriter.started:
            return None
        rewritten = _native.RtcpSenderReport(
            ssrc=self.ssrc,
            ntp_timestamp=report.ntp_timestamp,
            rtp_timestamp=(report.rtp_timestamp + self.rewriter.timestamp_offset) & 0xFFFFFFFF,
            packet_count=self.packets_sent & 0xFFFFFFFF,
            octet_count=self.bytes_sent & 0xFFFFFFFF,
        )
        return rewritten.serialize()

    def _commit_source(self, track: PublishedTrack, view: RtpView, now_ms: float) -> None:
        previous, self.source, self.pending = self.source, track, None
        self.rewriter.start_source(view, now_ms)
        self._frames.clear()
        self.current_layer = self.selector.target_layer
        logger.info(
            "subscription [ssrc:%d] of [%s] takes [%s]", self.ssrc, self.subscriber_id, track
        )
        self._source_committed(self, previous, track)

    def _decide_frame(self, view: RtpView, now_ms: float) -> int:
        """Forward-or-drop for a frame seen first: its picture id, or _DROPPED."""
        layer = view.temporal_layer_id
        target = self.selector.target_layer
        if layer is not None:
            if view.keyframe or target < self.current_layer:
                self.current_layer = target
            elif self.current_layer < layer <= target and view.layer_sync:
                self.current_layer = layer
            elif target > self.current_layer and self._upswitch_layer != target:
                # Our encoder marks layer sync frames only after a keyframe,
                # so going up waits for a keyframe, asked for once per target.
                # TODO(#5): periodic layer sync frames would let layers go up without keyframes.
                self._upswitch_layer = target
                if self.source is not None:
                    self._request_keyframe(self.source, now_ms)
        if layer is not None and layer > self.current_layer:
            decision = _DROPPED
            self.rewriter.drop_frame()
        else:
            decision = self.rewriter.output_picture_id(view)
        frames = self._frames
        frames[view.timestamp] = decision
        if len(frames) > _FRAME_DECISIONS:
            del frames[next(iter(frames))]
        return decision
