"""Join time: from ``client.join`` (already signed in, signaling socket
open) to the first decoded audio frame and the first decoded video frame
of a participant already in the meeting, on loopback.

Workload: EmbeddedServer in this process; a host in the meeting sends
looped speech (Opus) and the 640x360 test pattern at 30 fps (VP8); a
second member joins, waits for both first frames, leaves, and joins again
a second later, ``--joins`` times after one warm-up join (reported apart:
it pays one-time costs such as the first DTLS certificate and codec
set-up). The first audio frame is the first 10 ms frame the jitter buffer
plays from a packet (not concealment); the first video frame is the first
picture the decoder gives.

Breakdown from the joiner's signaling requests, timed where the SDK
sends them: ``join`` (the server admits and answers), client gather (its
ICE candidates, between the join answer and the ``transport`` request),
``transport`` (the round trip; the SFU gathers inside it), ICE + DTLS
(the transport answer to the first ``subscribe``), ``subscribe`` (both
tracks, one round trip each), then the first audio frame after its
subscription (first packet, jitter buffer, 10 ms tick) and the first
video frame after its subscription (the SFU's PLI to the host, the next
keyframe encoded, sent, assembled and decoded).

No anchor: issue 5 names none for join time. Target (issue 5): at most
500 ms on loopback, read as the p95 of the later of the two first frames.

    .venv/bin/python bench/bench_join_time.py [--quick] [--joins N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from _meeting_harness import SAMPLE_RATE_HZ, clock_ms, percentile, signed_in
from cloudlink.client import Client, Meeting
from cloudlink.client.live_pattern import live_test_pattern
from cloudlink.client.remote_tracks import RemoteAudioTrack
from cloudlink.client.signaling_connection import SignalingConnection
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import speech_source

TARGET_P95_MS: Final = 500.0
# How long one join may take to show both first frames before it counts as failed.
_FIRST_FRAMES_TIMEOUT_S: Final = 10.0
# Between a leave and the next join (the SFU asks for at most one keyframe
# per 500 ms per track).
_PAUSE_S: Final = 1.0
STAGES: Final = (
    "join_request_ms",
    "client_gather_ms",
    "transport_request_ms",
    "ice_dtls_ms",
    "subscribe_requests_ms",
    "first_audio_after_subscribe_ms",
    "first_video_after_subscribe_ms",
    "first_audio_ms",
    "first_video_ms",
    "both_ms",
)


@dataclass
class _Request:
    message_type: str
    fields: dict[str, Any]
    sent_ms: float
    answered_ms: float


@dataclass
class _JoinLog:
    """The joiner's signaling requests and first frames of one join."""

    requests: list[_Request] = field(default_factory=list)
    first_audio_ms: float | None = None
    first_video_ms: float | None = None
    both: asyncio.Event = field(default_factory=asyncio.Event)


def _time_requests(signaling: SignalingConnection, log: list[_JoinLog]) -> None:
    """Records every request of ``signaling`` into the current join's log."""
    original = signaling.request

    async def timed(message_type: str, fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
        sent_ms = clock_ms()
        answer = await original(message_type, fields)
        log[-1].requests.append(_Request(message_type, dict(fields or {}), sent_ms, clock_ms()))
        return answer

    setattr(signaling, "request", timed)  # noqa: B010 (an instance attribute over the method)


def _looped_speech() -> Iterator[AudioFrame]:
    for _ in itertools.count():
        yield from speech_source("alice", sample_rate_hz=SAMPLE_RATE_HZ)


def _watch_first_frames(meeting: Meeting, log: _JoinLog) -> None:
    def on_audio(_pid: str, _frame: AudioFrame) -> None:
        if log.first_audio_ms is not None:
            return
        for remote in meeting.remote.values():
            played = isinstance(remote, RemoteAudioTrack) and (
                remote.stream.pipeline.playout_timestamp is not None
            )
            if played:
                log.first_audio_ms = clock_ms()
                if log.first_video_ms is not None:
                    log.both.set()

    def on_video(_pid: str, _kind: str, _frame: object) -> None:
        if log.first_video_ms is None:
            log.first_video_ms = clock_ms()
            if log.first_audio_ms is not None:
                log.both.set()

    meeting.on_audio = on_audio
    meeting.on_video = on_video


def _stages(log: _JoinLog, started_ms: float, kinds: dict[str, str]) -> dict[str, float]:
    """The stages of one join, in ms (see the module docstring)."""
    by_type: dict[str, list[_Request]] = {}
    for request in log.requests:
        by_type.setdefault(request.message_type, []).append(request)
    join, transport = by_type["join"][0], by_type["transport"][0]
    subscribes = by_type["subscribe"]
    answered = {kinds.get(str(r.fields.get("track_id")), "?"): r.answered_ms for r in subscribes}
    assert log.first_audio_ms is not None and log.first_video_ms is not None
    return {
        "join_request_ms": join.answered_ms - join.sent_ms,
        "client_gather_ms": transport.sent_ms - join.answered_ms,
        "transport_request_ms": transport.answered_ms - transport.sent_ms,
        "ice_dtls_ms": subscribes[0].sent_ms - transport.answered_ms,
        "subscribe_requests_ms": subscribes[-1].answered_ms - subscribes[0].sent_ms,
        "first_audio_after_subscribe_ms": log.first_audio_ms - answered["audio"],
        "first_video_after_subscribe_ms": log.first_video_ms - answered["camera"],
        "first_audio_ms": log.first_audio_ms - started_ms,
        "first_video_ms": log.first_video_ms - started_ms,
        "both_ms": max(log.first_audio_ms, log.first_video_ms) - started_ms,
    }


async def _one_join(
    joiner: Client, code: str, logs: list[_JoinLog], kinds: dict[str, str]
) -> dict[str, float]:
    log = _JoinLog()
    logs.append(log)
    started_ms = clock_ms()
    task = asyncio.get_running_loop().create_task(joiner.join(code, quality_report_interval_s=None))
    # The join runs to its first request: the meeting object exists from there.
    await asyncio.sleep(0)
    if joiner.meeting is None:
        raise RuntimeError("client.join made no meeting")
    _watch_first_frames(joiner.meeting, log)
    meeting = await task
    try:
        await asyncio.wait_for(log.both.wait(), _FIRST_FRAMES_TIMEOUT_S)
    finally:
        await meeting.leave()
    return _stages(log, started_ms, kinds)


async def run(joins: int) -> dict[str, Any]:
    async with signed_in(2) as setup:
        host_client, joiner = setup.clients
        host = await host_client.join(setup.code, quality_report_interval_s=None)
        audio = await host.publish_audio(_looped_speech)
        camera = await host.publish_video(
            live_test_pattern(width_px=640, height_px=360, frame_rate_fps=30.0)
        )
        kinds = {str(audio.track_id): "audio", str(camera.track_id): "camera"}
        logs: list[_JoinLog] = []
        _time_requests(joiner.signaling, logs)
        warmup = await _one_join(joiner, setup.code, logs, kinds)
        runs = []
        for _ in range(joins):
            await asyncio.sleep(_PAUSE_S)
            runs.append(await _one_join(joiner, setup.code, logs, kinds))
    summary = {
        stage: {
            "p50": percentile([r[stage] for r in runs], 50),
            "p95": percentile([r[stage] for r in runs], 95),
        }
        for stage in STAGES
    }
    p95 = summary["both_ms"]["p95"]
    met = p95 is not None and p95 <= TARGET_P95_MS
    return {
        "bench": "join_time",
        "joins": joins,
        "video": "640x360@30 VP8",
        "anchor": "none (issue 5 names none)",
        "warmup_join": {stage: round(value, 1) for stage, value in warmup.items()},
        "stages_ms": summary,
        "target_p95_ms": TARGET_P95_MS,
        "target": "MET" if met else "MISSED",
    }


_LABELS: Final = {
    "join_request_ms": "join request (round trip)",
    "client_gather_ms": "client ICE gather",
    "transport_request_ms": "transport request (SFU gathers)",
    "ice_dtls_ms": "ICE + DTLS",
    "subscribe_requests_ms": "subscribe requests (2)",
    "first_audio_after_subscribe_ms": "first audio after its subscribe",
    "first_video_after_subscribe_ms": "first video after its subscribe",
    "first_audio_ms": "join -> first audio frame",
    "first_video_ms": "join -> first video frame",
    "both_ms": "join -> both first frames",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 joins, for a smoke run")
    parser.add_argument("--joins", type=int, default=10, help="timed joins (after one warm-up)")
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    args = parser.parse_args()
    joins = 3 if args.quick else max(1, args.joins)
    result = asyncio.run(run(joins))
    result["quick"] = args.quick
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"join time, ms, loopback ({joins} joins after a warm-up; no anchor in issue 5)")
    print(f"{'stage':<34} {'p50':>7} {'p95':>7} {'warm-up':>8}")
    for stage in STAGES:
        figures = result["stages_ms"][stage]
        print(
            f"{_LABELS[stage]:<34} {figures['p50']!s:>7} {figures['p95']!s:>7} "
            f"{result['warmup_join'][stage]!s:>8}"
        )
    both = result["stages_ms"]["both_ms"]["p95"]
    print(
        f"target: p95 <= {TARGET_P95_MS:.0f} ms to both first frames: "
        f"{result['target']} ({both} ms)"
    )
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
