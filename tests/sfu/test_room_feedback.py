"""Feedback through the room: NACKs answered from the packet cache with the
subscriber's numbering, PLIs to the publisher rate limited, sender reports
rewritten, receiver reports consumed."""

from __future__ import annotations

from typing import Any

import pytest
from _sfu_streams import MemoryTransport, VideoPublisher, VideoSubscriber, published

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.sfu import Room, TrackKind

PUBLISHER_SSRC = 0xABCD


def _room(subscribers: int) -> tuple[Room, VideoPublisher, list[VideoSubscriber]]:
    room = Room(room_id="r2")
    publisher = VideoPublisher(ssrc=PUBLISHER_SSRC)
    room.add_participant("alice", publisher.transport)
    room.publish("alice", track_id="cam", kind=TrackKind.CAMERA, ssrc=PUBLISHER_SSRC)
    out = []
    for index in range(subscribers):
        subscriber = VideoSubscriber()
        room.add_participant(f"s{index}", subscriber.transport)
        room.subscribe(f"s{index}", "cam", now_ms=0.0)
        out.append(subscriber)
    return room, publisher, out


def _feed(room: Room, publisher: VideoPublisher, frames: int) -> float:
    time_ms = 0.0
    for _ in range(frames):
        time_ms, datagrams = publisher.next_frame()
        for datagram in datagrams:
            room.receive("alice", datagram, now_ms=time_ms)
    return time_ms


def _nack(media_ssrc: int, numbers: list[int]) -> bytes:
    return _native.serialize_rtcp(
        [_native.RtcpNack(sender_ssrc=9, media_ssrc=media_ssrc, sequence_numbers=numbers)]
    )


def test_nack_is_answered_from_the_cache_with_the_packet_as_first_forwarded() -> None:
    room, publisher, (full, base) = _room(2)
    subscriptions = room.participants["s0"].subscriptions + room.participants["s1"].subscriptions
    _feed(room, publisher, 20)
    room.receive("s1", _native.serialize_rtcp([_native.RtcpRemb(bitrate_bps=1000)]), now_ms=700)
    _feed(room, publisher, 20)
    for subscriber, subscription in zip((full, base), subscriptions, strict=True):
        sent = subscriber.transport.take_rtp()
        by_number = {_native.RtpPacket.parse(d).sequence_number: d for d in sent}
        # Three packets of the latest second, in the subscriber's numbering.
        asked = [_native.RtpPacket.parse(d).sequence_number for d in sent[-40:-10:10]]
        room.receive(subscriber_name(room, subscription), _nack(subscription.ssrc, asked))
        assert subscriber.transport.take_rtp() == [by_number[n] for n in asked]
        assert subscription.packets_retransmitted == 3
    assert room.counters.nacks_received == 2 and room.counters.nack_cache_misses == 0
    # Nothing was asked of the publisher.
    assert not any(isinstance(p, _native.RtcpNack) for p in publisher.transport.rtcp_packets())


def subscriber_name(room: Room, subscription: object) -> str:
    return next(name for name, p in room.participants.items() if subscription in p.subscriptions)


def test_nack_for_a_packet_the_cache_lost_goes_to_the_publisher() -> None:
    room, publisher, (subscriber,) = _room(1)
    subscription = room.participants["s0"].subscriptions[0]
    _feed(room, publisher, 5)
    first = _native.RtpPacket.parse(subscriber.transport.rtp[0]).sequence_number
    track = published(room, "cam")
    track.cache.clear()
    room.receive("s0", _nack(subscription.ssrc, [first]), now_ms=200.0)
    nacks = [p for p in publisher.transport.rtcp_packets() if isinstance(p, _native.RtcpNack)]
    assert len(nacks) == 1 and nacks[0].media_ssrc == PUBLISHER_SSRC
    # The first forwarded packet was the publisher's first (a keyframe starts the stream).
    first_published = (publisher.send._sequence_number - track.packets_received) % 65536
    assert nacks[0].sequence_numbers == [first_published]
    assert room.counters.nack_cache_misses == 1


def test_packets_lost_on_the_way_in_are_nacked_upstream_and_reach_every_subscriber() -> None:
    room, publisher, (full, base) = _room(2)
    lost = []
    for index in range(60):
        if index == 20:
            room.receive("s1", _native.serialize_rtcp([_native.RtcpRemb(bitrate_bps=1000)]))
        time_ms, datagrams = publisher.next_frame()
        for position, datagram in enumerate(datagrams):
            # The second packet of base-layer frame 32 and of top-layer frame 33 are lost.
            if index in (32, 33) and position == 1 and len(lost) < 2:
                lost.append(_native.RtpPacket.parse(datagram).sequence_number)
                continue
            room.receive("alice", datagram, now_ms=time_ms)
        for subscriber in (full, base):
            subscriber.deliver(time_ms + 5.0)
    assert len(lost) == 2 and publisher.nacked == lost
    assert room.counters.nacks_sent_upstream == 2
    stats = room.stats()
    track = stats["tracks"]["cam"]  # type: ignore[index]
    assert track["nackCount"] == 2 and track["packetsReceived"] > 100
    subscriptions: Any = stats["subscriptions"]
    full_stats, base_stats = (subscriptions[name][0] for name in ("s0", "s1"))
    assert full_stats["temporalLayer"] == 2 and base_stats["temporalLayer"] == 0
    assert base_stats["packetsDropped"] > 0 and full_stats["packetsDropped"] == 0
    assert full.frame_numbers == list(range(60))
    assert [n for n in base.frame_numbers if n > 21] == list(range(24, 60, 4))
    for subscriber in (full, base):
        assert subscriber.receive.stats()["framesDropped"] == 0


def test_keyframe_requests_reach_the_publisher_at_most_every_500_ms() -> None:
    room, publisher, subscribers = _room(4)
    _feed(room, publisher, 3)
    publisher.transport.rtcp_packets()  # the PLIs asking for the first keyframe
    sent_at = []
    for step in range(40):
        now_ms = 1000.0 + step * 50.0
        for index, name in enumerate(room.participants):
            if name == "alice":
                continue
            ssrc = room.participants[name].subscriptions[0].ssrc
            request: _native._RtcpPacket = (
                _native.RtcpPli(sender_ssrc=1, media_ssrc=ssrc)
                if index % 2
                else _native.RtcpFir(sender_ssrc=1, media_ssrc=0, entries=[(ssrc, step % 256)])
            )
            room.receive(name, _native.serialize_rtcp([request]), now_ms=now_ms)
        plis = [p for p in publisher.transport.rtcp_packets() if isinstance(p, _native.RtcpPli)]
        assert all(p.media_ssrc == PUBLISHER_SSRC for p in plis)
        sent_at += [now_ms] * len(plis)
    # 160 requests over 2 s: one PLI at once, then one per 500 ms.
    assert sent_at == [1000.0, 1500.0, 2000.0, 2500.0, 2950.0][: len(sent_at)]
    assert len(sent_at) == 4
    assert room.counters.keyframe_requests_received == 160
    assert room.counters.keyframe_requests_suppressed >= 156
    assert len(subscribers) == 4


def test_sender_reports_are_rewritten_and_receiver_reports_consumed() -> None:
    room, publisher, (subscriber,) = _room(1)
    subscription = room.participants["s0"].subscriptions[0]
    _feed(room, publisher, 3)
    last = _native.RtpPacket.parse(subscriber.transport.rtp[-1])
    published_timestamp = publisher.send.timestamp_for(2 * 1000 / 30)
    report = _native.RtcpSenderReport(
        ssrc=PUBLISHER_SSRC, ntp_timestamp=123 << 32, rtp_timestamp=published_timestamp
    )
    room.receive("alice", _native.serialize_rtcp([report]), now_ms=100.0)
    (forwarded,) = subscriber.transport.rtcp_packets()
    assert isinstance(forwarded, _native.RtcpSenderReport)
    assert forwarded.ssrc == subscription.ssrc and forwarded.ntp_timestamp == 123 << 32
    assert forwarded.rtp_timestamp == last.timestamp
    assert forwarded.packet_count == len(subscriber.transport.rtp)
    block = _native.RtcpReportBlock(ssrc=subscription.ssrc, fraction_lost=25, jitter=90)
    room.receive(
        "s0", _native.serialize_rtcp([_native.RtcpReceiverReport(ssrc=5, report_blocks=[block])])
    )
    assert subscription.fraction_lost == 25 and subscription.jitter == 90
    # The receiver report went nowhere.
    assert not publisher.transport.rtcp and not subscriber.transport.rtcp


def test_publishers_get_receiver_reports_on_their_uplink() -> None:
    room = Room(room_id="rr")
    transport = MemoryTransport()
    room.add_participant("alice", transport)
    room.publish("alice", track_id="mic", kind=TrackKind.AUDIO, ssrc=PUBLISHER_SSRC)
    sender_report = _native.RtcpSenderReport(
        ssrc=PUBLISHER_SSRC, ntp_timestamp=(77 << 32) | (5 << 16)
    )
    lost = {17, 18, 40, 61, 90}
    for sequence in range(100):
        time_ms = 20.0 * sequence
        if sequence == 10:
            room.receive("alice", _native.serialize_rtcp([sender_report]), now_ms=time_ms)
        if sequence in lost:
            continue
        packet = _native.RtpPacket(
            payload_type=111,
            sequence_number=sequence,
            timestamp=960 * sequence,
            ssrc=PUBLISHER_SSRC,
            payload=bytes(60),
        )
        room.receive("alice", packet.serialize(), now_ms=time_ms)
    reports = [p for p in transport.rtcp_packets() if isinstance(p, _native.RtcpReceiverReport)]
    # Two seconds of media: one report per half second, the first at once.
    assert len(reports) == 4
    assert room.counters.receiver_reports_sent == 4
    assert {r.ssrc for r in reports} == {room.participants["alice"].rtcp_ssrc}
    (block,) = reports[-1].report_blocks
    assert block.ssrc == PUBLISHER_SSRC
    # Up to the report's time (1.5 s, packet 75): 17, 18, 40 and 61 missing.
    assert block.cumulative_lost == 4
    assert block.extended_highest_sequence == 75
    # LSR: the middle 32 bits of the SR's NTP time; DLSR in 1/65536 s since it came.
    assert block.last_sr == (77 << 16) | 5
    assert abs(block.delay_since_last_sr - (1500.0 - 200.0) * 65.536) <= 1.0


def _audio_packet(sequence: int) -> bytes:
    return _native.RtpPacket(
        payload_type=111,
        sequence_number=sequence,
        timestamp=960 * sequence,
        ssrc=PUBLISHER_SSRC,
        payload=bytes(60),
    ).serialize()


def test_a_paused_track_is_not_forwarded_and_resumes_without_a_gap() -> None:
    room = Room(room_id="mute")
    publisher, listener = MemoryTransport(), MemoryTransport()
    room.add_participant("alice", publisher)
    room.add_participant("bob", listener)
    room.publish("alice", track_id="mic", kind=TrackKind.AUDIO, ssrc=PUBLISHER_SSRC)
    room.subscribe("bob", "mic", now_ms=0.0)
    for sequence in range(100):
        if sequence == 20:
            room.set_paused("mic", True)
        if sequence == 70:
            room.set_paused("mic", False, now_ms=20.0 * sequence)
        room.receive("alice", _audio_packet(sequence), now_ms=20.0 * sequence)
    forwarded = [_native.RtpPacket.parse(data) for data in listener.take_rtp()]
    # 50 packets held back while muted, the rest forwarded in one unbroken numbering.
    assert len(forwarded) == 50
    assert room.counters.rtp_paused == 50
    numbers = [packet.sequence_number for packet in forwarded]
    assert numbers == list(range(numbers[0], numbers[0] + 50))
    # The timestamps jump by the time the pause lasted, as across a DTX gap.
    step = forwarded[20].timestamp - forwarded[19].timestamp
    assert step == 960 * 51
    # Paused packets still count for the publisher's uplink report.
    assert published(room, "mic").statistics.packets_received == 100


def test_pausing_an_unknown_track_is_refused() -> None:
    room = Room(room_id="mute")
    with pytest.raises(ConfigError, match="nope"):
        room.set_paused("nope", True)
