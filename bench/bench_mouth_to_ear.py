"""Mouth-to-ear audio latency on loopback with no jitter: a meeting of two
through our SFU beside an aiortc peer-to-peer call, in one process.

Workload: quiet speech (48 kHz mono) with a 5 ms tone burst near full
scale every 500 ms, each at another offset within its frame. The mouth
time of a burst is when its capture frame is handed to the sender, less
the frame's length, plus the burst's offset in it (a microphone hands a
frame over once its last sample is in); the ear time is when the frame
that holds the burst's first loud sample (above half the burst's
amplitude, after Opus decoding) is handed to playout, plus that sample's
offset. Latency = ear - mouth, over every burst after a 2 s warm-up.

- ours: two clients of the SDK in a meeting on EmbeddedServer. Included:
  the 10 ms capture framing, the Opus encoder (20 ms packets, so a frame
  waits for its pair, plus Opus's look-ahead), RED, RTP and SRTP, the
  loopback UDP hops to and from the SFU, the SFU's forwarding, the
  receiver's jitter buffer (its adaptive target delay) and Opus decoding,
  and the 10 ms playout tick that pulls a frame (a frame is played when
  pulled; a sound card's own buffer is not counted).
- aiortc 1.16: an RTCPeerConnection pair (no SFU), a MediaStreamTrack
  giving the same signal in aiortc's usual 20 ms frames, paced in real
  time; the callee's track is read as fast as frames come (aiortc has no
  playout clock). Included: the 20 ms capture framing, PyAV's libopus,
  SRTP over loopback UDP, aiortc's audio JitterBuffer (it holds 4 packets
  before the first frame goes out) and its decoder thread. aioice is told
  to gather on 127.0.0.1 only and no STUN server is set (loopback only).

Both run the same length one after the other; the ratio is aiortc's p50
over ours (above 1: ours is quicker). Target (issue 5): ours p95 at most
80 ms.

    .venv/bin/python bench/bench_mouth_to_ear.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
from collections.abc import Callable, Iterator
from typing import Any, Final

import aioice.ice
import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection

from _meeting_harness import (
    SAMPLE_RATE_HZ,
    BurstDetector,
    MarkedSpeech,
    audio_inbound,
    clock_ms,
    match_latencies,
    percentile,
    signed_in,
)

TARGET_P95_MS: Final = 80.0
WARMUP_S: Final = 2.0
# aiortc's audio frames (its AudioStreamTrack's ptime).
AIORTC_FRAME_MS: Final = 20


def _figures(latencies: list[float], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "bursts": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "max_ms": round(max(latencies), 1) if latencies else None,
        **extra,
    }


async def run_ours(duration_s: float) -> dict[str, Any]:
    """A speaker and a listener through the SFU; the listener's frames timed."""
    speech = MarkedSpeech()
    detector = BurstDetector(threshold=speech.burst_amplitude / 2.0)
    mouth_ms: list[float] = []
    async with signed_in(2) as setup:
        listener = await setup.clients[0].join(setup.code, quality_report_interval_s=None)
        listener.on_audio = lambda _pid, frame: detector.feed(frame.samples, clock_ms())
        speaker = await setup.clients[1].join(
            setup.code, quality_report_interval_s=None, auto_subscribe=()
        )
        started_ms = clock_ms()
        await speaker.publish_audio(lambda: speech.frames(mouth_ms.append))
        await asyncio.sleep(duration_s)
        inbound = audio_inbound(listener).get(speaker.participant_id, {})
    latencies = match_latencies(mouth_ms, detector.ear_ms, after_ms=started_ms + WARMUP_S * 1000)
    samples = float(inbound.get("totalSamplesReceived", 0)) or 1.0
    return _figures(
        latencies,
        {
            "jitter_buffer_mean_delay_ms": round(float(inbound.get("meanPlayoutDelayMs", 0.0)), 1),
            "jitter_buffer_target_delay_ms": round(float(inbound.get("meanTargetDelayMs", 0.0)), 1),
            "concealed_pct": round(100.0 * float(inbound.get("concealedSamples", 0)) / samples, 2),
        },
    )


class _MarkedTrack(MediaStreamTrack):
    """The marked speech as aiortc audio frames of 20 ms, paced in real time."""

    kind = "audio"

    def __init__(self, speech: MarkedSpeech, on_burst: Callable[[float], None]) -> None:
        super().__init__()
        self._blocks = speech.blocks(on_burst, frame_ms=AIORTC_FRAME_MS)
        self._start_ms: float | None = None
        self._sent = 0

    async def recv(self) -> av.AudioFrame:
        if self._start_ms is None:
            self._start_ms = clock_ms()
        wait_ms = self._start_ms + self._sent * AIORTC_FRAME_MS - clock_ms()
        if wait_ms > 0.0:
            await asyncio.sleep(wait_ms / 1000.0)
        self._sent += 1
        start, samples = next(self._blocks)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE_HZ
        frame.pts = start
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE_HZ)
        return frame


def _first_channel(frame: av.AudioFrame) -> npt.NDArray[np.int16]:
    samples = frame.to_ndarray()
    if frame.format.is_planar:
        return np.asarray(samples[0], dtype=np.int16)
    channels = len(frame.layout.channels)
    return np.asarray(samples.reshape(-1, channels)[:, 0], dtype=np.int16)


async def _listen(track: MediaStreamTrack, detector: BurstDetector) -> None:
    while True:
        frame = await track.recv()
        if isinstance(frame, av.AudioFrame):
            detector.feed(_first_channel(frame), clock_ms())


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """aioice gathers host candidates on 127.0.0.1 alone (it skips it
    otherwise and would use every other interface)."""
    original = aioice.ice.get_host_addresses

    def loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"]

    aioice.ice.get_host_addresses = loopback
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original


async def run_aiortc(duration_s: float) -> dict[str, Any]:
    """An RTCPeerConnection pair; the callee's frames timed."""
    speech = MarkedSpeech()
    detector = BurstDetector(threshold=speech.burst_amplitude / 2.0)
    mouth_ms: list[float] = []
    listeners: list[asyncio.Task[None]] = []
    with _loopback_only():
        # No STUN server: aiortc would otherwise ask a public one.
        caller = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        callee = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        def on_track(track: MediaStreamTrack) -> None:
            listeners.append(asyncio.get_running_loop().create_task(_listen(track, detector)))

        callee.on("track", on_track)
        caller.addTrack(_MarkedTrack(speech, mouth_ms.append))
        try:
            await caller.setLocalDescription(await caller.createOffer())
            await callee.setRemoteDescription(caller.localDescription)
            await callee.setLocalDescription(await callee.createAnswer())
            started_ms = clock_ms()
            await caller.setRemoteDescription(callee.localDescription)
            await asyncio.sleep(duration_s)
        finally:
            await caller.close()
            await callee.close()
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
    latencies = match_latencies(mouth_ms, detector.ear_ms, after_ms=started_ms + WARMUP_S * 1000)
    return _figures(latencies, {})


async def run(duration_s: float) -> dict[str, Any]:
    ours = await run_ours(duration_s)
    aiortc = await run_aiortc(duration_s)
    ratio = (
        aiortc["p50_ms"] / ours["p50_ms"]
        if ours["p50_ms"] and aiortc["p50_ms"] is not None
        else None
    )
    met = ours["p95_ms"] is not None and ours["p95_ms"] <= TARGET_P95_MS
    return {
        "bench": "mouth_to_ear",
        "seconds_each": duration_s,
        "ours": ours,
        "aiortc": aiortc,
        "ratio_aiortc_over_ours_p50": round(ratio, 2) if ratio is not None else None,
        "target_p95_ms": TARGET_P95_MS,
        "target": "MET" if met else "MISSED",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s per path, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    args = parser.parse_args()
    duration_s = 6.0 if args.quick else 22.0
    result = asyncio.run(run(duration_s))
    result["quick"] = args.quick
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"mouth-to-ear latency, ms (loopback, no jitter; {duration_s:.0f} s per path)")
    print(f"{'path':<22} {'bursts':>6} {'p50':>7} {'p95':>7} {'max':>7}")
    for name, label in (("ours", "ours (through the SFU)"), ("aiortc", "aiortc (peer to peer)")):
        r = result[name]
        print(
            f"{label:<22} {r['bursts']:>6} {r['p50_ms']!s:>7} {r['p95_ms']!s:>7} {r['max_ms']!s:>7}"
        )
    ours = result["ours"]
    print(
        f"ours: jitter buffer mean delay {ours['jitter_buffer_mean_delay_ms']} ms "
        f"(target {ours['jitter_buffer_target_delay_ms']} ms), "
        f"concealed {ours['concealed_pct']} %"
    )
    print(f"aiortc/ours (p50): {result['ratio_aiortc_over_ours_p50']}")
    print(f"target: ours p95 <= {TARGET_P95_MS:.0f} ms: {result['target']} ({ours['p95_ms']} ms)")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
