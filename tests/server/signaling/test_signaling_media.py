"""Media through the SFU, set up over /api/signaling: Ada publishes speech
and the video test pattern on a real WebRTC transport (ICE, DTLS, SRTP on
loopback); the host subscribes and decodes what the SFU forwards."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import numpy.typing as npt
from _signaling_world import Peer, World, make_world_fixture, world_fixture  # noqa: F401

from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import TestPattern, read_test_pattern
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.rtc.media_streams import (
    AudioReceiveStream,
    AudioSendStream,
    VideoReceiveStream,
    VideoSendStream,
)
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.transport import Transport, TransportParameters

RATE_HZ = 16000
WIDTH_PX, HEIGHT_PX, FPS = 160, 120, 30.0
SECONDS = 1.5


async def _connect(peer: Peer) -> Transport:
    """The participant's transport to the SFU, through signaling."""
    transport = Transport(loopback=True)
    local = await transport.gather()
    answer = await peer.ok("transport", parameters=local.to_json())
    remote = TransportParameters.from_json(answer["parameters"])
    await transport.connect(remote, controlling=False)
    return transport


class Receiver:
    """The host's side: an RTP session with an audio and a video receive
    stream, keeping what it heard and the test-pattern frame numbers it saw."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.session = RtpSession(transport, rtcp_interval_ms=200.0)
        self.audio = AudioReceiveStream(
            self.session,
            ReceivePipeline(sample_rate_hz=RATE_HZ, red_payload_type=RED_PAYLOAD_TYPE),
            payload_types=[OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE],
        )
        self.video = VideoReceiveStream(self.session, VideoReceivePipeline())
        self.heard: list[npt.NDArray[np.int16]] = []
        self.frame_numbers: list[int] = []
        self.session.start()
        self._players = [
            asyncio.ensure_future(self.audio.play(lambda f: self.heard.append(f.samples))),
            asyncio.ensure_future(self.video.play(self._see)),
        ]

    def _see(self, frame: VideoFrame) -> None:
        stamp = read_test_pattern(frame.pixels)
        if stamp is not None:
            self.frame_numbers.append(stamp.frame_number)

    @property
    def loudest(self) -> int:
        if not self.heard:
            return 0
        return int(np.abs(np.concatenate(self.heard).astype(np.int32)).max())

    async def close(self) -> None:
        for player in self._players:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
        await self.session.close()
        await self.transport.close()


class Sender:
    """Ada's side: speech and the test pattern, sent a stretch at a time."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.session = RtpSession(transport, rtcp_interval_ms=200.0)
        self.audio = AudioSendStream(
            self.session,
            SendPipeline(sample_rate_hz=RATE_HZ, red_payload_type=RED_PAYLOAD_TYPE),
        )
        self.video = VideoSendStream(
            self.session,
            VideoSendPipeline(
                width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS, bitrate_bps=200_000
            ),
        )
        self._pattern = TestPattern(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS)
        self._speech = list(speech_source("alice", sample_rate_hz=RATE_HZ))
        self._frames_sent = 0
        self.session.start()

    async def send(self, seconds: float) -> None:
        """Sends the next ``seconds`` of speech and pictures."""
        first, count = self._frames_sent, int(seconds * FPS)
        pictures = [
            VideoFrame(self._pattern.frame(n), n * 1000.0 / FPS)
            for n in range(first, first + count)
        ]
        speech = self._speech[int(first * 100 / FPS) :][: int(seconds * 100)]
        self._frames_sent += count
        await asyncio.gather(self.audio.run(speech), self.video.run(pictures))
        # Let the last packets through the SFU.
        await asyncio.sleep(0.3)

    async def close(self) -> None:
        await self.session.close()
        await self.transport.close()


async def _meeting_of_two(world: World) -> tuple[Peer, Peer, str]:
    """The host and Ada in one meeting: (host, ada, Ada's participant id)."""
    device = "admin-laptop"
    host_token = await world.api.login("acme", "admin", device=device)
    host = await world.signed_in(host_token, device)
    _, _, ada = await world.person("ada")
    code = await world.meeting(host_token)
    await host.ok("join", meeting=code)
    ada_id: str = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    return host, ada, ada_id


async def _subscribe_to_ada(host: Peer, ada: Peer, sender: Sender) -> tuple[int, int]:
    """Ada publishes both tracks, the host subscribes: the subscriptions' SSRCs."""
    audio = (await ada.ok("publish", kind="audio", ssrc=sender.audio.sender.ssrc))["track"]
    camera = (await ada.ok("publish", kind="camera", ssrc=sender.video.sender.ssrc))["track"]
    published = [(await host.event("track-published"))["track"] for _ in range(2)]
    assert {t["track_id"] for t in published} == {audio["track_id"], camera["track_id"]}
    audio_sub = (await host.ok("subscribe", track_id=audio["track_id"]))["subscription"]
    camera_sub = (await host.ok("subscribe", track_id=camera["track_id"]))["subscription"]
    return audio_sub["ssrc"], camera_sub["ssrc"]


def _assert_received(receiver: Receiver, audio_ssrc: int, camera_ssrc: int) -> None:
    """The SFU forwarded under the subscriptions' SSRCs and the host decoded it."""
    assert receiver.audio.receiver.ssrc == audio_ssrc
    assert receiver.video.receiver.ssrc == camera_ssrc
    assert receiver.audio.stats()["packetsReceived"] > 30
    assert receiver.loudest > 1000
    numbers = receiver.frame_numbers
    assert len(numbers) > 10
    assert numbers == sorted(numbers) and numbers[-1] > numbers[0]


async def test_published_audio_and_camera_reach_the_subscriber_decoded(world: World) -> None:
    host, ada, ada_id = await _meeting_of_two(world)
    ada_transport, host_transport = await asyncio.gather(_connect(ada), _connect(host))
    sender, receiver = Sender(ada_transport), Receiver(host_transport)
    try:
        audio_ssrc, camera_ssrc = await _subscribe_to_ada(host, ada, sender)
        await sender.send(1.5)
        _assert_received(receiver, audio_ssrc, camera_ssrc)
        # The room heard Ada's audio levels (RFC 6464) and named her the speaker.
        await host.event("active-speaker", participant_id=ada_id)

        # Muted audio is no longer forwarded; the camera still is.
        await ada.ok("mute", kind="audio", muted=True)
        packets_before = receiver.audio.stats()["packetsReceived"]
        frames_before = len(receiver.frame_numbers)
        await sender.send(0.5)
        assert receiver.audio.stats()["packetsReceived"] == packets_before
        assert len(receiver.frame_numbers) > frames_before
    finally:
        await receiver.close()
        await sender.close()

    # Leaving closes the SFU's side; the host hears of it.
    await ada.ok("leave")
    assert (await host.event("participant-left"))["reason"] == "left"


async def test_restart_ice_moves_the_media_to_a_new_transport(world: World) -> None:
    host, ada, _ = await _meeting_of_two(world)
    ada_transport, host_transport = await asyncio.gather(_connect(ada), _connect(host))
    sender, receiver = Sender(ada_transport), Receiver(host_transport)
    renewed: Receiver | None = None
    try:
        audio_ssrc, camera_ssrc = await _subscribe_to_ada(host, ada, sender)
        await sender.send(1.0)
        _assert_received(receiver, audio_ssrc, camera_ssrc)
        seen_before = receiver.frame_numbers[-1]

        # The host's network "changes": a new transport, same subscriptions.
        transport = Transport(loopback=True)
        local = await transport.gather()
        answer = await host.ok("restart-ice", parameters=local.to_json())
        await transport.connect(
            TransportParameters.from_json(answer["parameters"]), controlling=False
        )
        renewed = Receiver(transport)
        await sender.send(1.5)
    finally:
        await receiver.close()
        if renewed is not None:
            await renewed.close()
        await sender.close()
    assert renewed is not None
    _assert_received(renewed, audio_ssrc, camera_ssrc)
    assert renewed.frame_numbers[0] > seen_before
