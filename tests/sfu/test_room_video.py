"""Video through the room: the real VP8 encoder with three temporal layers
on the publishing side, the real receive pipeline on each subscriber's,
layers dropped per subscriber by its REMB estimate."""

from __future__ import annotations

import itertools

from _sfu_streams import VideoPublisher, VideoSubscriber, published

from cloudlink import _native
from cloudlink.sfu import Room, TrackKind

PUBLISHER_SSRC = 0x1234


def _remb(bitrate_bps: int, media_ssrc: int) -> bytes:
    return _native.serialize_rtcp(
        [_native.RtcpRemb(sender_ssrc=7, bitrate_bps=bitrate_bps, ssrcs=[media_ssrc])]
    )


def _contiguous(numbers: list[int]) -> bool:
    return all((b - a) % 65536 == 1 for a, b in itertools.pairwise(numbers))


def test_dropped_layers_leave_no_sequence_gap_and_every_frame_decodes() -> None:
    room = Room(room_id="r1")
    publisher = VideoPublisher(ssrc=PUBLISHER_SSRC)
    room.add_participant("alice", publisher.transport)
    room.publish("alice", track_id="alice-cam", kind=TrackKind.CAMERA, ssrc=PUBLISHER_SSRC)
    # Full rate, the base layer only (1 frame in 4), the lower two layers (1 in 2).
    budgets_bps = {"bob": 10_000_000, "carol": 1_000, "dave": None}
    subscribers = {}
    for name in budgets_bps:
        subscriber = VideoSubscriber()
        room.add_participant(name, subscriber.transport)
        subscribers[name] = (subscriber, room.subscribe(name, "alice-cam", now_ms=0.0))
    picture_ids: dict[str, list[int]] = {name: [] for name in budgets_bps}

    for index in range(90):
        time_ms, datagrams = publisher.next_frame()
        if index == 20:
            # Rates measured by now; dave gets just over what the lower two layers need.
            rates = published(room, "alice-cam").bitrate_meter.rates_bps
            assert len(rates) == 3 and rates[0] < rates[1] < rates[2]
            budgets_bps["dave"] = int(rates[1] * 1.3)
            for name, budget in budgets_bps.items():
                assert budget is not None
                room.receive(name, _remb(budget, subscribers[name][1].ssrc), now_ms=time_ms)
        for datagram in datagrams:
            room.receive("alice", datagram, now_ms=time_ms)
        for name, (subscriber, _) in subscribers.items():
            for data in subscriber.transport.rtp:
                descriptor = _native.vp8_depacketize(_native.RtpPacket.parse(data).payload)
                if descriptor.frame_start and descriptor.picture_id is not None:
                    picture_ids[name].append(descriptor.picture_id)
            subscriber.deliver(time_ms + 5.0)

    for name, (subscriber, subscription) in subscribers.items():
        # One SSRC, the subscription's, and no gap for dropped frames.
        assert list(subscriber.sequences) == [subscription.ssrc]
        assert _contiguous(subscriber.sequences[subscription.ssrc]), name
        # Picture ids count the frames forwarded (15 bits).
        ids = picture_ids[name]
        assert all((b - a) % 32768 == 1 for a, b in itertools.pairwise(ids)), name
        stats = subscriber.receive.stats()
        assert stats["nackCount"] == 0 and stats["framesDropped"] == 0, (name, stats)
        # Every frame shown is a test-pattern frame, in order.
        shown = subscriber.frame_numbers
        assert -1 not in shown and shown == sorted(shown), name
    full = subscribers["bob"][0].frame_numbers
    base = subscribers["carol"][0].frame_numbers
    half = subscribers["dave"][0].frame_numbers
    assert full == list(range(90))
    # After the REMB (frame 20) carol sees only base frames, dave base and middle.
    assert [n for n in base if n > 20] == [n for n in range(21, 90) if n % 4 == 0]
    assert [n for n in half if n > 20] == [n for n in range(21, 90) if n % 2 == 0]
    assert room.counters.internal_errors == 0


def test_layer_goes_down_at_once_and_up_with_headroom_after_a_keyframe() -> None:
    room = Room(room_id="r1")
    publisher = VideoPublisher(ssrc=PUBLISHER_SSRC)
    room.add_participant("alice", publisher.transport)
    room.publish("alice", track_id="alice-cam", kind=TrackKind.CAMERA, ssrc=PUBLISHER_SSRC)
    subscriber = VideoSubscriber()
    room.add_participant("bob", subscriber.transport)
    subscription = room.subscribe("bob", "alice-cam", now_ms=0.0)
    shown_per_phase: list[int] = []
    track = published(room, "alice-cam")

    def run(frames: int) -> None:
        before = len(subscriber.frame_numbers)
        for _ in range(frames):
            time_ms, datagrams = publisher.next_frame()
            for datagram in datagrams:
                room.receive("alice", datagram, now_ms=time_ms)
            subscriber.deliver(time_ms + 5.0)
        shown_per_phase.append(len(subscriber.frame_numbers) - before)

    run(30)  # full rate while nothing is measured
    rates = track.bitrate_meter.rates_bps
    now_ms = 1000.0
    room.receive("bob", _remb(int(rates[0] * 1.1), subscription.ssrc), now_ms=now_ms)
    assert subscription.selector.target_layer == 0
    run(40)
    plis_before = publisher.plis
    # Just above the middle layer's rate, but not by the 25% headroom: stays down.
    rates = track.bitrate_meter.rates_bps
    room.receive("bob", _remb(int(rates[1] * 1.1), subscription.ssrc), now_ms=2400.0)
    assert subscription.selector.target_layer == 0
    run(40)
    # With headroom for everything: up, at the keyframe the SFU asks for.
    rates = track.bitrate_meter.rates_bps
    room.receive("bob", _remb(int(rates[2] * 2), subscription.ssrc), now_ms=3800.0)
    assert subscription.selector.target_layer == 2
    run(40)
    assert publisher.plis > plis_before
    assert shown_per_phase[0] == 30
    assert shown_per_phase[1] == 10 and shown_per_phase[2] == 10
    # All frames from the keyframe on (the PLI answered within a frame or two).
    assert shown_per_phase[3] >= 36
    assert _contiguous(subscriber.sequences[subscription.ssrc])
    assert -1 not in subscriber.frame_numbers


def test_screen_share_is_a_track_of_its_own_and_served_first() -> None:
    room = Room(room_id="r1")
    camera = VideoPublisher(ssrc=0xC0)
    screen = VideoPublisher(ssrc=0x5C)
    room.add_participant("alice", camera.transport)
    room.publish("alice", track_id="cam", kind=TrackKind.CAMERA, ssrc=camera.ssrc)
    room.publish("alice", track_id="screen", kind=TrackKind.SCREEN, ssrc=screen.ssrc)
    bob = VideoSubscriber()
    room.add_participant("bob", bob.transport)
    to_camera = room.subscribe("bob", "cam", now_ms=0.0)
    to_screen = room.subscribe("bob", "screen", now_ms=0.0)
    for index in range(60):
        if index == 30:
            # Room for the whole screen share and the camera's base layer only.
            screen_bps = published(room, "screen").bitrate_meter.rates_bps
            camera_bps = published(room, "cam").bitrate_meter.rates_bps
            budget = int(screen_bps[2] + camera_bps[0] * 1.05)
            room.receive("bob", _remb(budget, to_camera.ssrc), now_ms=1000.0)
            assert to_screen.selector.target_layer == 2
            assert to_camera.selector.target_layer == 0
        for publisher in (camera, screen):
            time_ms, datagrams = publisher.next_frame()
            for datagram in datagrams:
                room.receive("alice", datagram, now_ms=time_ms)
    # Two streams under two SSRCs of bob's, each without gaps.
    assert set(bob.transport.rtp) and len({d[8:12] for d in bob.transport.rtp}) == 2
    for subscription, frames in ((to_screen, 60), (to_camera, 30 + 30 // 4)):
        numbers = [
            _native.RtpPacket.parse(d).sequence_number
            for d in bob.transport.rtp
            if int.from_bytes(d[8:12], "big") == subscription.ssrc
        ]
        assert _contiguous(numbers)
        marks = [
            d
            for d in bob.transport.rtp
            if int.from_bytes(d[8:12], "big") == subscription.ssrc
            and _native.RtpPacket.parse(d).marker
        ]
        assert len(marks) == frames
