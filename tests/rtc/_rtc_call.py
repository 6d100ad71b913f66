"""Two peers of one process in a call over real loopback UDP (ICE, DTLS,
SRTP from aiortc/aioice), each sending speech and the video test pattern
through the media pipelines and keeping what it received."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cloudlink.media.frame import AudioFrame
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import TestPattern, read_test_pattern
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.rtc.bandwidth_estimator import BandwidthEstimator
from cloudlink.rtc.media_streams import (
    AudioReceiveStream,
    AudioSendStream,
    VideoReceiveStream,
    VideoSendStream,
)
from cloudlink.rtc.rtp_sender import DropFilter
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.transport import connect_pair

RATE_HZ = 16000
WIDTH_PX, HEIGHT_PX, FPS = 320, 240, 30.0


@dataclass
class Peer:
    session: RtpSession
    audio_send: AudioSendStream
    audio_receive: AudioReceiveStream
    video_send: VideoSendStream
    video_receive: VideoReceiveStream
    sent_speech: npt.NDArray[np.int16]
    heard: list[npt.NDArray[np.int16]] = field(default_factory=list)
    # Each stream's stats when the senders finished, before the hang-up.
    stats: dict[str, dict[str, int | float | str]] = field(default_factory=dict)
    frame_numbers: list[int | None] = field(default_factory=list)

    @property
    def heard_samples(self) -> npt.NDArray[np.int16]:
        return np.concatenate(self.heard) if self.heard else np.zeros(0, np.int16)


def _peer(
    session: RtpSession, speaker: str, *, video_bitrate_bps: int
) -> tuple[Peer, list[AudioFrame]]:
    frames = list(speech_source(speaker, sample_rate_hz=RATE_HZ))
    send = SendPipeline(sample_rate_hz=RATE_HZ, red_payload_type=RED_PAYLOAD_TYPE)
    receive = ReceivePipeline(sample_rate_hz=RATE_HZ, red_payload_type=RED_PAYLOAD_TYPE)
    video_send = VideoSendPipeline(
        width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS, bitrate_bps=video_bitrate_bps
    )
    peer = Peer(
        session=session,
        audio_send=AudioSendStream(session, send),
        audio_receive=AudioReceiveStream(
            session, receive, payload_types=[OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE]
        ),
        video_send=VideoSendStream(session, video_send),
        video_receive=VideoReceiveStream(session, VideoReceivePipeline()),
        sent_speech=np.concatenate([f.samples for f in frames]),
    )
    return peer, frames


def pattern_frames(count: int) -> list[VideoFrame]:
    pattern = TestPattern(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS)
    return [VideoFrame(pattern.frame(n), n * 1000.0 / FPS) for n in range(count)]


async def run_call(
    duration_s: float,
    *,
    drop_video_a_to_b: Callable[[Peer], DropFilter] | None = None,
    drop_audio_a_to_b: DropFilter | None = None,
    estimator_b: BandwidthEstimator | None = None,
    video_bitrate_bps: int = 400_000,
) -> tuple[Peer, Peer]:
    """A call of ``duration_s``; ``drop_video_a_to_b(A)`` makes the filter
    that loses packets on purpose in A's video send path,
    ``drop_audio_a_to_b`` in its audio send path. Returns (A, B) after
    hang-up."""
    transport_a, transport_b = await connect_pair()
    session_a = RtpSession(transport_a, rtcp_interval_ms=200.0)
    session_b = RtpSession(transport_b, rtcp_interval_ms=200.0, estimator=estimator_b)
    a, frames_a = _peer(session_a, "alice", video_bitrate_bps=video_bitrate_bps)
    b, frames_b = _peer(session_b, "bob", video_bitrate_bps=video_bitrate_bps)
    a.audio_send.sender.drop = drop_audio_a_to_b
    if drop_video_a_to_b is not None:
        a.video_send.sender.drop = drop_video_a_to_b(a)
    audio_frames = int(duration_s * 100)
    video_frames = int(duration_s * FPS)

    def keep_picture(peer: Peer) -> Callable[[VideoFrame], None]:
        def sink(frame: VideoFrame) -> None:
            stamp = read_test_pattern(frame.pixels)
            peer.frame_numbers.append(None if stamp is None else stamp.frame_number)

        return sink

    players = []
    for peer in (a, b):
        peer.session.start()
        players.append(
            asyncio.ensure_future(
                peer.audio_receive.play(lambda f, p=peer: p.heard.append(f.samples))
            )
        )
        players.append(asyncio.ensure_future(peer.video_receive.play(keep_picture(peer))))
    await asyncio.gather(
        a.audio_send.run(frames_a[:audio_frames]),
        b.audio_send.run(frames_b[:audio_frames]),
        a.video_send.run(pattern_frames(video_frames)),
        b.video_send.run(pattern_frames(video_frames)),
    )
    await asyncio.sleep(0.1)
    for peer in (a, b):
        for name in ("audio_send", "audio_receive", "video_send", "video_receive"):
            peer.stats[name] = getattr(peer, name).stats()
    # Let the last packets, retransmissions and reports arrive.
    await asyncio.sleep(0.3)
    for player in players:
        player.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await player
    await session_a.close()
    await session_b.close()
    await transport_a.close()
    await transport_b.close()
    return a, b
