"""A room of the SFU: participants publish tracks and subscribe to each
other's, and the room forwards RTP between them without decoding media.

Datagrams come in through :meth:`Room.receive` (RTP and RTCP multiplexed on
one transport, RFC 5761 section 4) or :meth:`Room.receive_rtp` /
:meth:`Room.receive_rtcp`; what goes out leaves through each participant's
:class:`~cloudlink.sfu.transport.DatagramTransport`. Feedback is handled
here, not forwarded blindly (RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb):

- NACK: answered from the publisher's packet cache; what the cache no
  longer has is asked of the publisher. Video lost on the way from the
  publisher is NACKed by the room itself as soon as the gap shows.
- PLI and FIR: one PLI to the publisher per stream and interval.
- REMB: the subscriber's estimate, shared among its video streams (screen
  share first), picks each one's temporal layer.
- Receiver reports: kept per subscription; the publisher's sender reports
  go to its subscribers rewritten, and the publisher gets receiver reports
  on its uplink (its RTT to the SFU comes from them).

A malformed datagram, an unknown SSRC or an internal error is counted and
dropped; nothing raises out of the receive calls.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Final

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media.rtp_payload import OPUS_CLOCK_HZ, VIDEO_CLOCK_HZ
from cloudlink.sfu.active_speaker import ActiveSpeakerDetector
from cloudlink.sfu.counters import RoomCounters
from cloudlink.sfu.keyframe_limiter import DEFAULT_INTERVAL_MS
from cloudlink.sfu.participant import Participant
from cloudlink.sfu.rtp_view import RTP_HEADER_BYTES, parse_rtp_view
from cloudlink.sfu.subscription import Subscription
from cloudlink.sfu.track import PublishedTrack, TrackKind
from cloudlink.sfu.transport import DatagramTransport

__all__ = ["ActiveSpeakerCallback", "Room"]

logger = logging.getLogger(__name__)

# Called with (room id, new speaker, previous speaker).
ActiveSpeakerCallback = Callable[[str, str | None, str | None], None]

# The RFC 6464 extension id agreed in SDP (Chromium offers 1 for
# urn:ietf:params:rtp-hdrext:ssrc-audio-level).
DEFAULT_AUDIO_LEVEL_EXTENSION_ID: Final = 1
# Bitrate set aside for each audio stream a subscriber receives before its
# estimate is shared among video (Opus voice at 32 kbit/s plus headers).
_AUDIO_RESERVE_BPS: Final = 40_000
# How often a publisher gets a receiver report on its tracks (RFC 3550
# section 6.2 scales this with bandwidth; half a second keeps RTT fresh).
_RECEIVER_REPORT_INTERVAL_MS: Final = 500.0
# RFC 3550 section 6.4: at most 31 report blocks in one RR.
_MAX_REPORT_BLOCKS: Final = 31
# The second byte of an RTCP packet (its packet type) in the range RFC 5761
# section 4 reserves for RTCP when it shares a transport with RTP.
_RTCP_TYPES: Final = range(192, 224)


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class Room:
    """Participants, their published tracks and their subscriptions."""

    def __init__(
        self,
        *,
        room_id: str,
        audio_level_extension_id: int | None = DEFAULT_AUDIO_LEVEL_EXTENSION_ID,
        keyframe_request_interval_ms: float = DEFAULT_INTERVAL_MS,
        on_active_speaker: ActiveSpeakerCallback | None = None,
        active_speaker_hold_ms: float = 1000.0,
    ) -> None:
        self.room_id = room_id
        self.audio_level_extension_id = audio_level_extension_id
        self.keyframe_request_interval_ms = keyframe_request_interval_ms
        self.on_active_speaker = on_active_speaker
        self.participants: dict[str, Participant] = {}
        self.counters = RoomCounters()
        self.active_speaker = ActiveSpeakerDetector(
            on_change=self._speaker_changed, min_hold_ms=active_speaker_hold_ms
        )
        self._tracks: dict[str, PublishedTrack] = {}
        self._subscriptions_by_ssrc: dict[int, Subscription] = {}
        self._now_ms = 0.0

    # --- membership ---

    def add_participant(self, participant_id: str, transport: DatagramTransport) -> Participant:
        if participant_id in self.participants:
            raise ConfigError(f"participant {participant_id!r} is already in the room")
        participant = Participant(participant_id=participant_id, transport=transport)
        self.participants[participant_id] = participant
        logger.info("join [room:%s] [participant:%s]", self.room_id, participant_id)
        return participant

    def remove_participant(self, participant_id: str, *, now_ms: float | None = None) -> None:
        now = _now_ms() if now_ms is None else now_ms
        participant = self.participants.pop(participant_id, None)
        if participant is None:
            return
        self._now_ms = now
        for subscription in list(participant.subscriptions):
            self.unsubscribe(subscription)
        for track_id in list(participant.tracks):
            self.unpublish(track_id)
        self.active_speaker.remove(participant_id, now)
        logger.info("leave [room:%s] [participant:%s]", self.room_id, participant_id)

    def publish(
        self,
        participant_id: str,
        *,
        track_id: str,
        kind: TrackKind,
        ssrc: int,
        clock_rate_hz: int | None = None,
    ) -> PublishedTrack:
        """Announces a track (as signaling learns it from the publisher's SDP)."""
        participant = self._participant(participant_id)
        if track_id in self._tracks:
            raise ConfigError(f"track {track_id!r} is already published")
        if ssrc in participant.tracks_by_ssrc:
            raise ConfigError(f"ssrc {ssrc} is already published by {participant_id!r}")
        rate_hz = clock_rate_hz or (VIDEO_CLOCK_HZ if kind.is_video else OPUS_CLOCK_HZ)
        track = PublishedTrack(
            track_id=track_id,
            publisher_id=participant_id,
            kind=kind,
            ssrc=ssrc,
            clock_rate_hz=rate_hz,
            keyframe_request_interval_ms=self.keyframe_request_interval_ms,
        )
        self._tracks[track_id] = track
        participant.tracks[track_id] = track
        participant.tracks_by_ssrc[ssrc] = track
        logger.info("publish [room:%s] [track:%s] [ssrc:%d]", self.room_id, track_id, ssrc)
        if kind is TrackKind.CAMERA and self.active_speaker.current == participant_id:
            self._follow_speaker(participant_id, _now_ms())
        return track

    def unpublish(self, track_id: str) -> None:
        track = self._tracks.pop(track_id, None)
        if track is None:
            return
        publisher = self.participants.get(track.publisher_id)
        if publisher is not None:
            publisher.tracks.pop(track_id, None)
            publisher.tracks_by_ssrc.pop(track.ssrc, None)
        for subscription in list(track.subscriptions):
            if subscription.follows_active_speaker:
                subscription.source = subscription.pending = None
            else:
                self.unsubscribe(subscription)
        track.subscriptions.clear()

    def subscribe(
        self, subscriber_id: str, track_id: str, *, now_ms: float | None = None
    ) -> Subscription:
        """Sends ``track_id`` to ``subscriber_id`` from its next keyframe
        (video) or packet (audio), under an SSRC of the subscriber's own."""
        now = _now_ms() if now_ms is None else now_ms
        track = self._tracks.get(track_id)
        if track is None:
            raise ConfigError(f"no track {track_id!r} in room {self.room_id!r}")
        subscription = self._new_subscription(subscriber_id, track.kind, follows=False)
        track.subscriptions.append(subscription)
        subscription.switch_to(track, now)
        return subscription

    def subscribe_active_speaker(
        self, subscriber_id: str, *, now_ms: float | None = None
    ) -> Subscription:
        """A video stream that shows the camera of whoever speaks (never the
        subscriber's own), switching at the new speaker's keyframe."""
        now = _now_ms() if now_ms is None else now_ms
        subscription = self._new_subscription(subscriber_id, TrackKind.CAMERA, follows=True)
        speaker = self.active_speaker.current
        if speaker is not None:
            self._point(subscription, speaker, now)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions_by_ssrc.pop(subscription.ssrc, None)
        for track in (subscription.source, subscription.pending):
            if track is not None and subscription in track.subscriptions:
                track.subscriptions.remove(subscription)
        subscriber = self.participants.get(subscription.subscriber_id)
        if subscriber is not None and subscription in subscriber.subscriptions:
            subscriber.subscriptions.remove(subscription)

    def set_paused(self, track_id: str, paused: bool, *, now_ms: float | None = None) -> None:
        """Pauses a track (its publisher muted it) or resumes it. A paused
        track's packets are still received, cached and reported on, but
        reach no subscriber; on resume each subscriber's stream goes on
        without a gap in its numbering (video from the next keyframe)."""
        track = self._tracks.get(track_id)
        if track is None:
            raise ConfigError(f"no track {track_id!r} in the room")
        if track.paused == paused:
            return
        track.paused = paused
        if not paused:
            now = _now_ms() if now_ms is None else now_ms
            for subscription in list(track.subscriptions):
                subscription.resume(track, now)

    def track(self, track_id: str) -> PublishedTrack | None:
        """A published track by its id."""
        return self._tracks.get(track_id)

    def stats(self) -> dict[str, object]:
        """Counters, every published track and every subscription, by id and SSRC."""
        return {
            "counters": self.counters.as_dict(),
            "activeSpeaker": self.active_speaker.current,
            "tracks": {track_id: track.stats() for track_id, track in self._tracks.items()},
            "subscriptions": {
                participant_id: [s.stats() for s in participant.subscriptions]
                for participant_id, participant in self.participants.items()
            },
        }

    # --- the data path ---

    def receive(self, participant_id: str, data: bytes, *, now_ms: float | None = None) -> None:
        """One datagram from a participant's transport, RTP or RTCP."""
        if len(data) > 1 and data[1] in _RTCP_TYPES:
            self.receive_rtcp(participant_id, data, now_ms=now_ms)
        else:
            self.receive_rtp(participant_id, data, now_ms=now_ms)

    def receive_rtp(self, participant_id: str, data: bytes, *, now_ms: float | None = None) -> None:
        """Forwards one RTP packet of a publisher to its track's subscribers."""
        now = _now_ms() if now_ms is None else now_ms
        self._now_ms = now
        counters = self.counters
        counters.rtp_received += 1
        try:
            # Step 1: whose packet is it (RFC 3550 section 5.1: version 2, SSRC at offset 8).
            participant = self.participants.get(participant_id)
            if participant is None:
                counters.unknown_participant += 1
                return
            if len(data) < RTP_HEADER_BYTES or data[0] >> 6 != 2:
                counters.rtp_malformed += 1
                return
            track = participant.tracks_by_ssrc.get(int.from_bytes(data[8:12], "big"))
            if track is None:
                counters.unknown_ssrc += 1
                return

            # Step 2: parse once, then cache and measure.
            audio = track.kind is TrackKind.AUDIO
            try:
                view = parse_rtp_view(
                    bytes(data),
                    vp8=not audio,
                    audio_level_extension_id=self.audio_level_extension_id if audio else None,
                )
            except ValueError:
                counters.rtp_malformed += 1
                return
            lost = track.on_packet(view, now)
            if lost:
                self._nack_upstream([(track, n) for n in lost])
            self._report_to_publisher(participant, now)
            if track.paused:
                counters.rtp_paused += 1
                return
            if view.audio_level is not None:
                self.active_speaker.update(participant_id, view.audio_level, now)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "rtp [ssrc:%d] [seq:%d] [ts:%d] [tid:%s] [subscribers:%d]",
                    track.ssrc,
                    view.sequence_number,
                    view.timestamp,
                    view.temporal_layer_id,
                    len(track.subscriptions),
                )

            # Step 3: to every subscriber.
            for subscription in track.subscriptions:
                subscription.on_rtp(track, view, now)
        except Exception:
            self._internal_error("rtp")

    def receive_rtcp(
        self, participant_id: str, data: bytes, *, now_ms: float | None = None
    ) -> None:
        """Consumes one RTCP compound packet of a participant (RFC 3550 section 6)."""
        now = _now_ms() if now_ms is None else now_ms
        counters = self.counters
        counters.rtcp_received += 1
        try:
            participant = self.participants.get(participant_id)
            if participant is None:
                counters.unknown_participant += 1
                return
            try:
                packets = _native.parse_rtcp(bytes(data))
            except ValueError:
                counters.rtcp_malformed += 1
                return
            for packet in packets:
                self._on_rtcp_packet(participant, packet, now)
        except Exception:
            self._internal_error("rtcp")

    # --- feedback ---

    def _on_rtcp_packet(
        self, participant: Participant, packet: _native._RtcpPacket, now_ms: float
    ) -> None:
        counters = self.counters
        if isinstance(packet, _native.RtcpNack):
            counters.nacks_received += 1
            subscription = self._own_subscription(participant, packet.media_ssrc)
            if subscription is None:
                return
            missing = subscription.retransmit(packet.sequence_numbers)
            if missing:
                counters.nack_cache_misses += len(missing)
                self._nack_upstream(missing)
        elif isinstance(packet, _native.RtcpPli | _native.RtcpFir):
            counters.keyframe_requests_received += 1
            media_ssrcs = (
                [packet.media_ssrc]
                if isinstance(packet, _native.RtcpPli)
                else [ssrc for ssrc, _ in packet.entries]
            )
            for media_ssrc in media_ssrcs:
                subscription = self._own_subscription(participant, media_ssrc)
                if subscription is not None and subscription.source is not None:
                    self._request_keyframe(subscription.source, now_ms)
        elif isinstance(packet, _native.RtcpRemb):
            # TODO(#5): no estimate goes back to publishers, so their encoders ignore subscribers.
            counters.rembs_received += 1
            participant.estimate_bps = float(packet.bitrate_bps)
            self._allocate(participant, now_ms)
        elif isinstance(packet, _native.RtcpReceiverReport | _native.RtcpSenderReport):
            for block in packet.report_blocks:
                counters.report_blocks_received += 1
                subscription = self._own_subscription(participant, block.ssrc)
                if subscription is not None:
                    subscription.on_report_block(block)
            if isinstance(packet, _native.RtcpSenderReport):
                self._forward_sender_report(participant, packet, now_ms)
        else:
            # SDES, BYE, transport-wide feedback and unknown types end here.
            # TODO(#5): TWCC from subscribers is not used; a send-side estimate would replace REMB.
            counters.rtcp_ignored += 1

    def _own_subscription(self, participant: Participant, ssrc: int) -> Subscription | None:
        subscription = self._subscriptions_by_ssrc.get(ssrc)
        if subscription is None or subscription.subscriber_id != participant.participant_id:
            self.counters.unknown_ssrc += 1
            return None
        return subscription

    def _request_keyframe(self, track: PublishedTrack, now_ms: float) -> None:
        """A PLI to the publisher (RFC 4585 section 6.3.1), at most one per interval."""
        if not track.keyframe_limiter.allow(now_ms):
            self.counters.keyframe_requests_suppressed += 1
            return
        publisher = self.participants.get(track.publisher_id)
        if publisher is None:
            return
        self.counters.keyframe_requests_forwarded += 1
        pli = _native.RtcpPli(sender_ssrc=publisher.rtcp_ssrc, media_ssrc=track.ssrc)
        publisher.transport.send_rtcp(_native.serialize_rtcp([pli]))

    def _nack_upstream(self, missing: list[tuple[PublishedTrack, int]]) -> None:
        """Asks publishers for packets lost on their way here, or that the
        cache here no longer holds."""
        by_track: dict[str, tuple[PublishedTrack, list[int]]] = {}
        for track, sequence in missing:
            by_track.setdefault(track.track_id, (track, []))[1].append(sequence & 0xFFFF)
        for track, numbers in by_track.values():
            publisher = self.participants.get(track.publisher_id)
            if publisher is None:
                continue
            nack = _native.RtcpNack(
                sender_ssrc=publisher.rtcp_ssrc, media_ssrc=track.ssrc, sequence_numbers=numbers
            )
            publisher.transport.send_rtcp(_native.serialize_rtcp([nack]))
            self.counters.nacks_sent_upstream += 1

    def _allocate(self, participant: Participant, now_ms: float) -> None:
        """Shares a subscriber's estimate: audio first, then screen shares,
        then cameras, each video stream at the highest layer that fits."""
        # TODO(#5): temporal layers only; simulcast (an SSRC per spatial layer) is not chosen from.
        estimate = participant.estimate_bps
        if estimate is None:
            return
        subscriptions = participant.subscriptions
        budget = estimate - _AUDIO_RESERVE_BPS * sum(
            1 for s in subscriptions if s.kind is TrackKind.AUDIO
        )
        video = sorted(
            (s for s in subscriptions if s.kind.is_video),
            key=lambda s: s.kind is not TrackKind.SCREEN,
        )
        for subscription in video:
            source = subscription.source or subscription.pending
            rates = source.bitrate_meter.rates_bps if source is not None else []
            layer = subscription.selector.update(budget, rates, now_ms)
            if rates:
                budget -= rates[min(layer, len(rates) - 1)]

    def _forward_sender_report(
        self, participant: Participant, report: _native.RtcpSenderReport, now_ms: float
    ) -> None:
        track = participant.tracks_by_ssrc.get(report.ssrc)
        if track is None:
            return
        # Its time goes back in our next report block (LSR/DLSR, RFC 3550 6.4.1).
        track.statistics.on_sender_report(
            ntp_timestamp=report.ntp_timestamp, arrival_time_ms=now_ms
        )
        for subscription in track.subscriptions:
            if subscription.source is not track:
                continue
            data = subscription.sender_report(report)
            if data is not None:
                subscription.transport.send_rtcp(data)
                self.counters.sender_reports_forwarded += 1

    def _report_to_publisher(self, participant: Participant, now_ms: float) -> None:
        """Every half second of a participant's media, a receiver report on
        its tracks (RFC 3550 section 6.4.2): loss and jitter of its uplink,
        and the LSR/DLSR its RTT is measured from."""
        last_ms = participant.last_receiver_report_ms
        if last_ms is not None and now_ms - last_ms < _RECEIVER_REPORT_INTERVAL_MS:
            return
        participant.last_receiver_report_ms = now_ms
        blocks = [
            block
            for track in participant.tracks.values()
            if (block := track.statistics.report_block(now_ms)) is not None
        ][:_MAX_REPORT_BLOCKS]
        if not blocks:
            return
        report = _native.RtcpReceiverReport(ssrc=participant.rtcp_ssrc, report_blocks=blocks)
        participant.transport.send_rtcp(_native.serialize_rtcp([report]))
        self.counters.receiver_reports_sent += 1

    # --- active speaker ---

    def _speaker_changed(self, speaker: str | None, previous: str | None) -> None:
        if speaker is not None:
            self._follow_speaker(speaker, self._now_ms)
        if self.on_active_speaker is not None:
            self.on_active_speaker(self.room_id, speaker, previous)

    def _follow_speaker(self, speaker: str, now_ms: float) -> None:
        for participant in self.participants.values():
            for subscription in participant.subscriptions:
                if subscription.follows_active_speaker:
                    self._point(subscription, speaker, now_ms)

    def _point(self, subscription: Subscription, speaker: str, now_ms: float) -> None:
        """Points an active-speaker slot at the speaker's camera."""
        if speaker == subscription.subscriber_id:
            return
        publisher = self.participants.get(speaker)
        camera = publisher.camera() if publisher is not None else None
        if camera is None or camera is subscription.source:
            return
        pending = subscription.pending
        if pending is not None and pending is not camera and pending is not subscription.source:
            pending.subscriptions.remove(subscription)
        if subscription not in camera.subscriptions:
            camera.subscriptions.append(subscription)
        subscription.switch_to(camera, now_ms)

    # --- helpers ---

    def _new_subscription(
        self, subscriber_id: str, kind: TrackKind, *, follows: bool
    ) -> Subscription:
        subscriber = self._participant(subscriber_id)
        ssrc = secrets.randbelow(1 << 32)
        while ssrc in self._subscriptions_by_ssrc:
            ssrc = secrets.randbelow(1 << 32)
        subscription = Subscription(
            subscriber_id=subscriber_id,
            transport=subscriber.transport,
            kind=kind,
            ssrc=ssrc,
            clock_rate_hz=VIDEO_CLOCK_HZ if kind.is_video else OPUS_CLOCK_HZ,
            request_keyframe=self._request_keyframe,
            source_committed=self._source_committed,
            follows_active_speaker=follows,
        )
        self._subscriptions_by_ssrc[ssrc] = subscription
        subscriber.subscriptions.append(subscription)
        return subscription

    def _source_committed(
        self,
        subscription: Subscription,
        previous: PublishedTrack | None,
        track: PublishedTrack,
    ) -> None:
        if previous is not None and subscription in previous.subscriptions:
            previous.subscriptions.remove(subscription)

    def _participant(self, participant_id: str) -> Participant:
        participant = self.participants.get(participant_id)
        if participant is None:
            raise ConfigError(f"no participant {participant_id!r} in room {self.room_id!r}")
        return participant

    def _internal_error(self, path: str) -> None:
        self.counters.internal_errors += 1
        count = self.counters.internal_errors
        # Logged at the 1st, 2nd, 4th, 8th... error: a bug that hits every
        # packet must not flood the log.
        if count & (count - 1) == 0:
            logger.warning("%s data path error [count:%d]", path, count, exc_info=True)
