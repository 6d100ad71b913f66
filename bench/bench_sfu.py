"""The SFU's Python data path: packets forwarded per second per core and
the latency it adds, beside Janus VideoRoom where it can run.

Workload: one publisher sending 720p VP8 (1.5 Mbit/s, 3 temporal layers,
30 fps, 1200-byte payloads) and Opus (20 ms, with the RFC 6464 audio level)
through one room to N subscribers, each receiving both streams, every
subscriber at the full layer, then half of them at the base layer (REMB),
then all at the full layer with every copy sent to a UDP socket on
loopback. Datagrams are encoded first and fed through ``Room.receive``
with a transport that only counts (or counts and sends); the figures are
CPU time in this process (one core), the best of three runs. Latency is
the time from a datagram entering the room to its copy for the last
subscriber leaving it (p50 / p99 over all datagrams). A second table
times the VP8 descriptor rewrite: ours in place (Python) against
rebuilding the payload with the native parser and writer. Janus VideoRoom
runs last, when installed (bench/_janus_anchor.py): an aiortc publisher,
Janus's RTP forwarders to N counting sockets, Janus's CPU time per
forwarded packet against ours with UDP sends.

    .venv/bin/python bench/bench_sfu.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import time
from typing import Any

import numpy as np

from cloudlink import _native
from cloudlink.media.frame import AudioFrame
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.video_send_pipeline import VideoSendPipeline
from cloudlink.media.video_source import PatternSource
from cloudlink.sfu import Room, TrackKind
from cloudlink.sfu.vp8_descriptor import rewrite_vp8_descriptor, vp8_descriptor_layout

VIDEO_SSRC, AUDIO_SSRC = 0x1000, 0x2000


class CountingTransport:
    def __init__(self) -> None:
        self.rtp = 0
        self.rtcp = 0

    def send_rtp(self, data: bytes) -> None:
        self.rtp += 1

    def send_rtcp(self, data: bytes) -> None:
        self.rtcp += 1


class UdpTransport(CountingTransport):
    """Counts and sends each datagram to a socket of its own on loopback,
    as a transport would (nobody reads it: the kernel drops what overflows)."""

    def __init__(self) -> None:
        super().__init__()
        self.receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.receiver.bind(("127.0.0.1", 0))
        self.address = self.receiver.getsockname()
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sender.setblocking(False)

    def send_rtp(self, data: bytes) -> None:
        self.rtp += 1
        try:
            self.sender.sendto(data, self.address)
        except BlockingIOError:
            pass

    def close(self) -> None:
        self.receiver.close()
        self.sender.close()


def publisher_datagrams(duration_s: float) -> list[tuple[float, bytes]]:
    """(time, datagram) of the publisher's two streams, in time order."""
    video = VideoSendPipeline(
        width_px=1280, height_px=720, bitrate_bps=1_500_000, temporal_layers=3
    )
    out: list[tuple[float, bytes]] = []
    for frame in PatternSource(
        width_px=1280, height_px=720, frame_rate_fps=30.0, duration_s=duration_s
    ):
        for payload in video.process(frame):
            packet = _native.RtpPacket(
                payload_type=96,
                sequence_number=payload.sequence_number,
                timestamp=payload.timestamp,
                ssrc=VIDEO_SSRC,
                marker=payload.marker,
                payload=payload.payload,
            )
            out.append((frame.time_ms, packet.serialize()))
    audio = SendPipeline(sample_rate_hz=48000)
    rng = np.random.default_rng(1)
    for index in range(int(duration_s * 100)):
        samples = (rng.standard_normal(480) * 3000).astype(np.int16)
        for payload in audio.process(AudioFrame(samples, 48000, index * 480)):
            packet = _native.RtpPacket(
                payload_type=111,
                sequence_number=payload.sequence_number,
                timestamp=payload.timestamp,
                ssrc=AUDIO_SSRC,
                payload=payload.payload,
                extensions={1: bytes([0x80 | 30])},
            )
            out.append((index * 10.0, packet.serialize()))
    out.sort(key=lambda item: item[0])
    return out


def run_room(
    datagrams: list[tuple[float, bytes]],
    subscribers: int,
    *,
    base_layer_share: float,
    udp: bool = False,
) -> dict[str, float]:
    room = Room(room_id="bench")
    room.add_participant("pub", CountingTransport())
    room.publish("pub", track_id="cam", kind=TrackKind.CAMERA, ssrc=VIDEO_SSRC)
    room.publish("pub", track_id="mic", kind=TrackKind.AUDIO, ssrc=AUDIO_SSRC)
    transports: list[CountingTransport] = []
    for index in range(subscribers):
        transport = UdpTransport() if udp else CountingTransport()
        transports.append(transport)
        room.add_participant(f"s{index}", transport)
        room.subscribe(f"s{index}", "cam", now_ms=0.0)
        room.subscribe(f"s{index}", "mic", now_ms=0.0)
    limited = int(subscribers * base_layer_share)
    latencies_ns = []
    cpu_ns = 0
    remb_sent = False
    for time_ms, data in datagrams:
        if not remb_sent and time_ms >= 600.0 and limited:
            # A low estimate for the first share of subscribers: base layer only.
            remb = _native.serialize_rtcp([_native.RtcpRemb(bitrate_bps=300_000)])
            for index in range(limited):
                room.receive(f"s{index}", remb, now_ms=time_ms)
            remb_sent = True
        started_cpu = time.process_time_ns()
        started = time.perf_counter_ns()
        room.receive("pub", data, now_ms=time_ms)
        latencies_ns.append(time.perf_counter_ns() - started)
        cpu_ns += time.process_time_ns() - started_cpu
    forwarded = sum(t.rtp for t in transports)
    for transport in transports:
        if isinstance(transport, UdpTransport):
            transport.close()
    latencies_us = np.array(latencies_ns) / 1000.0
    assert room.counters.internal_errors == 0 and room.counters.rtp_malformed == 0
    return {
        "subscribers": subscribers,
        "base_layer_share": base_layer_share,
        "udp_send": udp,
        "packets_in": len(datagrams),
        "packets_forwarded": forwarded,
        "forwarded_per_s_per_core": forwarded / (cpu_ns / 1e9),
        "input_per_s_per_core": len(datagrams) / (cpu_ns / 1e9),
        "us_per_forwarded_packet": cpu_ns / 1000.0 / max(1, forwarded),
        "latency_p50_us": float(np.percentile(latencies_us, 50)),
        "latency_p99_us": float(np.percentile(latencies_us, 99)),
    }


def time_descriptor_rewrite(
    datagrams: list[tuple[float, bytes]], calls: int, repeats: int
) -> dict[str, float]:
    """µs per packet, best of ``repeats``: the in-place rewrite against a native rebuild."""
    runs = [_time_descriptor_rewrite_once(datagrams, calls) for _ in range(repeats)]
    return {key: min(run[key] for run in runs) for key in runs[0]}


def _time_descriptor_rewrite_once(
    datagrams: list[tuple[float, bytes]], calls: int
) -> dict[str, float]:
    payloads = [
        _native.RtpPacket.parse(data).payload
        for _, data in datagrams
        if int.from_bytes(data[8:12], "big") == VIDEO_SSRC
    ][:200]
    started = time.perf_counter()
    for index in range(calls):
        buffer = bytearray(payloads[index % len(payloads)])
        layout = vp8_descriptor_layout(buffer)
        rewrite_vp8_descriptor(buffer, 0, layout, picture_id=index & 0x7FFF, tl0_pic_idx=7)
    ours_us = (time.perf_counter() - started) / calls * 1e6
    started = time.perf_counter()
    for index in range(calls):
        payload = payloads[index % len(payloads)]
        parsed = _native.vp8_depacketize(payload)
        descriptor = _native.vp8_payload_descriptor(
            start_of_partition=parsed.start_of_partition,
            partition_id=parsed.partition_id,
            non_reference=parsed.non_reference,
            picture_id=index & 0x7FFF,
            tl0_pic_idx=7,
            temporal_layer_id=parsed.temporal_layer_id,
            layer_sync=parsed.layer_sync,
        )
        _ = descriptor + payload[parsed.descriptor_bytes :]
    native_us = (time.perf_counter() - started) / calls * 1e6
    return {"python_in_place_us": ours_us, "native_rebuild_us": native_us}


def janus_cases(subscriber_counts: list[int], duration_s: float) -> list[dict[str, Any]] | str:
    """Janus VideoRoom's figures (bench/_janus_anchor.py), or why it did not run."""
    try:
        from _janus_anchor import run_janus
    except ImportError as error:
        return f"not run: {error} (scripts/bootstrap.sh bench installs aiortc)"
    try:
        return run_janus(subscriber_counts, duration_s)
    except (OSError, RuntimeError, KeyError, subprocess.SubprocessError) as error:
        return f"not run: {type(error).__name__}: {error}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter stream, for a smoke run")
    args = parser.parse_args()
    duration_s = 2.0 if args.quick else 10.0
    repeats = 1 if args.quick else 3
    datagrams = publisher_datagrams(duration_s)
    print(f"workload: {len(datagrams)} datagrams, {duration_s:.0f} s of 720p VP8 + Opus")
    print(
        f"{'subscribers':>11} {'base share':>10} {'UDP send':>8} {'fwd pkts/s/core':>16} "
        f"{'µs/fwd pkt':>10} {'latency p50':>12} {'p99':>9}"
    )
    cases = []
    for subscribers in (1, 4, 16) if args.quick else (1, 4, 16, 50):
        for share, udp in ((0.0, False), (0.5, False), (0.0, True)):
            if subscribers == 1 and share:
                continue
            # The best of a few runs: the machine's other work only ever adds time.
            runs = [
                run_room(datagrams, subscribers, base_layer_share=share, udp=udp)
                for _ in range(repeats)
            ]
            case = min(runs, key=lambda run: run["us_per_forwarded_packet"])
            cases.append(case)
            print(
                f"{subscribers:>11} {share:>10.1f} {'yes' if udp else 'no':>8} "
                f"{case['forwarded_per_s_per_core']:>16,.0f} "
                f"{case['us_per_forwarded_packet']:>10.2f} {case['latency_p50_us']:>10.1f} µs "
                f"{case['latency_p99_us']:>6.1f} µs"
            )
    rewrite = time_descriptor_rewrite(datagrams, 20_000 if args.quick else 50_000, 5)
    print(
        f"VP8 descriptor rewrite: python in place {rewrite['python_in_place_us']:.2f} µs, "
        f"native parse + rebuild {rewrite['native_rebuild_us']:.2f} µs per packet"
    )
    counts = sorted({int(case["subscribers"]) for case in cases})
    janus = janus_cases(counts, 3.0 if args.quick else 10.0)
    if isinstance(janus, str):
        print(f"Janus VideoRoom: {janus}")
    else:
        # Janus sends every copy with sendto: compared with our runs that do too.
        ours = {int(c["subscribers"]): c for c in cases if c["udp_send"]}
        print("Janus VideoRoom 1.1.2, RTP forwarders (aiortc publisher, its CPU from /proc):")
        print(f"{'subscribers':>11} {'fwd pkts/s/core':>16} {'µs/fwd pkt':>10} {'janus/ours':>11}")
        for case in janus:
            count = int(case["subscribers"])
            case["ratio_to_ours"] = case["us_per_forwarded_packet"] / float(
                ours[count]["us_per_forwarded_packet"]
            )
            rate = case["forwarded_per_s_per_core"] or 0.0
            print(
                f"{count:>11} {rate:>16,.0f} {case['us_per_forwarded_packet']:>10.2f} "
                f"{case['ratio_to_ours']:>11.2f}"
            )
    print(
        "RESULT "
        + json.dumps(
            {
                "bench": "sfu",
                "quick": args.quick,
                "cases": cases,
                "descriptor_rewrite": rewrite,
                "janus": janus,
            }
        )
    )


if __name__ == "__main__":
    main()
