"""The video receive pipeline beside the send pipeline: the stamped test
pattern through loss and reordering with NACKs answered, a lost frame
repaired by a PLI and a keyframe, temporal layers dropped on the way, the
asyncio playout loop, and the statistics."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import replace

import pytest

from cloudlink.media.playout_clock import PlayoutClock
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.media.video_sink import MemoryVideoSink
from cloudlink.media.video_source import PatternSource

WIDTH_PX, HEIGHT_PX = 320, 240
FRAME_MS = 1000 / 30


def _numbers(frames: list[VideoFrame]) -> list[int]:
    numbers = []
    for frame in frames:
        stamp = read_test_pattern(frame.pixels)
        assert stamp is not None, "a shown frame decoded into a damaged picture"
        numbers.append(stamp.frame_number)
    return numbers


def test_loss_and_reordering_repaired_by_nack_show_every_frame_in_order() -> None:
    # 10% loss of every transmission, 0-30 ms of jitter (reordering), a 40 ms
    # round trip; NACKs are answered from the sender's history.
    rng = random.Random(3)
    send = VideoSendPipeline(
        width_px=WIDTH_PX, height_px=HEIGHT_PX, max_payload_bytes=300, initial_sequence_number=65000
    )
    receive = VideoReceivePipeline(rtt_ms=40.0)
    frames = list(PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, duration_s=2.0))
    in_flight: list[tuple[float, RtpPayload]] = []
    shown: list[VideoFrame] = []

    def transmit(payload: RtpPayload, now_ms: float, *, spare: bool = False) -> None:
        if spare or rng.random() >= 0.1:
            in_flight.append((now_ms + 20.0 + rng.uniform(0.0, 30.0), payload))

    for tick in range(1300):
        now_ms = tick * 2.0
        # Step 1: capture (the first frame's packets are spared: nothing
        # could tell the receiver they are missing).
        while frames and frames[0].time_ms <= now_ms:
            frame = frames.pop(0)
            for payload in send.process(frame):
                transmit(payload, now_ms, spare=frame.time_ms == 0.0)
        # Step 2: arrivals, then what the receiver shows and asks for.
        for item in sorted(i for i in in_flight if i[0] <= now_ms):
            in_flight.remove(item)
            receive.insert(item[1], arrival_time_ms=item[0])
        shown += receive.poll(now_ms)
        for payload in send.retransmit(receive.nack_list(now_ms)):
            transmit(payload, now_ms + 20.0)

    numbers = _numbers(shown)
    # The last frame may lose its tail with nothing after it to reveal it.
    assert numbers[:59] == list(range(59))
    assert numbers == sorted(set(numbers))
    stats = receive.stats()
    assert stats["nackCount"] > 0 and stats["packetsRecovered"] > 0
    assert stats["pliCount"] == 0 and stats["keyFramesDecoded"] == 1
    assert stats["framesDecoded"] == stats["framesShown"] == len(shown)
    # Media time follows the RTP timestamps from the first frame.
    assert [round(f.time_ms) for f in shown[:3]] == [0, 33, 67]


@pytest.mark.parametrize(
    ("options", "requests_ms"),
    [({}, [0.0, 20.0, 60.0, 100.0]), ({"nack_repeat_delay_ms": 0.0}, [0.0, 40.0, 80.0])],
)
def test_a_lost_packet_is_nacked_again_20_ms_after_its_first_nack(
    options: dict[str, float], requests_ms: list[float]
) -> None:
    # By 20 ms a gap is past most reordering: the second request covers a
    # first one lost on the way, a round trip sooner than a retry would.
    send = VideoSendPipeline(
        width_px=WIDTH_PX, height_px=HEIGHT_PX, max_payload_bytes=300, initial_sequence_number=0
    )
    receive = VideoReceivePipeline(rtt_ms=40.0, **options)
    payloads = send.process(next(iter(PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX))))
    assert len(payloads) >= 3
    for payload in payloads:
        if payload.sequence_number != 1:
            receive.insert(payload, arrival_time_ms=0.0)
    asked = [t for t in range(101) if receive.nack_list(float(t)) == [1]]
    assert asked == requests_ms


def test_a_frame_lost_for_good_asks_for_a_keyframe_and_the_keyframe_resumes_the_video() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_sequence_number=0)
    receive = VideoReceivePipeline(rtt_ms=20.0, max_nack_retries=2)
    frames = iter(PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, duration_s=3.0))
    shown: list[VideoFrame] = []
    plis = 0
    for index in range(60):
        now_ms = index * FRAME_MS
        payloads = send.process(next(frames))
        # Frame 10 never arrives, and NACKs for it go unanswered.
        if index != 10:
            for payload in payloads:
                receive.insert(payload, arrival_time_ms=now_ms + 10.0)
        shown += receive.poll(now_ms + 10.0)
        receive.nack_list(now_ms + 10.0)
        if receive.keyframe_request(now_ms + 10.0):
            plis += 1
            send.request_keyframe()

    numbers = _numbers(shown)
    assert plis == 1 and send.keyframes_sent == 2
    assert numbers[:10] == list(range(10))
    # Frames between the loss and the keyframe cannot be decoded; after it,
    # every frame is shown again.
    resumed = numbers[10]
    assert resumed > 10 and numbers[10:] == list(range(resumed, 60))
    stats = receive.stats()
    assert stats["pliCount"] == 1 and stats["keyFramesDecoded"] == 2
    # Frame 10 never reached the receiver; 11.. arrived but could not be used.
    assert stats["framesDropped"] == resumed - 11


def test_a_lost_first_packet_is_repaired_by_a_pli_200_ms_after_packets_began() -> None:
    # Nothing before the first packet tells the receiver it is missing, so
    # no NACK can ask for it: the keyframe request must come by itself.
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, max_payload_bytes=300)
    receive = VideoReceivePipeline(pli_interval_ms=300.0)
    shown: list[VideoFrame] = []
    requests: list[float] = []
    for index, frame in enumerate(PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX)):
        now_ms = index * FRAME_MS
        payloads = send.process(frame)
        for payload in payloads[1:] if index == 0 else payloads:
            receive.insert(payload, arrival_time_ms=now_ms)
        shown += receive.poll(now_ms)
        receive.nack_list(now_ms)
        if receive.keyframe_request(now_ms):
            requests.append(now_ms)
            send.request_keyframe()
        if index == 30:
            break
    # One request, at the first poll 200 ms after the first arrival; the
    # keyframe it brings is the first picture, and every frame follows.
    assert len(requests) == 1 and 200.0 <= requests[0] < 200.0 + FRAME_MS
    numbers = _numbers(shown)
    assert numbers == list(range(numbers[0], 31))
    assert numbers[0] == round(requests[0] / FRAME_MS) + 1  # the frame after the request
    assert receive.stats()["pliCount"] == 1


@pytest.mark.parametrize(
    ("temporal_layers", "rewrite_sequence"),
    # Three layers behind an SFU that renumbers what it forwards (so no
    # gaps); two layers with the gaps left in, which the assembler reads
    # exactly from TL0PICIDX.
    [(3, True), (2, False)],
)
def test_dropping_the_top_temporal_layer_leaves_the_lower_layers_shown(
    temporal_layers: int, rewrite_sequence: bool
) -> None:
    send = VideoSendPipeline(
        width_px=WIDTH_PX,
        height_px=HEIGHT_PX,
        temporal_layers=temporal_layers,
        initial_sequence_number=0,
    )
    receive = VideoReceivePipeline(rtt_ms=20.0, max_nack_retries=1)
    shown: list[VideoFrame] = []
    forwarded: list[int] = []
    top = temporal_layers - 1
    sequence_number = 0
    source = PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, duration_s=2.0)
    for index, frame in enumerate(source):
        now_ms = index * FRAME_MS
        payloads = send.process(frame)
        if send.last_temporal_layer_id < top:
            forwarded.append(index)
            for payload in payloads:
                if rewrite_sequence:
                    payload = replace(payload, sequence_number=sequence_number)
                    sequence_number += 1
                receive.insert(payload, arrival_time_ms=now_ms)
        shown += receive.poll(now_ms)
        receive.nack_list(now_ms)
        receive.keyframe_request(now_ms)
    numbers = _numbers(shown)
    assert forwarded[:3] == [0, 2, 4]
    # Every forwarded frame is shown (the last may wait for the sequence gap
    # behind it), with no keyframe: the lower layers never needed the top.
    assert numbers == forwarded[: len(numbers)] and len(numbers) >= len(forwarded) - 1
    assert receive.stats()["keyFramesDecoded"] == 1
    assert receive.stats()["framesDropped"] == 0


def test_another_payload_type_is_dropped_and_counted() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, payload_type=100)
    receive = VideoReceivePipeline()
    payload = send.process(next(iter(PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX))))[0]
    assert not receive.insert(payload, arrival_time_ms=0.0)
    assert receive.stats()["packetsWrongPayloadType"] == 1
    assert receive.stats()["packetsReceived"] == 0


def test_play_shows_frames_on_the_asyncio_clock_and_sends_feedback() -> None:
    send = VideoSendPipeline(
        width_px=WIDTH_PX, height_px=HEIGHT_PX, max_payload_bytes=200, initial_sequence_number=0
    )
    receive = VideoReceivePipeline(rtt_ms=30.0)
    sink = MemoryVideoSink()
    feedback: list[tuple[list[int], bool]] = []
    clock = PlayoutClock(period_ms=5.0)

    async def sender() -> None:
        source = PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, duration_s=0.3)
        dropped = None
        async for frame in source:
            for payload in send.process(frame):
                # One packet of the third frame is lost on its first trip.
                if dropped is None and payload.timestamp != send.initial_timestamp:
                    if frame.time_ms > 60.0:
                        dropped = payload.sequence_number
                        continue
                receive.insert(payload, arrival_time_ms=clock.now_ms())
            await asyncio.sleep(FRAME_MS / 1000)

    def answer(missing: list[int], pli: bool) -> None:
        feedback.append((missing, pli))
        for payload in send.retransmit(missing):
            receive.insert(payload, arrival_time_ms=clock.now_ms())

    async def main() -> None:
        # The player runs until cancelled, as in a call; it stops 100 ms
        # after the last frame was sent, however slow the machine.
        player = asyncio.create_task(receive.play(clock, sink, feedback=answer))
        await sender()
        await asyncio.sleep(0.1)
        player.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await player

    asyncio.run(main())
    numbers = _numbers(sink.frames)
    assert numbers == list(range(len(numbers))) and len(numbers) >= 8
    assert feedback and feedback[0][0] and not feedback[0][1]
    assert receive.stats()["packetsRecovered"] == 1
    # One tick per 5 ms of the 0.4 s or more the call lasted.
    assert clock.ticks_served >= 80


def test_stats_carry_the_w3c_names() -> None:
    stats = VideoReceivePipeline().stats()
    for key in (
        "framesReceived",
        "framesDecoded",
        "framesDropped",
        "keyFramesDecoded",
        "freezeCount",
        "totalFreezesDuration",
        "nackCount",
        "pliCount",
    ):
        assert stats[key] == 0, key
