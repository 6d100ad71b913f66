"""``cloudlink demo``: a meeting on this machine, end to end.

The organisation server starts in this process on an SQLite file in a
temporary folder, an organisation is made with a host and members, and N
synthetic participants sign in as those members through the Python client
SDK, join one meeting through the server's signaling and SFU over real
WebRTC transports on loopback (each behind a simulated lossy, jittery
link), and send speech and the stamped video test pattern. It prints the
join link and a guest account a person signs in with to join from a
browser on this machine (docs/web-join.md). A live table shows what each
participant receives from each other one; with ``--duration S`` the
meeting ends by itself, and ``--json`` prints the figures as one JSON
object instead of the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

import numpy as np

from cloudlink.cli._network_options import add_network_options, network_conditions
from cloudlink.client import Client, Meeting
from cloudlink.client.live_pattern import live_test_pattern, read_live_pattern
from cloudlink.errors import ConfigError
from cloudlink.media.frame import AudioFrame
from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.synthetic import SPEAKERS, speech_source
from cloudlink.media.video_frame import VideoFrame
from cloudlink.server.embedded import EmbeddedServer

__all__ = ["register", "run"]

_DESCRIPTION: Final = (
    "A meeting on this machine: the organisation server on an embedded SQLite file, an "
    "organisation with members, and N synthetic participants sending speech and the video "
    "test pattern through the SFU over real WebRTC transports on loopback, each behind a "
    "simulated impaired link. Shows a live table of each participant's quality and the address "
    "where a person can open the meeting; --duration ends it, --json prints the figures."
)
_ORGANISATION: Final = "CloudLink Demo"
_HOST_ACCOUNT: Final = "host"
# Members the participants sign in as, in order (the host is the first participant).
_MEMBERS: Final = (
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
    ("katherine", "Katherine Johnson"),
    ("edsger", "Edsger Dijkstra"),
    ("barbara", "Barbara Liskov"),
    ("donald", "Donald Knuth"),
)
_MAX_PARTICIPANTS: Final = 1 + len(_MEMBERS)
# A member no synthetic participant signs in as, for a person joining from
# a browser (one account is in a meeting once: a second join replaces the first).
_BROWSER_MEMBER: Final = ("guest", "Guest")
_MAX_DURATION_S: Final = 3600.0
# The audio rate of the meeting (Opus fullband) and the video the pattern sends.
_SAMPLE_RATE_HZ: Final = 48000
_DEFAULT_VIDEO: Final = "320x240@15"
# How often the live table is redrawn, and the quality report interval
# (short, so the server's dashboard has data while the demo runs).
_TABLE_PERIOD_S: Final = 1.0
_QUALITY_REPORT_S: Final = 10.0
# Media is measured only after the first second, once everyone is subscribed.
_SETTLE_S: Final = 1.0


def register(subparsers: Any) -> None:
    """Adds the ``demo`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="a meeting of synthetic participants through the server and SFU, with live quality",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--participants", type=int, default=3, metavar="N", help="participants in the meeting"
    )
    parser.add_argument(
        "--duration", type=float, default=None, metavar="S", help="end after S s (default: Ctrl-C)"
    )
    parser.add_argument(
        "--video",
        default=_DEFAULT_VIDEO,
        metavar="WxH@FPS",
        help="size and rate of each participant's test pattern",
    )
    add_network_options(parser)
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated links")
    parser.add_argument(
        "--port", type=int, default=0, help="port of the server on 127.0.0.1 (0: a free one)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the figures as one JSON object, no table"
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class _VideoSpec:
    width_px: int
    height_px: int
    frame_rate_fps: float


def _video_spec(text: str) -> _VideoSpec:
    try:
        size, _, rate = text.partition("@")
        width, height = (int(part) for part in size.split("x"))
        fps = float(rate) if rate else 15.0
    except ValueError:
        raise ConfigError(f"--video takes WIDTHxHEIGHT[@FPS], got {text!r}") from None
    if not (16 <= width <= 1920 and 16 <= height <= 1080 and width % 2 == 0 and height % 2 == 0):
        raise ConfigError(f"--video size must be even, 16x16..1920x1080, got {width}x{height}")
    if not (math.isfinite(fps) and 1.0 <= fps <= 60.0):
        raise ConfigError(f"--video frame rate must be within 1..60, got {fps}")
    return _VideoSpec(width, height, fps)


def _check(args: argparse.Namespace) -> tuple[NetworkConditions, _VideoSpec]:
    if not 2 <= args.participants <= _MAX_PARTICIPANTS:
        raise ConfigError(f"--participants must be within 2..{_MAX_PARTICIPANTS}")
    if args.duration is not None and not (
        math.isfinite(args.duration) and 0.0 < args.duration <= _MAX_DURATION_S
    ):
        raise ConfigError(f"--duration must be within (0, {_MAX_DURATION_S:.0f}] s")
    if args.json and args.duration is None:
        raise ConfigError("--json needs --duration (the figures are printed at the end)")
    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port must be within 0..65535, got {args.port}")
    return network_conditions(args), _video_spec(args.video)


def run(args: argparse.Namespace) -> int:
    """Runs the demo meeting; returns the exit code."""
    conditions, video = _check(args)
    return asyncio.run(_demo(args, conditions, video))


# --- what each participant measures ---


@dataclass
class _Received:
    """What one participant saw of one other's video (from the pattern's stamps)."""

    latencies_ms: list[float] = field(default_factory=list)
    frames_shown: int = 0
    stamps_unreadable: int = 0
    last_frame_number: int | None = None
    frames_out_of_order: int = 0


@dataclass
class _Participant:
    name: str
    display_name: str
    client: Client
    meeting: Meeting
    received: dict[str, _Received] = field(default_factory=dict)
    audio_energy: dict[str, float] = field(default_factory=dict)
    measuring: bool = False

    def on_video(self, sender: str, kind: str, frame: VideoFrame) -> None:
        if not self.measuring or kind != "camera":
            return
        seen = self.received.setdefault(sender, _Received())
        seen.frames_shown += 1
        reading = read_live_pattern(frame)
        if reading is None:
            seen.stamps_unreadable += 1
            return
        seen.latencies_ms.append(reading.latency_ms)
        if seen.last_frame_number is not None and reading.frame_number <= seen.last_frame_number:
            seen.frames_out_of_order += 1
        seen.last_frame_number = reading.frame_number

    def on_audio(self, sender: str, frame: AudioFrame) -> None:
        if self.measuring:
            samples = frame.samples.astype(np.float64)
            energy = float(np.dot(samples.ravel(), samples.ravel()))
            self.audio_energy[sender] = self.audio_energy.get(sender, 0.0) + energy


def _looped_speech(speaker: str) -> Callable[[], Iterator[AudioFrame]]:
    """A speaker's committed speech over and over (a callable the SDK opens)."""

    def frames() -> Iterator[AudioFrame]:
        for _ in itertools.count():
            yield from speech_source(speaker, sample_rate_hz=_SAMPLE_RATE_HZ)

    return frames


# --- the meeting ---


async def _demo(args: argparse.Namespace, conditions: NetworkConditions, video: _VideoSpec) -> int:
    out: TextIO = sys.stderr if args.json else sys.stdout
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)

    with tempfile.TemporaryDirectory(prefix="cloudlink-demo-") as folder:
        # Step 1: the server and the organisation, with a password nobody reuses.
        server = EmbeddedServer(database_path=Path(folder) / "demo.db", port=args.port)
        url = await server.start()
        password = secrets.token_urlsafe(12)
        members = _MEMBERS[: args.participants - 1]
        server.add_organisation(
            _ORGANISATION,
            admin=_HOST_ACCOUNT,
            members=[*members, _BROWSER_MEMBER],
            password=password,
        )
        people = [(_HOST_ACCOUNT, "Host"), *members]
        clients: list[Client] = []
        participants: list[_Participant] = []
        started_s = time.monotonic()
        try:
            # Step 2: everyone signs in; the host opens the meeting and all join.
            for account, _ in people:
                clients.append(
                    await Client.login(
                        url,
                        organisation=_ORGANISATION,
                        account=account,
                        password=password,
                        device_id=f"demo-{account}",
                        device_name="cloudlink demo",
                    )
                )
            info = await clients[0].create_meeting("CloudLink demo meeting")
            banner = [
                f"server      {url}",
                f"meeting     {info.code}   join link {info.join_link}",
                f"join it     open {info.join_link} in a browser on this machine (Chromium",
                "            needs no flag) and sign in: organisation "
                f"{_ORGANISATION!r}, account {_BROWSER_MEMBER[0]},",
                f"            password {password} (docs/web-join.md)",
                f"synthetic   {', '.join(a for a, _ in people)} (same organisation and password)",
                f"console     {url}/console/ (as {_HOST_ACCOUNT})",
            ]
            print("\n".join(banner), file=out)
            for index, ((account, display), client) in enumerate(zip(people, clients, strict=True)):
                meeting = await _join(client, info.code, conditions, args.seed + 2 * index)
                participants.append(_Participant(account, display, client, meeting))
            ids = {p.meeting.participant_id: p.name for p in participants}

            # Step 3: everyone sends speech and the stamped pattern.
            for index, participant in enumerate(participants):
                meeting = participant.meeting
                meeting.on_video = lambda pid, kind, frame, p=participant: p.on_video(
                    ids.get(pid, pid), kind, frame
                )
                meeting.on_audio = lambda pid, frame, p=participant: p.on_audio(
                    ids.get(pid, pid), frame
                )
                await meeting.publish_audio(_looped_speech(SPEAKERS[index % len(SPEAKERS)]))
                await meeting.publish_video(
                    live_test_pattern(
                        width_px=video.width_px,
                        height_px=video.height_px,
                        frame_rate_fps=video.frame_rate_fps,
                    )
                )
            print(f"{len(participants)} participants joined; Ctrl-C ends the meeting", file=out)

            # Step 4: the live table until the duration or Ctrl-C.
            await _wait_then_measure(participants, stop, _SETTLE_S)
            measured_from_s = time.monotonic()
            deadline_s = None if args.duration is None else started_s + args.duration
            while not stop.is_set():
                remaining_s = _TABLE_PERIOD_S
                if deadline_s is not None:
                    remaining_s = min(remaining_s, deadline_s - time.monotonic())
                    if remaining_s <= 0.0:
                        break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), remaining_s)
                if not args.json:
                    now_s = time.monotonic()
                    _draw(
                        out, banner, participants, ids, now_s - started_s, now_s - measured_from_s
                    )
            figures = _figures(participants, ids, time.monotonic() - measured_from_s)
        finally:
            # Step 5: everyone leaves, then the server stops.
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.close()
            await server.stop()

    figures.update(
        server=url,
        meeting=info.code,
        joinLink=info.join_link,
        network={
            "lossPct": conditions.loss_pct,
            "burstLength": conditions.burst_len,
            "jitterMs": conditions.jitter_ms,
            "trace": conditions.trace is not None,
            "appliedTo": "each participant's uplink and downlink",
        },
        video={"width": video.width_px, "height": video.height_px, "fps": video.frame_rate_fps},
    )
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
    else:
        _print_summary(out, figures)
    return 0


async def _join(client: Client, code: str, conditions: NetworkConditions, seed: int) -> Meeting:
    """Joins with the link impaired both ways (a seed per direction)."""
    impaired = conditions.loss_pct > 0.0 or conditions.jitter_ms > 0.0 or bool(conditions.trace)
    return await client.join(
        code,
        sample_rate_hz=_SAMPLE_RATE_HZ,
        quality_report_interval_s=_QUALITY_REPORT_S,
        uplink=_with_seed(conditions, seed) if impaired else None,
        downlink=_with_seed(conditions, seed + 1) if impaired else None,
    )


def _with_seed(conditions: NetworkConditions, seed: int) -> NetworkConditions:
    return NetworkConditions(
        loss_pct=conditions.loss_pct,
        burst_len=conditions.burst_len,
        jitter_ms=conditions.jitter_ms,
        base_delay_ms=conditions.base_delay_ms,
        seed=seed,
        trace=conditions.trace,
    )


async def _wait_then_measure(
    participants: list[_Participant], stop: asyncio.Event, settle_s: float
) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), settle_s)
    for participant in participants:
        participant.measuring = True


# --- figures ---


def _number(stats: dict[str, Any], key: str) -> float:
    value = stats.get(key, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def _pair_figures(
    receiver: _Participant, sender: str, inbound: dict[str, dict[str, Any]], seconds: float
) -> dict[str, Any]:
    """What ``receiver`` got from ``sender``: audio and video inbound-rtp
    figures in our units, and the pattern's frames and latency."""
    audio = inbound.get("audio", {})
    camera = inbound.get("camera", {})
    received = max(_number(audio, "packetsReceived"), 0.0)
    lost = max(_number(audio, "packetsLost"), 0.0)
    emitted = _number(audio, "jitterBufferEmittedCount")
    samples = _number(audio, "totalSamplesReceived")
    seen = receiver.received.get(sender, _Received())
    return {
        "from": sender,
        "audio": {
            "packetsReceived": int(received),
            "lossPct": round(100.0 * lost / (received + lost), 2) if received + lost else 0.0,
            "jitterMs": round(1000.0 * _number(audio, "jitter"), 1),
            "jitterBufferDelayMs": (
                round(1000.0 * _number(audio, "jitterBufferDelay") / emitted, 1)
                if emitted
                else None
            ),
            "concealedPct": (
                round(100.0 * _number(audio, "concealedSamples") / samples, 2) if samples else 0.0
            ),
            "fecPacketsRecovered": int(_number(audio, "fecPacketsRecovered")),
            "mos": round(_number(audio, "mos"), 2) if "mos" in audio else None,
            "heard": receiver.audio_energy.get(sender, 0.0) > 0.0,
        },
        "video": {
            "framesDecoded": int(_number(camera, "framesDecoded")),
            "framesDropped": int(_number(camera, "framesDropped")),
            "freezeCount": int(_number(camera, "freezeCount")),
            "nackCount": int(_number(camera, "nackCount")),
            "pliCount": int(_number(camera, "pliCount")),
            "framesShown": seen.frames_shown,
            "fps": round(seen.frames_shown / seconds, 1) if seconds > 0 else 0.0,
            "stampsUnreadable": seen.stamps_unreadable,
            "framesOutOfOrder": seen.frames_out_of_order,
            "latencyMs": {
                "p50": _percentile(seen.latencies_ms, 50),
                "p95": _percentile(seen.latencies_ms, 95),
                "max": round(max(seen.latencies_ms), 1) if seen.latencies_ms else None,
            },
        },
        "networkQuality": str(audio.get("networkQuality", camera.get("networkQuality", "-"))),
    }


def _figures(
    participants: list[_Participant], ids: dict[str, str], seconds: float
) -> dict[str, Any]:
    people: list[dict[str, Any]] = []
    for participant in participants:
        stats = participant.meeting.stats()
        rtt_s = stats["transport"].get("roundTripTime")
        pairs = [
            _pair_figures(participant, ids.get(pid, pid), inbound, seconds)
            for pid, inbound in sorted(
                stats["inbound"].items(), key=lambda item: ids.get(item[0], item[0])
            )
        ]
        people.append(
            {
                "name": participant.name,
                "displayName": participant.display_name,
                "participantId": participant.meeting.participant_id,
                "roundTripTimeMs": round(1000.0 * rtt_s, 1) if rtt_s is not None else None,
                "sent": {
                    kind: {
                        "packetsSent": int(_number(outbound, "packetsSent")),
                        "bytesSent": int(_number(outbound, "bytesSent")),
                        "targetBitrate": int(_number(outbound, "targetBitrate")),
                    }
                    for kind, outbound in stats["outbound"].items()
                },
                "iceRestarts": stats["transport"].get("iceRestarts", 0),
                "received": pairs,
            }
        )
    pairs = [pair for person in people for pair in person["received"]]
    mos = [pair["audio"]["mos"] for pair in pairs if pair["audio"]["mos"] is not None]
    latencies = [
        latency
        for participant in participants
        for seen in participant.received.values()
        for latency in seen.latencies_ms
    ]
    return {
        "measuredSeconds": round(seconds, 1),
        "participants": people,
        "summary": {
            "streamsExpected": len(participants) * (len(participants) - 1),
            "audioStreamsHeard": sum(1 for pair in pairs if pair["audio"]["heard"]),
            "videoStreamsShown": sum(1 for pair in pairs if pair["video"]["framesShown"] > 0),
            "meanMos": round(float(np.mean(mos)), 2) if mos else None,
            "minMos": round(min(mos), 2) if mos else None,
            "meanAudioLossPct": (
                round(float(np.mean([p["audio"]["lossPct"] for p in pairs])), 2) if pairs else None
            ),
            "videoLatencyMs": {
                "p50": _percentile(latencies, 50),
                "p95": _percentile(latencies, 95),
                "max": round(max(latencies), 1) if latencies else None,
            },
            "freezes": sum(pair["video"]["freezeCount"] for pair in pairs),
        },
    }


# --- the live table ---

_COLUMNS: Final = (
    ("receiver", 10),
    ("from", 10),
    ("loss%", 6),
    ("jit ms", 6),
    ("jb ms", 6),
    ("conc%", 6),
    ("MOS", 5),
    ("fps", 5),
    ("frz", 4),
    ("nack", 5),
    ("pli", 4),
    ("lat p50", 8),
    ("lat p95", 8),
    ("rtt ms", 7),
    ("grade", 9),
)


def _cell(value: object, width: int) -> str:
    text = "-" if value is None else str(value)
    return text[:width].rjust(width)


def _draw(
    out: TextIO,
    banner: list[str],
    participants: list[_Participant],
    ids: dict[str, str],
    elapsed_s: float,
    measured_s: float,
) -> None:
    """Redraws the banner and the table in place on a terminal; elsewhere
    (a pipe, a log) appends the table alone."""
    figures = _figures(participants, ids, max(measured_s, 1e-3))
    lines = banner[:] if out.isatty() else []
    lines.append(f"meeting time {elapsed_s:6.1f} s (figures over {measured_s:.0f} s of media)")
    lines.append(" ".join(_cell(n, w) for n, w in _COLUMNS))
    for person in figures["participants"]:
        for pair in person["received"]:
            audio, video = pair["audio"], pair["video"]
            row = (
                person["name"],
                pair["from"],
                audio["lossPct"],
                audio["jitterMs"],
                audio["jitterBufferDelayMs"],
                audio["concealedPct"],
                audio["mos"],
                video["fps"],
                video["freezeCount"],
                video["nackCount"],
                video["pliCount"],
                video["latencyMs"]["p50"],
                video["latencyMs"]["p95"],
                person["roundTripTimeMs"],
                pair["networkQuality"],
            )
            lines.append(" ".join(_cell(v, w) for v, (_, w) in zip(row, _COLUMNS, strict=True)))
    if out.isatty():
        # Cursor home and clear below: the table stays in place.
        out.write("\x1b[H\x1b[J")
    out.write("\n".join(lines) + "\n")
    out.flush()


def _print_summary(out: TextIO, figures: dict[str, Any]) -> None:
    summary = figures["summary"]
    latency = summary["videoLatencyMs"]
    print(
        f"\n{summary['audioStreamsHeard']}/{summary['streamsExpected']} audio streams heard, "
        f"{summary['videoStreamsShown']}/{summary['streamsExpected']} video streams shown; "
        f"MOS mean {summary['meanMos']} (min {summary['minMos']}); video latency p50 "
        f"{latency['p50']} ms, p95 {latency['p95']} ms; {summary['freezes']} freezes",
        file=out,
    )
