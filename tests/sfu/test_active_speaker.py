"""Active speaker from RFC 6464 levels: the detector alone on made-up
levels, then a room of two talkers (real speech through the real Opus
pipeline, real video) whose active-speaker video slot follows the louder."""

from __future__ import annotations

import heapq
import itertools

from _sfu_streams import VideoPublisher, VideoSubscriber, audio_datagrams, published

from cloudlink import _native
from cloudlink.sfu import ActiveSpeakerDetector, Room, TrackKind


def _run_levels(
    detector: ActiveSpeakerDetector,
    levels: dict[str, list[tuple[float, int]]],
    start_ms: float,
    until_ms: float,
) -> None:
    """Feeds each speaker's (from time, level) steps every 20 ms."""
    for step in range(int(start_ms // 20), int(until_ms // 20)):
        now_ms = step * 20.0
        for name, steps in levels.items():
            level = [lv for start, lv in steps if start <= now_ms][-1]
            detector.update(name, level, now_ms)


def test_louder_talker_takes_over_only_after_the_hold_time() -> None:
    events: list[tuple[float, str | None, str | None]] = []
    clock = {"now": 0.0}
    detector = ActiveSpeakerDetector(
        on_change=lambda new, old: events.append((clock["now"], new, old)), min_hold_ms=1000.0
    )
    levels = {
        # alice talks (-25 dBov) from the start, bob is quiet (-70) but
        # shouts (-10) from 200 ms to 400 ms, and talks from 2 s on while alice stops.
        "alice": [(0.0, 25), (2000.0, 80)],
        "bob": [(0.0, 70), (200.0, 10), (400.0, 70), (2000.0, 20)],
    }
    for step in range(4000 // 20):
        clock["now"] = now_ms = step * 20.0
        for name, steps in levels.items():
            detector.update(name, [lv for start, lv in steps if start <= now_ms][-1], now_ms)
    assert [(new, old) for _, new, old in events] == [("alice", None), ("bob", "alice")]
    assert events[0][0] < 100.0
    # Bob's shout came within alice's hold; his talk takes over once smoothing has moved.
    assert 2000.0 < events[1][0] < 2600.0


def test_silence_elects_nobody_and_a_leaving_speaker_hands_over() -> None:
    detector = ActiveSpeakerDetector(min_hold_ms=0.0)
    _run_levels(detector, {"a": [(0.0, 127)], "b": [(0.0, 100)]}, 0.0, 1000.0)
    assert detector.current is None
    _run_levels(detector, {"a": [(0.0, 30)], "b": [(0.0, 40)]}, 1000.0, 2000.0)
    assert detector.current == "a"
    detector.remove("a", 2000.0)
    assert detector.current == "b"


def test_room_slot_follows_the_louder_talker_seamlessly() -> None:
    events: list[tuple[float, str | None, str | None]] = []
    clock = {"now": 0.0}
    room = Room(
        room_id="r3",
        on_active_speaker=lambda _room, new, old: events.append((clock["now"], new, old)),
    )
    publishers = {
        "alice": VideoPublisher(ssrc=0xA1, bitrate_bps=400_000),
        "bob": VideoPublisher(ssrc=0xB1, bitrate_bps=250_000),
    }
    for name, publisher in publishers.items():
        room.add_participant(name, publisher.transport)
        room.publish(name, track_id=f"{name}-cam", kind=TrackKind.CAMERA, ssrc=publisher.ssrc)
        room.publish(name, track_id=f"{name}-mic", kind=TrackKind.AUDIO, ssrc=publisher.ssrc + 1)
    carol = VideoSubscriber()
    room.add_participant("carol", carol.transport)
    slot = room.subscribe_active_speaker("carol", now_ms=0.0)
    audio = [room.subscribe("carol", f"{n}-mic", now_ms=0.0) for n in publishers]

    # Alice loud and bob quiet for 3 s, then the other way round.
    def talk(
        name: str, ssrc: int, gains: list[tuple[float, float]]
    ) -> list[tuple[float, str, bytes]]:
        stream = audio_datagrams(name, ssrc=ssrc, gains=gains, duration_s=6.0)
        return [(t, name, d) for t, d in stream]

    audio_stream = list(
        heapq.merge(
            talk("alice", 0xA2, [(0.0, 1.0), (3000.0, 0.02)]),
            talk("bob", 0xB2, [(0.0, 0.02), (3000.0, 1.0)]),
        )
    )
    published_payloads: dict[str, set[bytes]] = {name: set() for name in publishers}
    video_times = [(i * 1000.0 / 30.0, name) for i in range(180) for name in publishers]
    events_in = heapq.merge(
        ((t, 0, name, b"") for t, name in video_times),
        ((t, 1, name, d) for t, name, d in audio_stream),
    )
    for time_ms, is_audio, name, datagram in events_in:
        clock["now"] = time_ms
        if is_audio:
            room.receive(name, datagram, now_ms=time_ms)
            continue
        _, datagrams = publishers[name].next_frame()
        for data in datagrams:
            published_payloads[name].add(
                _native.vp8_depacketize(_native.RtpPacket.parse(data).payload).data
            )
            room.receive(name, data, now_ms=time_ms)
        if name == "bob":
            carol.deliver(time_ms + 5.0)

    carol.deliver(6100.0)

    # The floor went to alice at once and to bob after the swap at 3 s.
    assert [(new, old) for _, new, old in events] == [("alice", None), ("bob", "alice")]
    assert events[0][0] < 500.0 and 3000.0 < events[1][0] < 4000.0

    # Carol's slot: one SSRC, no sequence gap, timestamps rising by about a frame at the switch.
    videos = [d for d in carol.sequences if d == slot.ssrc]
    assert videos == [slot.ssrc]
    numbers = carol.sequences[slot.ssrc]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(numbers))
    stamps = carol.timestamps[slot.ssrc]
    steps = [(b - a) % 2**32 for a, b in itertools.pairwise(stamps) if a != b]
    assert all(0 < step <= 2 * 3000 for step in steps)
    assert carol.receive.stats()["framesDropped"] == 0
    assert carol.receive.stats()["nackCount"] == 0
    shown = carol.frame_numbers
    assert -1 not in shown and shown == sorted(shown) and len(shown) >= 170
    # Her audio streams went through untouched but renumbered.
    for subscription in audio:
        sequences = carol.sequences[subscription.ssrc]
        assert len(sequences) == 300
        assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))
    assert slot.source is published(room, "bob-cam")
    # Alice's pictures first, then bob's, nothing else.
    sources = [
        "alice" if data in published_payloads["alice"] else "bob"
        for data in carol.vp8_data[slot.ssrc]
        if data in published_payloads["alice"] or data in published_payloads["bob"]
    ]
    assert len(sources) == len(carol.vp8_data[slot.ssrc])
    switch = sources.index("bob")
    assert switch > 100 and set(sources[:switch]) == {"alice"} and set(sources[switch:]) == {"bob"}
