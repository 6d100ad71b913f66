"""Meeting capacity on this machine: how many participants, each sending
360p video and audio to every other through the SFU, before loss or
latency degrade.

Workload, per step (2, 3, 4, 6, 8 participants by default): a fresh
EmbeddedServer; every participant signs in, joins, subscribes to every
other (audio and camera) and sends the stamped test pattern (640x360 at
15 fps, VP8, from 600 kbit/s, REMB steering) and quiet speech with a tone
burst every 500 ms (Opus, RED). After a 2 s settle, one window is
measured per step:

- audio concealment: concealed samples over samples played, per
  receiver-sender pair (the jitter buffer's counters over the window);
- video frame rate: pictures decoded per pair over the window, against
  the rate sent;
- latency: the pattern's stamps read in each decoded picture (glass to
  glass) and the bursts detected in the played audio (mouth to ear, as
  bench_mouth_to_ear.py), p95 over every pair;
- CPU: the process's CPU seconds per wall second (cores used), the
  main thread's share of the wall time on a core and waiting for one
  (Linux schedstat: ready to run while other work had the core), and
  the event loop's lag (how late a 10 ms sleep wakes, p95 and max);
- datagrams the kernel dropped for full socket receive buffers during
  the window (RcvbufErrors, for the whole network namespace: other work
  on the machine counts too).

A step is degraded when the mean audio concealment is over 2 %, or the
mean video frame rate received is under 90 % of the configured rate, or
the audio or video latency p95 is over 200 ms; a degraded step is run
once more (other work on a shared machine can stall one window) and
counts only if it degrades again. The capacity is the last step before
the first degraded one.

Every participant and the server share this one process and its one
event loop (each participant encodes its own video and decodes everyone
else's), so the figure is a floor: a real meeting spreads the clients
over their own machines, and the server alone is bench_sfu.py's subject.
One event loop also makes one core a hard ceiling: the participants at
which the main thread's CPU share would reach 1.0 are estimated from the
steps measured (a least-squares fit of a * n + b * n * (n - 1)), a figure
that the machine's other work moves less than the degradation does. With
``--profile``, one more step is run under cProfile and the main thread's
CPU is grouped by component.

No anchor: issue 5 names none for capacity.

    .venv/bin/python bench/bench_meeting_capacity.py [--quick] [--steps 2,3,4,6,8]
        [--seconds S] [--video 640x360@15] [--profile] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from _meeting_harness import (
    BurstDetector,
    MarkedSpeech,
    audio_inbound,
    clock_ms,
    match_latencies,
    percentile,
    signed_in,
)
from cloudlink.client import Meeting
from cloudlink.client.live_pattern import live_test_pattern, read_live_pattern
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import SPEAKERS
from cloudlink.media.video_frame import VideoFrame

MAX_CONCEALED_PCT: Final = 2.0
MIN_FPS_SHARE: Final = 0.9
MAX_LATENCY_P95_MS: Final = 200.0
_SETTLE_S: Final = 2.0
_LAG_PERIOD_S: Final = 0.01


@dataclass
class _Pair:
    """What one participant received from one other during the window."""

    frames: int = 0
    video_latencies_ms: list[float] = field(default_factory=list)
    detector: BurstDetector = field(
        default_factory=lambda: BurstDetector(threshold=MarkedSpeech.burst_amplitude / 2.0)
    )


@dataclass
class _Member:
    meeting: Meeting
    mouth_ms: list[float] = field(default_factory=list)
    pairs: dict[str, _Pair] = field(default_factory=dict)
    measuring: bool = False

    def on_video(self, sender: str, kind: str, frame: VideoFrame) -> None:
        if not self.measuring or kind != "camera":
            return
        pair = self.pairs.setdefault(sender, _Pair())
        pair.frames += 1
        reading = read_live_pattern(frame)
        if reading is not None:
            pair.video_latencies_ms.append(reading.latency_ms)

    def on_audio(self, sender: str, frame: AudioFrame) -> None:
        self.pairs.setdefault(sender, _Pair()).detector.feed(frame.samples, clock_ms())


def _speech_of(speech: MarkedSpeech, member: _Member) -> Callable[[], Iterator[AudioFrame]]:
    """Opens the member's marked speech, its bursts' mouth times to the member."""

    def frames() -> Iterator[AudioFrame]:
        return speech.frames(member.mouth_ms.append)

    return frames


async def _loop_lag(lags_ms: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        asked_ms = clock_ms()
        await asyncio.sleep(_LAG_PERIOD_S)
        lags_ms.append(clock_ms() - asked_ms - _LAG_PERIOD_S * 1000.0)


_AUDIO_COUNTERS: Final = (
    "concealedSamples",
    "totalSamplesReceived",
    "packetsReceived",
    "packetsLost",
    "packetsDiscarded",
)


def _audio_counters(member: _Member) -> dict[str, dict[str, float]]:
    """The jitter buffer's and the transport's audio counters per sender, now."""
    return {
        sender: {name: audio.get(name, 0.0) for name in _AUDIO_COUNTERS}
        for sender, audio in audio_inbound(member.meeting).items()
    }


def _schedstat_s() -> tuple[float, float] | None:
    """The main thread's (CPU time, run-queue wait) in s from Linux's
    schedstat: the wait is time it was ready to run but another process
    (this machine is shared) or thread had the core. None elsewhere."""
    try:
        with open("/proc/thread-self/schedstat") as file:
            on_cpu_ns, waiting_ns, _ = (int(part) for part in file.read().split())
    except (OSError, ValueError):
        return None
    return on_cpu_ns / 1e9, waiting_ns / 1e9


def _udp_receive_buffer_drops() -> int | None:
    """Datagrams the kernel dropped for a full socket receive buffer, in
    this network namespace (RcvbufErrors of /proc/net/snmp); None elsewhere."""
    try:
        with open("/proc/net/snmp") as file:
            rows = [line.split() for line in file if line.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def _frames_encoded(member: _Member) -> float:
    camera = member.meeting.video.get("camera")
    return float(camera.pipeline.frames_sent) if camera is not None else 0.0


# TODO(#5): a process per participant would measure the SFU and one client
# each; in one process the capacity is a floor that says little of a real meeting.
async def run_step(
    count: int,
    *,
    seconds: float,
    width_px: int,
    height_px: int,
    fps: float,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """One meeting of ``count`` participants, measured for ``seconds``
    (under ``profiler`` during the window, when given)."""
    async with signed_in(count) as setup:
        members: list[_Member] = []
        for index, client in enumerate(setup.clients):
            meeting = await client.join(setup.code, quality_report_interval_s=None)
            member = _Member(meeting)
            members.append(member)
            meeting.on_video = member.on_video
            meeting.on_audio = member.on_audio
            speech = MarkedSpeech(speaker=SPEAKERS[index % len(SPEAKERS)])
            await meeting.publish_audio(_speech_of(speech, member))
            await meeting.publish_video(
                live_test_pattern(width_px=width_px, height_px=height_px, frame_rate_fps=fps)
            )
        await asyncio.sleep(_SETTLE_S)

        # The window: counters before and after, hooks on in between.
        lags_ms: list[float] = []
        stop = asyncio.Event()
        lag_task = asyncio.get_running_loop().create_task(_loop_lag(lags_ms, stop))
        audio_before = [_audio_counters(m) for m in members]
        encoded_before = [_frames_encoded(m) for m in members]
        for member in members:
            member.measuring = True
        started_ms, cpu_started_s = clock_ms(), time.process_time()
        sched_started = _schedstat_s()
        udp_drops_started = _udp_receive_buffer_drops()
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(seconds)
        if profiler is not None:
            profiler.disable()
        window_s = (clock_ms() - started_ms) / 1000.0
        cpu_s = time.process_time() - cpu_started_s
        sched_ended = _schedstat_s()
        udp_drops_ended = _udp_receive_buffer_drops()
        for member in members:
            member.measuring = False
        audio_after = [_audio_counters(m) for m in members]
        encoded_after = [_frames_encoded(m) for m in members]
        stop.set()
        await lag_task
        ids = [m.meeting.participant_id for m in members]

    # Per pair, then over the meeting.
    concealed_pct: list[float] = []
    lost_pct: list[float] = []
    discarded_pct: list[float] = []
    fps_received: list[float] = []
    audio_latencies: list[float] = []
    video_latencies: list[float] = []
    for index, member in enumerate(members):
        for sender_index, sender in enumerate(ids):
            if sender_index == index:
                continue
            zero = dict.fromkeys(_AUDIO_COUNTERS, 0.0)
            before = audio_before[index].get(sender, zero)
            after = audio_after[index].get(sender, zero)
            delta = {name: after[name] - before[name] for name in _AUDIO_COUNTERS}
            played = delta["totalSamplesReceived"]
            concealed_pct.append(100.0 * delta["concealedSamples"] / played if played else 100.0)
            expected = delta["packetsReceived"] + max(delta["packetsLost"], 0.0)
            lost_pct.append(100.0 * max(delta["packetsLost"], 0.0) / expected if expected else 0.0)
            discarded_pct.append(100.0 * delta["packetsDiscarded"] / expected if expected else 0.0)
            pair = member.pairs.get(sender, _Pair())
            fps_received.append(pair.frames / window_s)
            video_latencies += pair.video_latencies_ms
            audio_latencies += match_latencies(
                members[sender_index].mouth_ms, pair.detector.ear_ms, after_ms=started_ms
            )
    fps_sent = [(a - b) / window_s for a, b in zip(encoded_after, encoded_before, strict=True)]
    figures: dict[str, Any] = {
        "participants": count,
        "streams_received": count * (count - 1),
        "window_s": round(window_s, 1),
        "cpu_cores_used": round(cpu_s / window_s, 2),
        "main_thread_cpu_share": (
            round((sched_ended[0] - sched_started[0]) / window_s, 2)
            if sched_started and sched_ended
            else None
        ),
        "main_thread_runqueue_wait_share": (
            round((sched_ended[1] - sched_started[1]) / window_s, 2)
            if sched_started and sched_ended
            else None
        ),
        "udp_receive_buffer_drops": (
            udp_drops_ended - udp_drops_started
            if udp_drops_started is not None and udp_drops_ended is not None
            else None
        ),
        "loop_lag_p95_ms": percentile(lags_ms, 95),
        "loop_lag_max_ms": round(max(lags_ms), 1) if lags_ms else None,
        "audio_concealed_pct_mean": round(float(np.mean(concealed_pct)), 2),
        "audio_concealed_pct_worst": round(max(concealed_pct), 2),
        "audio_lost_pct_mean": round(float(np.mean(lost_pct)), 2),
        "audio_discarded_late_pct_mean": round(float(np.mean(discarded_pct)), 2),
        "video_fps_configured": fps,
        "video_fps_sent_mean": round(float(np.mean(fps_sent)), 1),
        "video_fps_received_mean": round(float(np.mean(fps_received)), 1),
        "video_fps_received_worst": round(min(fps_received), 1),
        "audio_latency_ms": {
            "p50": percentile(audio_latencies, 50),
            "p95": percentile(audio_latencies, 95),
            "bursts": len(audio_latencies),
        },
        "video_latency_ms": {
            "p50": percentile(video_latencies, 50),
            "p95": percentile(video_latencies, 95),
            "frames": len(video_latencies),
        },
    }
    figures["degraded_by"] = _degradation(figures)
    return figures


def _degradation(figures: dict[str, Any]) -> list[str]:
    """The criteria this step fails (empty: not degraded)."""
    reasons = []
    if figures["audio_concealed_pct_mean"] > MAX_CONCEALED_PCT:
        reasons.append(f"audio concealment {figures['audio_concealed_pct_mean']} %")
    if figures["video_fps_received_mean"] < MIN_FPS_SHARE * figures["video_fps_configured"]:
        reasons.append(f"video {figures['video_fps_received_mean']} fps")
    for kind in ("audio", "video"):
        p95 = figures[f"{kind}_latency_ms"]["p95"]
        if p95 is None or p95 > MAX_LATENCY_P95_MS:
            reasons.append(f"{kind} latency p95 {p95} ms")
    return reasons


# Where profiled CPU goes. A native call is named after the Python
# function that calls it most (pybind11 gives OpusEncoder.encode and
# Vp8Encoder.encode the same name), then the first component with a mark
# in that name wins.
_COMPONENTS: Final = (
    ("VP8 encode (libvpx)", ("_native.encode <- cloudlink/media/video_send_pipeline",)),
    ("VP8 decode (libvpx)", ("_native.decode <- cloudlink/media/video_receive_pipeline",)),
    ("Opus encode", ("_native.encode <- cloudlink/media/send_pipeline",)),
    (
        "jitter buffer + Opus decode",
        ("_native.pull <-", "_native.insert <- cloudlink/media/receive_pipeline"),
    ),
    ("test pattern draw + stamp read", ("test_pattern.py", "numpy")),
    ("SRTP (pylibsrtp)", ("pylibsrtp",)),
    ("UDP send/receive", ("sendto", "recvfrom", "_socket")),
    ("SFU forwarding", ("cloudlink/sfu/",)),
    ("signaling server", ("server/signaling/",)),
    ("aiortc / aioice", ("aiortc/", "aioice/")),
    ("RTP session + streams", ("cloudlink/rtc/",)),
    ("media pipelines (Python)", ("cloudlink/media/",)),
    ("client SDK", ("cloudlink/client/",)),
    ("asyncio event loop", ("asyncio/", "selectors.py", "epoll")),
)


def _component(name: str) -> str:
    for label, marks in _COMPONENTS:
        if any(mark in name for mark in marks):
            return label
    return "other"


def _short(filename: str) -> str:
    for root in ("site-packages/", "src/", "python3.11/"):
        if root in filename:
            return filename.split(root, 1)[1]
    return filename


def _profile_summary(profile: cProfile.Profile, top: int) -> dict[str, Any]:
    """Main-thread CPU by component (own time) and the top functions."""
    stats = pstats.Stats(profile)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, _, tottime, _, callers) in table.items():
        if line:
            name = f"{_short(filename)}:{line}({function})"
        else:
            # A builtin: named with its costliest caller.
            name = function.removeprefix("<built-in method ").removesuffix(">")
            if callers:
                caller = max(callers.items(), key=lambda item: item[1][2])[0]
                name += f" <- {_short(caller[0])}:{caller[1]}({caller[2]})"
        rows.append((tottime, name))
    total = sum(t for t, _ in rows) or 1.0
    by_component: dict[str, float] = {}
    for tottime, name in rows:
        label = _component(name)
        by_component[label] = by_component.get(label, 0.0) + tottime
    rows.sort(reverse=True)
    return {
        "main_thread_cpu_s": round(total, 2),
        "components_pct": {
            label: round(100.0 * seconds / total, 1)
            for label, seconds in sorted(by_component.items(), key=lambda kv: -kv[1])
        },
        "top_functions": [
            {"pct": round(100.0 * t / total, 1), "function": name[:110]} for t, name in rows[:top]
        ],
    }


def _one_core_ceiling(steps: list[dict[str, Any]]) -> float | None:
    """Participants at which the main thread would need a whole core, from
    a least-squares fit of its CPU share to a * n (each sender's encode)
    + b * n * (n - 1) (each stream received, forwarded and decoded); None
    with fewer than two measured steps."""
    points = [
        (float(s["participants"]), float(s["main_thread_cpu_share"] or s["cpu_cores_used"]))
        for s in steps
    ]
    if len({n for n, _ in points}) < 2:
        return None
    design = np.array([[n, n * (n - 1.0)] for n, _ in points])
    shares = np.array([share for _, share in points])
    (a, b), *_ = np.linalg.lstsq(design, shares, rcond=None)
    # Solve b n^2 + (a - b) n - 1 = 0 for its positive root.
    roots = [r.real for r in np.roots([b, a - b, -1.0]) if abs(r.imag) < 1e-9 and r.real > 0]
    return round(min(roots), 1) if roots else None


async def run(
    steps: list[int],
    *,
    seconds: float,
    width_px: int,
    height_px: int,
    fps: float,
    profile: bool,
    on_step: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    results = []
    capacity = 0
    first_degraded: dict[str, Any] | None = None
    for count in steps:
        figures = await run_step(
            count, seconds=seconds, width_px=width_px, height_px=height_px, fps=fps
        )
        if figures["degraded_by"]:
            # Other work on the machine can stall one window: a step counts
            # as degraded only when a second run degrades too.
            on_step(figures)
            figures = await run_step(
                count, seconds=seconds, width_px=width_px, height_px=height_px, fps=fps
            )
            figures["retried"] = True
        results.append(figures)
        on_step(figures)
        if figures["degraded_by"]:
            first_degraded = figures
            break
        capacity = count
    profiled = None
    if profile:
        count = max(capacity, steps[0])
        # Main-thread CPU time, so idle waits in epoll do not count.
        profiler = cProfile.Profile(time.thread_time)
        await run_step(
            count,
            seconds=seconds,
            width_px=width_px,
            height_px=height_px,
            fps=fps,
            profiler=profiler,
        )
        profiled = {"participants": count, **_profile_summary(profiler, 15)}
    return {
        "bench": "meeting_capacity",
        "video": f"{width_px}x{height_px}@{fps:g} VP8 + Opus",
        "anchor": "none (issue 5 names none)",
        "criteria": {
            "audio_concealed_pct_mean_max": MAX_CONCEALED_PCT,
            "video_fps_share_min": MIN_FPS_SHARE,
            "latency_p95_ms_max": MAX_LATENCY_P95_MS,
        },
        "steps": results,
        "capacity_participants": capacity,
        "one_core_ceiling_participants": _one_core_ceiling(results),
        "first_degraded": (
            {"participants": first_degraded["participants"], "by": first_degraded["degraded_by"]}
            if first_degraded
            else None
        ),
        "profile": profiled,
    }


def _print_row(figures: dict[str, Any]) -> None:
    audio, video = figures["audio_latency_ms"], figures["video_latency_ms"]
    verdict = "degraded: " + ", ".join(figures["degraded_by"]) if figures["degraded_by"] else "ok"
    if figures.get("retried"):
        verdict += " (second run)"
    print(
        f"{figures['participants']:>5} {figures['streams_received']:>7} "
        f"{figures['cpu_cores_used']:>6.2f} {figures['main_thread_cpu_share']!s:>5} "
        f"{figures['main_thread_runqueue_wait_share']!s:>5} "
        f"{figures['loop_lag_p95_ms']!s:>7} {figures['loop_lag_max_ms']!s:>6} "
        f"{figures['udp_receive_buffer_drops']!s:>7} "
        f"{figures['audio_concealed_pct_mean']:>6.2f} {figures['audio_concealed_pct_worst']:>6.2f} "
        f"{figures['video_fps_sent_mean']:>5.1f} {figures['video_fps_received_mean']:>5.1f} "
        f"{figures['video_fps_received_worst']:>5.1f} {audio['p95']!s:>8} {video['p95']!s:>8}  "
        f"{verdict}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="steps 2,3,4 with 4 s windows")
    parser.add_argument("--steps", default=None, help="participant counts, e.g. 2,3,4,6,8")
    parser.add_argument("--seconds", type=float, default=None, help="measured window per step")
    parser.add_argument("--video", default="640x360@15", help="WIDTHxHEIGHT@FPS of each sender")
    parser.add_argument("--profile", action="store_true", help="one more step under cProfile")
    parser.add_argument("--json", action="store_true", help="print one JSON object, no table")
    args = parser.parse_args()
    steps = [int(s) for s in (args.steps or ("2,3,4" if args.quick else "2,3,4,6,8")).split(",")]
    if any(not 2 <= s <= 16 for s in steps):
        parser.error("--steps takes participant counts of 2..16")
    seconds = args.seconds or (4.0 if args.quick else 8.0)
    size, _, rate = args.video.partition("@")
    width_px, height_px = (int(part) for part in size.split("x"))
    fps = float(rate or 15.0)
    if not args.json:
        print(
            f"meeting capacity: {args.video} VP8 + Opus per participant, everyone to everyone, "
            f"{seconds:g} s windows; all participants and the server in this one process"
        )
        print(
            f"{'parts':>5} {'streams':>7} {'cores':>6} {'main':>5} {'wait':>5} {'lag95':>7} "
            f"{'max':>6} {'udp drop':>7} {'conc%':>6} {'worst':>6} "
            f"{'fps tx':>5} {'rx':>5} {'worst':>5} {'a lat95':>8} {'v lat95':>8}  verdict"
        )
    result = asyncio.run(
        run(
            steps,
            seconds=seconds,
            width_px=width_px,
            height_px=height_px,
            fps=fps,
            profile=args.profile,
            on_step=(lambda _: None) if args.json else _print_row,
        )
    )
    result["quick"] = args.quick
    if args.json:
        print(json.dumps(result, indent=2))
        return
    degraded = result["first_degraded"]
    capacity = result["capacity_participants"]
    print(
        (f"capacity: {capacity} participants " if capacity else f"capacity: under {steps[0]} ")
        + (
            f"(degraded at {degraded['participants']}: {', '.join(degraded['by'])})"
            if degraded
            else "(no step degraded)"
        )
    )
    print(
        "main thread at one whole core (fit of its CPU share over the steps): about "
        f"{result['one_core_ceiling_participants']} participants"
    )
    profiled = result["profile"]
    if profiled is not None:
        print(f"CPU under cProfile, {profiled['participants']} participants, by component:")
        for label, pct in profiled["components_pct"].items():
            print(f"  {pct:>5.1f} %  {label}")
        print("top functions (own time):")
        for row in profiled["top_functions"]:
            print(f"  {row['pct']:>5.1f} %  {row['function']}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
