"""Publishers and subscribers for the SFU tests: real encoders on the
publishing side, the real receive pipeline on the subscribing side, and an
in-memory transport between them and the room."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cloudlink import _native
from cloudlink.media.frame import AudioFrame
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.media.video_source import PatternSource
from cloudlink.sfu import PublishedTrack, Room

AUDIO_LEVEL_ID = 1
WIDTH_PX, HEIGHT_PX, FPS = 320, 240, 30.0


def published(room: Room, track_id: str) -> PublishedTrack:
    """A track the test published."""
    track = room.track(track_id)
    assert track is not None
    return track


class MemoryTransport:
    """What the room sends to one participant, kept in lists."""

    def __init__(self) -> None:
        self.rtp: list[bytes] = []
        self.rtcp: list[bytes] = []

    def send_rtp(self, data: bytes) -> None:
        self.rtp.append(data)

    def send_rtcp(self, data: bytes) -> None:
        self.rtcp.append(data)

    def take_rtp(self) -> list[bytes]:
        out, self.rtp = self.rtp, []
        return out

    def rtcp_packets(self) -> list[_native._RtcpPacket]:
        out = [p for data in self.rtcp for p in _native.parse_rtcp(data)]
        self.rtcp = []
        return out


def to_datagram(
    payload: RtpPayload, ssrc: int, extensions: dict[int, bytes] | None = None
) -> bytes:
    return _native.RtpPacket(
        payload_type=payload.payload_type,
        sequence_number=payload.sequence_number,
        timestamp=payload.timestamp,
        ssrc=ssrc,
        marker=payload.marker,
        payload=payload.payload,
        extensions=extensions or {},
    ).serialize()


def to_payload(datagram: bytes) -> tuple[int, RtpPayload]:
    packet = _native.RtpPacket.parse(datagram)
    return packet.ssrc, RtpPayload(
        sequence_number=packet.sequence_number,
        timestamp=packet.timestamp,
        payload_type=packet.payload_type,
        payload=packet.payload,
        marker=packet.marker,
    )


class VideoPublisher:
    """The test pattern through the real VP8 send pipeline (3 temporal
    layers); answers the PLIs and NACKs the room sends it."""

    def __init__(self, *, ssrc: int, bitrate_bps: int = 400_000) -> None:
        self.ssrc = ssrc
        self.transport = MemoryTransport()
        self.send = VideoSendPipeline(
            width_px=WIDTH_PX,
            height_px=HEIGHT_PX,
            frame_rate_fps=FPS,
            bitrate_bps=bitrate_bps,
            temporal_layers=3,
            max_payload_bytes=400,
        )
        self.frames = iter(
            PatternSource(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS, duration_s=60)
        )
        self.plis = 0
        self.nacked: list[int] = []

    def next_frame(self) -> tuple[float, list[bytes]]:
        """(capture time, datagrams) of the next frame, after acting on
        feedback: retransmissions first, then the frame."""
        resent = []
        for packet in self.transport.rtcp_packets():
            if isinstance(packet, _native.RtcpPli):
                self.plis += 1
                self.send.request_keyframe()
            elif isinstance(packet, _native.RtcpNack):
                self.nacked += packet.sequence_numbers
                resent += self.send.retransmit(packet.sequence_numbers)
        frame = next(self.frames)
        payloads = resent + self.send.process(frame)
        return frame.time_ms, [to_datagram(p, self.ssrc) for p in payloads]


def audio_datagrams(
    name: str, *, ssrc: int, gains: list[tuple[float, float]], duration_s: float
) -> Iterator[tuple[float, bytes]]:
    """(time, datagram) of committed speech through the real Opus send
    pipeline, each with its RFC 6464 level measured by the native meter;
    ``gains`` holds (from time in ms, gain) steps."""
    send = SendPipeline(sample_rate_hz=16000)
    meter = _native.LevelMeter(sample_rate_hz=16000)
    level = 127
    for index, frame in enumerate(speech_source(name, sample_rate_hz=16000)):
        if index * 10 >= duration_s * 1000:
            return
        gain = [g for start_ms, g in gains if start_ms <= index * 10][-1]
        scaled = np.clip(frame.samples.astype(np.float32) * gain, -32768, 32767).astype(np.int16)
        meter.process(scaled)
        level = min(level, meter.audio_level)
        for payload in send.process(
            AudioFrame(scaled, frame.sample_rate_hz, frame.timestamp_samples)
        ):
            extension = {AUDIO_LEVEL_ID: bytes([0x80 | level])}
            yield index * 10.0, to_datagram(payload, ssrc, extension)
            level = 127


class VideoSubscriber:
    """The real VP8 receive pipeline behind the subscriber's transport."""

    def __init__(self) -> None:
        self.transport = MemoryTransport()
        self.receive = VideoReceivePipeline(rtt_ms=20.0)
        self.frame_numbers: list[int] = []
        self.sequences: dict[int, list[int]] = {}
        self.timestamps: dict[int, list[int]] = {}
        self.vp8_data: dict[int, list[bytes]] = {}

    def deliver(self, now_ms: float) -> None:
        for datagram in self.transport.take_rtp():
            ssrc, payload = to_payload(datagram)
            self.sequences.setdefault(ssrc, []).append(payload.sequence_number)
            self.timestamps.setdefault(ssrc, []).append(payload.timestamp)
            if payload.payload_type == self.receive.payload_type:
                data = _native.vp8_depacketize(payload.payload).data
                self.vp8_data.setdefault(ssrc, []).append(data)
            self.receive.insert(payload, arrival_time_ms=now_ms)
        for shown in self.receive.poll(now_ms):
            stamp = read_test_pattern(shown.pixels)
            self.frame_numbers.append(-1 if stamp is None else stamp.frame_number)
