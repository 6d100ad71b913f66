"""Janus VideoRoom as the SFU benchmark's anchor: one aiortc publisher
(WebRTC, 720p VP8 + Opus) in a VideoRoom, its streams relayed by Janus's
RTP forwarders to N plain UDP sockets that count packets. Janus's CPU time
comes from /proc; the forwarders are Janus's own fan-out path without
per-subscriber SRTP, the closest it has to our transport-less data path.

Janus runs from a copy of /etc/janus (ANCHORS.md): HTTP API on 127.0.0.1
only, every plugin but VideoRoom and every transport but HTTP disabled.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from cloudlink.media.test_pattern import TestPattern

_PLUGINS = [
    "audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip", "streaming",
    "textroom", "videocall", "voicemail",
]  # fmt: skip
_TRANSPORTS = ["mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _configure(folder: Path, http_port: int) -> None:
    main = (folder / "janus.jcfg").read_text().splitlines()
    out = []
    for line in main:
        stripped = line.strip()
        if stripped.startswith("configs_folder"):
            line = f'\tconfigs_folder = "{folder}"'
        elif stripped.startswith("debug_level"):
            line = "\tdebug_level = 2"
        out.append(line)
        if stripped == "plugins: {":
            out.append('\tdisable = "' + ",".join(f"libjanus_{p}.so" for p in _PLUGINS) + '"')
        elif stripped == "transports: {":
            out.append('\tdisable = "' + ",".join(f"libjanus_{t}.so" for t in _TRANSPORTS) + '"')
    (folder / "janus.jcfg").write_text("\n".join(out) + "\n")
    http = (folder / "janus.transport.http.jcfg").read_text().splitlines()
    out = []
    for line in http:
        stripped = line.strip()
        if stripped.startswith("port ="):
            line = f"\tport = {http_port}"
        elif stripped.startswith("#ip =") and not any(o.strip().startswith("ip =") for o in out):
            line = '\tip = "127.0.0.1"'
        out.append(line)
    (folder / "janus.transport.http.jcfg").write_text("\n".join(out) + "\n")


class _JanusApi:
    """The Janus HTTP API (long polls included), blocking; call through a thread."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/janus"
        self.session = 0
        self.handle = 0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6)}
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            reply: dict[str, Any] = json.loads(response.read())
        return reply

    def start(self) -> None:
        self.session = self._post("", {"janus": "create"})["data"]["id"]
        reply = self._post(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        self.handle = reply["data"]["id"]

    def message(self, body: dict[str, Any], jsep: dict[str, str] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        return self._post(f"/{self.session}/{self.handle}", request)

    def poll(self) -> dict[str, Any]:
        url = f"{self.base}/{self.session}?maxev=1"
        with urllib.request.urlopen(url, timeout=40) as response:
            reply: dict[str, Any] = json.loads(response.read())
        return reply


class _PatternTrack(VideoStreamTrack):
    """The stamped test pattern at 30 fps, as aiortc wants frames."""

    def __init__(self, width_px: int, height_px: int) -> None:
        super().__init__()
        self.pattern = TestPattern(width_px=width_px, height_px=height_px)
        self.index = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        pixels = self.pattern.frame(self.index)
        self.index += 1
        frame = av.VideoFrame.from_ndarray(pixels, format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


class _Counter(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets = 0

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.packets += 1


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_for(api: _JanusApi, wanted: Any, tries: int = 20) -> dict[str, Any]:
    """The first event the long poll brings that ``wanted`` accepts."""
    for _ in range(tries):
        reply = await asyncio.to_thread(api.poll)
        for item in reply if isinstance(reply, list) else [reply]:
            if os.environ.get("JANUS_DEBUG"):
                print("janus:", json.dumps(item)[:300], flush=True)
            if item.get("janus") == "event" and wanted(item):
                return item  # type: ignore[no-any-return]
    raise RuntimeError("janus never sent the event waited for")


async def _measure(api: _JanusApi, pid: int, subscribers: int, duration_s: float) -> dict[str, Any]:
    room = 4000 + secrets.randbelow(1000)
    created = await asyncio.to_thread(
        api.message,
        {"request": "create", "room": room, "publishers": 1, "bitrate": 1_500_000,
         "videocodec": "vp8", "audiocodec": "opus"},
    )  # fmt: skip
    if os.environ.get("JANUS_DEBUG"):
        print("janus create:", json.dumps(created)[:300], flush=True)
    await asyncio.to_thread(api.message, {"request": "join", "ptype": "publisher", "room": room})
    joined = await _wait_for(
        api, lambda item: item.get("plugindata", {}).get("data", {}).get("videoroom") == "joined"
    )
    publisher_id = joined["plugindata"]["data"]["id"]
    pc = RTCPeerConnection()
    pc.addTrack(AudioStreamTrack())
    pc.addTrack(_PatternTrack(1280, 720))
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"type": "offer", "sdp": pc.localDescription.sdp}
    await asyncio.to_thread(
        api.message, {"request": "publish", "audio": True, "video": True}, offer
    )
    answer = (await _wait_for(api, lambda item: "jsep" in item))["jsep"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

    # The fan-out: one forwarder per subscriber, each to its own counting socket.
    loop = asyncio.get_running_loop()
    counters = [_Counter() for _ in range(subscribers)]
    transports = []
    for counter in counters:
        transport, _ = await loop.create_datagram_endpoint(
            lambda c=counter: c, local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
    for transport in transports:
        port = transport.get_extra_info("sockname")[1]
        reply = await asyncio.to_thread(
            api.message,
            {"request": "rtp_forward", "room": room, "publisher_id": publisher_id,
             "host": "127.0.0.1", "host_family": "ipv4",
             "streams": [{"mid": "0", "port": port}, {"mid": "1", "port": port}]},
        )  # fmt: skip
        data = reply.get("plugindata", {}).get("data", {})
        if reply.get("janus") == "error" or "error_code" in data:
            raise RuntimeError(f"rtp_forward refused: {reply}")
    await asyncio.sleep(3.0)  # ICE, DTLS and the encoder's ramp-up
    start_counts = [c.packets for c in counters]
    start_cpu, start_wall = _cpu_s(pid), time.monotonic()
    await asyncio.sleep(duration_s)
    cpu_s, wall_s = _cpu_s(pid) - start_cpu, time.monotonic() - start_wall
    forwarded = sum(c.packets for c in counters) - sum(start_counts)
    await pc.close()
    for transport in transports:
        transport.close()
    return {
        "subscribers": subscribers,
        "packets_forwarded": forwarded,
        "packets_in_per_s": forwarded / subscribers / wall_s,
        "janus_cpu_s": cpu_s,
        "wall_s": wall_s,
        "us_per_forwarded_packet": cpu_s * 1e6 / max(1, forwarded),
        "forwarded_per_s_per_core": forwarded / cpu_s if cpu_s > 0 else None,
    }


def run_janus(subscriber_counts: list[int], duration_s: float) -> list[dict[str, Any]] | str:
    """Figures per subscriber count, or why Janus could not run."""
    if shutil.which("janus") is None:
        return "not run: janus is not installed (apt-get install janus)"
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        shutil.copytree("/etc/janus", folder, dirs_exist_ok=True)
        port = _free_port()
        _configure(folder, port)
        process = subprocess.Popen(
            ["janus", "-F", str(folder), "-C", str(folder / "janus.jcfg")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            api = _JanusApi(port)
            for _ in range(50):
                try:
                    api.start()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                return "not run: janus did not answer on its HTTP API"
            results = []
            for count in subscriber_counts:
                api.start()  # a session and handle of its own for each publisher
                results.append(asyncio.run(_measure(api, process.pid, count, duration_s)))
            return results
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    print(run_janus([1, 4], 5.0))
