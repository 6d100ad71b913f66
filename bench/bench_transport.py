"""RTP over aiortc's DTLS transport: our RTP session path beside aiortc's own
RTCRtpSender/RTCRtpReceiver, in one process, over real loopback UDP (ICE,
DTLS-SRTP).

Workload: µs of CPU per packet, send and receive together (both peers are in
this process), for (1) Opus packets (20 ms, ~80-byte payloads, RED off) and
(2) VP8 packets (~1200-byte payloads of a 640x360 test pattern at 1 Mbit/s),
pre-encoded so no codec runs while timing:

- raw: bytes through Transport.send to the receiving Transport's handler
  (aiortc's DTLS/SRTP and aioice's UDP alone: the floor under both paths);
- ours: RtpSender (native RTP serialize, three RFC 8285 extensions) ->
  RtpSession (native parse, ReceiveStatistics, bandwidth estimator) ->
  RtpReceiver -> the jitter buffer's / frame assembler's insert;
- aiortc: a track of pre-encoded av.Packets -> RTCRtpSender (its packetizer,
  RtpPacket, abs-send-time, mid) -> RTCRtpReceiver (RtpPacket parse, stream
  statistics, jitter buffer, NACK generator and REMB estimator for video).

CPU is the main thread's (time.thread_time): aiortc decodes in a thread of
its own, which is left out, as our path does not decode either. Packets are
sent one per event-loop turn (aiortc's VP8 frames, a burst of packets each,
2 ms apart) so none is lost in the socket buffer. The
ratio is aiortc's µs over ours (above 1: ours costs less).

    .venv/bin/python bench/bench_transport.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import time
from collections.abc import Awaitable, Callable

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.rtcrtpparameters import (
    RTCRtpDecodingParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)

from cloudlink import _native
from cloudlink.media.receive_pipeline import ReceivePipeline
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import TestPattern
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.rtc import _aiortc_internals as internals
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.transport import connect_pair

ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"


def opus_packets(count: int) -> list[bytes]:
    encoder = _native.OpusEncoder(sample_rate_hz=48000, bitrate_bps=32000)
    speech = np.concatenate([f.samples for f in speech_source("alice", sample_rate_hz=48000)])
    frames = len(speech) // 960
    return [
        encoder.encode(speech[(n % frames) * 960 : (n % frames + 1) * 960]) for n in range(count)
    ]


def vp8_frames(count: int) -> list[bytes]:
    pipeline = VideoSendPipeline(width_px=640, height_px=360, bitrate_bps=1_000_000)
    pattern = TestPattern(width_px=640, height_px=360)
    return [pipeline.encoder.encode(pattern.frame(n), keyframe=n == 0).data for n in range(count)]


def vp8_payloads(frames: list[bytes]) -> list[RtpPayload]:
    packetizer = _native.Vp8Packetizer()
    payloads = []
    sequence = 0
    for n, frame in enumerate(frames):
        chunks = packetizer.packetize(frame)
        for i, chunk in enumerate(chunks):
            payloads.append(
                RtpPayload(
                    sequence_number=sequence % 65536,
                    timestamp=n * 3000,
                    payload_type=96,
                    payload=chunk,
                    marker=i == len(chunks) - 1,
                )
            )
            sequence += 1
    return payloads


async def _timed(
    send_all: Callable[[], Awaitable[int]], received: Callable[[], Awaitable[int]]
) -> float:
    """µs of main-thread CPU per packet to send ``count`` and see them arrive
    (the arrival polls cost the same few µs on every path)."""
    start = time.thread_time()
    count = await send_all()
    for _ in range(5000):
        if await received() >= count:
            break
        await asyncio.sleep(0.001)
    elapsed = time.thread_time() - start
    got = await received()
    if got < count:
        raise RuntimeError(f"only {got} of {count} packets arrived")
    return elapsed * 1e6 / count


def _counter(got: list[int]) -> Callable[[], Awaitable[int]]:
    async def read() -> int:
        return got[0]

    return read


async def bench_raw(packets: list[bytes]) -> float:
    a, b = await connect_pair()
    got = [0]

    def count(_: bytes) -> None:
        got[0] += 1

    b.set_handlers(on_rtp=count, on_rtcp=lambda _: None)

    async def send_all() -> int:
        for packet in packets:
            await a.send(packet)
            await asyncio.sleep(0)
        return len(packets)

    try:
        return await _timed(send_all, _counter(got))
    finally:
        await a.close()
        await b.close()


async def bench_ours(payloads: list[RtpPayload], kind: str) -> float:
    a, b = await connect_pair()
    session_a, session_b = RtpSession(a), RtpSession(b)
    clock_rate_hz = 48000 if kind == "audio" else 90000
    sender = session_a.add_sender(kind=kind, clock_rate_hz=clock_rate_hz)  # type: ignore[arg-type]
    got = [0]
    if kind == "audio":
        audio = ReceivePipeline()

        def on_payload(payload: RtpPayload, arrival_ms: float) -> None:
            audio.insert(payload, arrival_time_ms=arrival_ms)
            got[0] += 1

    else:
        video = VideoReceivePipeline()

        def on_payload(payload: RtpPayload, arrival_ms: float) -> None:
            video.insert(payload, arrival_time_ms=arrival_ms)
            got[0] += 1

    session_b.add_receiver(
        kind=kind,  # type: ignore[arg-type]
        clock_rate_hz=clock_rate_hz,
        payload_types=[payloads[0].payload_type],
        on_payload=on_payload,
    )
    level = (30, True) if kind == "audio" else None

    async def send_all() -> int:
        for payload in payloads:
            await sender.send(payload, audio_level=level)
            await asyncio.sleep(0)
        return len(payloads)

    try:
        return await _timed(send_all, _counter(got))
    finally:
        await a.close()
        await b.close()


# How many packets aiortc's packetizer made of the same frames (its VP8
# payloads are larger than ours, so it may send fewer).
aiortc_packets: dict[str, int] = {}


class _PacketTrack(MediaStreamTrack):
    """Pre-encoded packets, one per recv, ``interval_s`` apart (CPU time
    does not count the wait)."""

    def __init__(self, kind: str, packets: list[av.Packet], interval_s: float) -> None:
        super().__init__()
        self.kind = kind
        self._interval_s = interval_s
        self._packets = iter(packets)
        self.done = asyncio.Event()

    async def recv(self) -> av.Packet:  # type: ignore[override]
        await asyncio.sleep(self._interval_s)
        packet = next(self._packets, None)
        if packet is None:
            self.done.set()
            await asyncio.sleep(3600)
        return packet


async def bench_aiortc(frames: list[bytes], kind: str) -> float:
    a, b = await connect_pair()
    for transport in (a, b):
        internals.unhook_dtls_media(transport.dtls)
    if kind == "audio":
        codec = RTCRtpCodecParameters(
            mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111
        )
        time_base = fractions.Fraction(1, 48000)
        step = 960
    else:
        codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
        time_base = fractions.Fraction(1, 90000)
        step = 3000
    packets = []
    for n, data in enumerate(frames):
        packet = av.Packet(data)
        packet.pts = n * step
        packet.time_base = time_base
        packets.append(packet)
    extensions = [
        RTCRtpHeaderExtensionParameters(id=1, uri=MID_URI),
        RTCRtpHeaderExtensionParameters(id=2, uri=ABS_SEND_TIME_URI),
    ]
    # A VP8 frame leaves as a burst of packets: 2 ms between frames keeps the
    # receiving socket's buffer from overflowing.
    track = _PacketTrack(kind, packets, 0.0 if kind == "audio" else 0.002)
    sender = RTCRtpSender(track, a.dtls)
    receiver = RTCRtpReceiver(kind, b.dtls)
    internals.attach_remote_track(receiver, kind)
    await receiver.receive(
        RTCRtpReceiveParameters(
            codecs=[codec],
            headerExtensions=extensions,
            encodings=[RTCRtpDecodingParameters(ssrc=sender._ssrc, payloadType=codec.payloadType)],
            rtcp=RTCRtcpParameters(cname="b", ssrc=1234, mux=True),
        )
    )

    async def received() -> int:
        report = await receiver.getStats()
        return sum(
            int(getattr(s, "packetsReceived", 0))
            for s in report.values()
            if s.type == "inbound-rtp"
        )

    async def send_all() -> int:
        await sender.send(
            RTCRtpSendParameters(
                codecs=[codec],
                headerExtensions=extensions,
                rtcp=RTCRtcpParameters(cname="a", mux=True),
            )
        )
        await track.done.wait()
        report = await sender.getStats()
        sent = sum(
            int(getattr(s, "packetsSent", 0)) for s in report.values() if s.type == "outbound-rtp"
        )
        aiortc_packets[kind] = sent
        return sent

    try:
        return await _timed(send_all, received)
    finally:
        await sender.stop()
        await receiver.stop()
        await a.close()
        await b.close()


async def run(count: int, repeats: int) -> dict[str, dict[str, float]]:
    audio = opus_packets(count)
    audio_payloads = [
        RtpPayload(sequence_number=n, timestamp=n * 960, payload_type=111, payload=p)
        for n, p in enumerate(audio)
    ]
    video_frames = vp8_frames(max(count // 5, 10))
    video_payloads = vp8_payloads(video_frames)
    video_raw = [
        _native.RtpPacket(
            payload_type=96, sequence_number=p.sequence_number, ssrc=1, payload=p.payload
        ).serialize()
        for p in video_payloads
    ]
    audio_raw = [
        _native.RtpPacket(
            payload_type=111, sequence_number=p.sequence_number, ssrc=1, payload=p.payload
        ).serialize()
        for p in audio_payloads
    ]
    results: dict[str, dict[str, float]] = {}
    for kind, raw, payloads, frames in (
        ("audio", audio_raw, audio_payloads, audio),
        ("video", video_raw, video_payloads, video_frames),
    ):
        cases = {
            "raw": lambda raw=raw: bench_raw(raw),
            "ours": lambda payloads=payloads, kind=kind: bench_ours(payloads, kind),
            "aiortc": lambda frames=frames, kind=kind: bench_aiortc(frames, kind),
        }
        best: dict[str, float] = {}
        for _ in range(repeats):
            for name, case in cases.items():
                us = await case()
                best[name] = min(best.get(name, us), us)
        best["packets"] = len(payloads)
        best["packets_aiortc"] = aiortc_packets[kind]
        best["ratio_aiortc_over_ours"] = best["aiortc"] / best["ours"]
        results[kind] = best
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer packets, for a smoke run")
    args = parser.parse_args()
    count, repeats = (300, 1) if args.quick else (3000, 3)
    results = asyncio.run(run(count, repeats))
    print("µs of CPU per packet, send + receive (n: packets ours / aiortc's)")
    print(f"{'packets':<8} {'n':>11} {'raw':>7} {'ours':>7} {'aiortc':>7} {'aiortc/ours':>12}")
    for kind, r in results.items():
        print(
            f"{kind:<8} {int(r['packets']):>5}/{int(r['packets_aiortc']):<5} {r['raw']:>7.1f} "
            f"{r['ours']:>7.1f} {r['aiortc']:>7.1f} {r['ratio_aiortc_over_ours']:>12.2f}"
        )
    print("RESULT " + json.dumps({"bench": "transport", "quick": args.quick, "cases": results}))


if __name__ == "__main__":
    main()
