"""The video send pipeline: RTP numbering and 90 kHz timestamps, keyframes
on request, bitrate changes without keyframes, answers to NACKs; the
encode on a thread pool, one frame at a time."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from cloudlink import _native
from cloudlink.errors import CodecError, ConfigError
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.media.video_source import PatternSource

WIDTH_PX, HEIGHT_PX = 320, 240


def _frames(count: int, *, fps: float = 30.0) -> list[VideoFrame]:
    source = PatternSource(
        width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=fps, duration_s=count / fps
    )
    return list(source)


def _keyframe(payloads: list[RtpPayload]) -> bool:
    return bool(_native.vp8_depacketize(payloads[0].payload).keyframe)


def test_payloads_are_numbered_and_timed_like_rtp_and_wrap() -> None:
    send = VideoSendPipeline(
        width_px=WIDTH_PX,
        height_px=HEIGHT_PX,
        max_payload_bytes=300,
        initial_sequence_number=65530,
        initial_timestamp=2**32 - 6000,
    )
    per_frame = [send.process(frame) for frame in _frames(5)]
    flat = [p for payloads in per_frame for p in payloads]
    # Sequence numbers run on across frames and wrap at 16 bits.
    assert [p.sequence_number for p in flat] == [(65530 + i) % 65536 for i in range(len(flat))]
    assert flat[0].sequence_number == 65530 and any(p.sequence_number < 100 for p in flat)
    for index, payloads in enumerate(per_frame):
        # One timestamp per frame, 3000 ticks of 90 kHz apart at 30 fps, wrapping at 32 bits.
        assert {p.timestamp for p in payloads} == {(2**32 - 6000 + 3000 * index) % 2**32}
        assert [p.marker for p in payloads] == [False] * (len(payloads) - 1) + [True]
        assert all(p.payload_type == 96 for p in payloads)
        # The payloads of a frame reassemble into one VP8 frame.
        assert len(_native.vp8_assemble([p.payload for p in payloads])) > 0
    assert send.frames_sent == 5 and send.packets_sent == len(flat)


def test_timestamps_follow_the_capture_time_not_the_nominal_rate() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_timestamp=1000)
    frames = _frames(3)
    stamps = [
        send.process(VideoFrame(f.pixels, time_ms))[0].timestamp
        for f, time_ms in zip(frames, [500.0, 540.0, 600.5], strict=True)
    ]
    assert stamps == [1000, 1000 + 3600, 1000 + 9045]


def test_a_keyframe_request_makes_exactly_the_next_frame_a_keyframe() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX)
    frames = _frames(8)
    keys = [_keyframe(send.process(frame)) for frame in frames[:4]]
    send.request_keyframe()
    keys += [_keyframe(send.process(frame)) for frame in frames[4:]]
    assert keys == [True, False, False, False, True, False, False, False]
    assert send.keyframes_sent == 2


def test_a_bitrate_change_takes_effect_without_a_keyframe() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, bitrate_bps=150_000)
    frames = _frames(60)
    low = [send.process(frame) for frame in frames[:30]]
    send.bitrate_bps = 1_200_000
    assert send.bitrate_bps == 1_200_000
    high = [send.process(frame) for frame in frames[30:]]
    assert not any(_keyframe(payloads) for payloads in high)

    def size(runs: list[list[RtpPayload]]) -> int:
        return sum(len(p.payload) for payloads in runs for p in payloads)

    # The rate control follows within a few frames: the last 20 frames at
    # 8x the rate are far larger than the last 20 at the low rate.
    assert size(high[10:]) > 3 * size(low[10:])


def test_a_new_frame_size_rebuilds_the_encoder_with_a_keyframe() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX)
    send.process(_frames(1)[0])
    small = PatternSource(width_px=160, height_px=120, duration_s=0.1)
    payloads = send.process(next(iter(small)))
    info = _native.vp8_depacketize(payloads[0].payload)
    assert info.keyframe and (info.width_px, info.height_px) == (160, 120)


def test_nacked_payloads_are_sent_again_unchanged_while_in_the_history() -> None:
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_sequence_number=0)
    sent = [p for frame in _frames(3) for p in send.process(frame)]
    asked = [sent[2].sequence_number, 40000, sent[0].sequence_number]
    assert send.retransmit(asked) == [sent[2], sent[0]]
    assert send.packets_retransmitted == 2
    # A long stream pushes the first payloads out of the history.
    for frame in _frames(200):
        send.process(frame)
    assert send.retransmit([sent[0].sequence_number]) == []


def test_packetize_takes_async_and_plain_iterables() -> None:
    frames = _frames(3)

    async def from_async() -> list[RtpPayload]:
        async def produce():  # type: ignore[no-untyped-def]
            for frame in frames:
                yield frame

        send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_sequence_number=7)
        return [p async for p in send.packetize(produce())]

    async def from_list() -> list[RtpPayload]:
        send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_sequence_number=7)
        return [p async for p in send.packetize(frames)]

    a, b = asyncio.run(from_async()), asyncio.run(from_list())
    assert [p.sequence_number for p in a] == [p.sequence_number for p in b]
    assert sum(p.marker for p in a) == 3


@pytest.mark.parametrize(
    ("options", "named"),
    [({"payload_type": 128}, "payload_type"), ({"width_px": 321}, "width")],
)
def test_bad_options_are_rejected_naming_them(options: dict[str, int], named: str) -> None:
    kwargs = {"width_px": WIDTH_PX, "height_px": HEIGHT_PX, **options}
    with pytest.raises((ConfigError, ValueError), match=named):
        VideoSendPipeline(**kwargs)


def _pair() -> tuple[VideoSendPipeline, VideoSendPipeline]:
    def make() -> VideoSendPipeline:
        return VideoSendPipeline(
            width_px=WIDTH_PX, height_px=HEIGHT_PX, initial_sequence_number=7, initial_timestamp=9
        )

    return make(), make()


def test_an_encode_on_a_thread_gives_what_the_inline_one_gives() -> None:
    frames = _frames(4)
    inline, threaded = _pair()
    expected = [inline.process(frame) for frame in frames]

    async def run() -> list[list[RtpPayload]]:
        with ThreadPoolExecutor(max_workers=2) as executor:
            return [await threaded.process_async(f, executor=executor) for f in frames]

    assert asyncio.run(run()) == expected
    assert threaded.frames_sent == 4
    assert threaded.retransmit([7]) == [expected[0][0]]


def test_concurrent_calls_encode_one_at_a_time_in_call_order() -> None:
    frames = _frames(3)
    inline, threaded = _pair()
    expected = [inline.process(frame) for frame in frames]

    async def run() -> list[list[RtpPayload]]:
        with ThreadPoolExecutor(max_workers=3) as executor:
            calls = [threaded.process_async(f, executor=executor) for f in frames]
            return list(await asyncio.gather(*calls))

    assert asyncio.run(run()) == expected


def test_nothing_else_touches_the_encoder_while_it_encodes() -> None:
    frames = _frames(2)
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX, bitrate_bps=300_000)
    seen: dict[str, object] = {}

    async def run() -> None:
        with ThreadPoolExecutor(max_workers=1) as executor:
            call = asyncio.ensure_future(send.process_async(frames[0], executor=executor))
            await asyncio.sleep(0)  # the encode is in flight now
            send.bitrate_bps = 500_000
            seen["asked"] = send.bitrate_bps
            seen["encoder during"] = send.encoder.bitrate_bps
            with pytest.raises(CodecError, match="in flight"):
                send.process(frames[1])
            with pytest.raises(ConfigError, match="bitrate_bps"):
                send.bitrate_bps = 5
            await call
            seen["encoder after"] = send.encoder.bitrate_bps

    asyncio.run(run())
    assert seen == {"asked": 500_000, "encoder during": 300_000, "encoder after": 500_000}
    assert send.bitrate_bps == 500_000
    assert _keyframe(send.process(frames[1])) is False


def test_a_cancelled_encode_finishes_before_the_next_which_is_a_keyframe() -> None:
    frames = _frames(3)
    send = VideoSendPipeline(width_px=WIDTH_PX, height_px=HEIGHT_PX)

    async def run() -> list[RtpPayload]:
        with ThreadPoolExecutor(max_workers=2) as executor:
            await send.process_async(frames[0], executor=executor)
            call = asyncio.ensure_future(send.process_async(frames[1], executor=executor))
            await asyncio.sleep(0)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            return await send.process_async(frames[2], executor=executor)

    payloads = asyncio.run(run())
    assert _keyframe(payloads)
    assert send.frames_sent == 2
