"""A call between headless Chromium and our RTC stack: standard WebRTC both ways.

The page (served on 127.0.0.1 by aiohttp: getUserMedia needs a secure
context) opens an RTCPeerConnection with the fake camera and microphone
and offers sendrecv audio and video. Python parses the offer, answers
with a loopback Transport, an RtpSession on the offer's header extension
ids and our four streams, then each side checks what it decoded: Python
the browser's Opus and VP8, the browser (getStats, and the picture drawn
to a canvas) our speech and test pattern. Chromium is the system's
(/usr/bin/chromium); without it or Playwright this test fails.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from chromium_media import CHROMIUM_MEDIA_ARGS
from cloudlink.media.frame import AudioFrame
from cloudlink.media.receive_pipeline import ReceivePipeline
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
from cloudlink.rtc.session_description import RemoteDescription, build_answer, parse_offer
from cloudlink.rtc.transport import Transport, TransportParameters

CHROMIUM_ARGS = list(CHROMIUM_MEDIA_ARGS)
LOOPBACK = "127.0.0.1"
RATE_HZ = 48000
WIDTH_PX, HEIGHT_PX, FPS = 320, 240, 15.0
CALL_S = 5.0
# Guards against a hung handshake; the checks below are on what was decoded.
CONNECT_TIMEOUT_S = 20.0
# An Opus frame of the fake microphone's beep is far above this RMS; silence
# and comfort noise are below.
AUDIBLE_RMS = 300.0

PAGE = """<!doctype html>
<html><body>
<video id="video" autoplay playsinline muted></video>
<audio id="audio" autoplay></audio>
<canvas id="canvas"></canvas>
<script>
let pc;

async function makeOffer() {
  pc = new RTCPeerConnection({bundlePolicy: "max-bundle"});
  pc.ontrack = (event) => {
    const element = document.getElementById(event.track.kind);
    element.srcObject = event.streams[0] || new MediaStream([event.track]);
  };
  const media = await navigator.mediaDevices.getUserMedia(
    {audio: true, video: {width: 640, height: 480}});
  for (const track of media.getTracks()) pc.addTrack(track, media);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
  });
  return pc.localDescription.sdp;
}

async function acceptAnswer(sdp) {
  await pc.setRemoteDescription({type: "answer", sdp});
}

async function rtpStats() {
  const found = {};
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" || s.type === "outbound-rtp") {
      found[s.type + "-" + s.kind] = {...s, mimeType: report.get(s.codecId)?.mimeType};
    }
  });
  return found;
}

// The received picture's luma (BT.601 video range), as our I420 reader wants.
function readLuma() {
  const video = document.getElementById("video");
  const canvas = document.getElementById("canvas");
  if (!video.videoWidth) return null;
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const luma = new Uint8Array(canvas.width * canvas.height);
  for (let i = 0; i < luma.length; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    luma[i] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
  }
  let text = "";
  for (let i = 0; i < luma.length; i++) text += String.fromCharCode(luma[i]);
  return {width: canvas.width, height: canvas.height, luma: btoa(text)};
}
</script>
</body></html>
"""


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(f"Chromium is missing ({path}): scripts/bootstrap.sh test installs it")
    return path


@contextlib.asynccontextmanager
async def _page_server() -> AsyncIterator[str]:
    """The test page on a free loopback port; yields its URL."""
    app = web.Application()

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://{LOOPBACK}:{port}/"
    finally:
        await runner.cleanup()


def _loopback(parameters: TransportParameters) -> TransportParameters:
    # Only 127.0.0.1 on either side: tests stay off every other interface.
    candidates = tuple(c for c in parameters.candidates if c.ip == LOOPBACK)
    return replace(parameters, candidates=candidates)


def _luma_frame(picture: dict[str, Any]) -> npt.NDArray[np.uint8]:
    """The page's luma as an I420 frame (neutral chroma) for read_test_pattern."""
    width, height = int(picture["width"]), int(picture["height"])
    luma = np.frombuffer(base64.b64decode(picture["luma"]), np.uint8).reshape(height, width)
    chroma = np.full((height // 2, width), 128, np.uint8)
    return np.concatenate([luma, chroma])


@dataclass
class Received:
    """What Python decoded from the browser."""

    audio_rms: list[float] = field(default_factory=list)
    video_sizes: list[tuple[int, int]] = field(default_factory=list)

    def hear(self, frame: AudioFrame) -> None:
        self.audio_rms.append(float(np.sqrt(np.mean(frame.samples.astype(np.float64) ** 2))))

    def see(self, frame: VideoFrame) -> None:
        rows, width = frame.pixels.shape
        self.video_sizes.append((width, rows * 2 // 3))


async def _read_pattern(page: Page) -> list[int | None]:
    """Frame numbers of the test pattern in the browser's canvas, read a few
    times while our video plays (None where the stamp did not read)."""
    numbers: list[int | None] = []
    for _ in range(5):
        await asyncio.sleep(0.4)
        picture = await page.evaluate("readLuma()")
        if picture is not None:
            stamp = read_test_pattern(_luma_frame(picture))
            numbers.append(None if stamp is None else stamp.frame_number)
    return numbers


async def test_chromium_and_python_exchange_audio_and_video() -> None:
    chromium = _chromium()
    async with _page_server() as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            offer = parse_offer(await page.evaluate("makeOffer()"))
            await _call(page, offer)
            assert errors == []
        finally:
            await browser.close()


async def _call(page: Page, offer: RemoteDescription) -> None:
    # Step 1: our side of the offer: transport, session on the offered
    # extension ids, the four streams on the offered payload types and SSRCs.
    audio, video = offer.accepted("audio")[0], offer.accepted("video")[0]
    assert audio.payload_type is not None and video.payload_type is not None
    transport = Transport(loopback=True)
    local = _loopback(await transport.gather())
    session = RtpSession(transport, extension_ids=offer.extension_ids, rtcp_interval_ms=200.0)
    received = Received()
    audio_send = AudioSendStream(
        session,
        SendPipeline(
            sample_rate_hz=RATE_HZ,
            payload_type=audio.payload_type,
            red_payload_type=audio.red_payload_type,
        ),
        mid=audio.mid,
    )
    audio_receive = AudioReceiveStream(
        session,
        ReceivePipeline(
            sample_rate_hz=RATE_HZ,
            payload_type=audio.payload_type,
            red_payload_type=audio.red_payload_type,
        ),
        payload_types=[p for p in (audio.payload_type, audio.red_payload_type) if p is not None],
        ssrc=audio.ssrcs[0],
    )
    video_send = VideoSendStream(
        session,
        VideoSendPipeline(
            width_px=WIDTH_PX,
            height_px=HEIGHT_PX,
            frame_rate_fps=FPS,
            bitrate_bps=300_000,
            payload_type=video.payload_type,
            keyframe_interval_frames=int(FPS),
        ),
        mid=video.mid,
    )
    video_receive = VideoReceiveStream(
        session, VideoReceivePipeline(payload_type=video.payload_type), ssrc=video.ssrcs[0]
    )

    # Step 2: the answer; ICE and DTLS while the browser takes it.
    answer = build_answer(
        offer,
        transport=local,
        cname=session.cname,
        sending={audio.mid: audio_send.sender.ssrc, video.mid: video_send.sender.ssrc},
    )
    players: list[asyncio.Future[None]] = []
    try:
        await asyncio.wait_for(
            asyncio.gather(
                page.evaluate("sdp => acceptAnswer(sdp)", answer),
                transport.connect(_loopback(offer.transport), controlling=offer.answerer_controls),
            ),
            CONNECT_TIMEOUT_S,
        )
        assert transport.connected

        # Step 3: media both ways for CALL_S; the browser's canvas read meanwhile.
        session.start()
        players = [
            asyncio.ensure_future(audio_receive.play(received.hear)),
            asyncio.ensure_future(video_receive.play(received.see)),
        ]
        speech = list(speech_source("alice", sample_rate_hz=RATE_HZ))[: int(CALL_S * 100)]
        pattern = TestPattern(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS)
        frames = [VideoFrame(pattern.frame(n), n * 1000.0 / FPS) for n in range(int(CALL_S * FPS))]
        _, _, pattern_numbers = await asyncio.gather(
            audio_send.run(speech), video_send.run(frames), _read_pattern(page)
        )
        await asyncio.sleep(0.5)
        stats = await page.evaluate("rtpStats()")
        ours = {"audio": audio_receive.stats(), "video": video_receive.stats()}
        send_side_estimate_bps = session.send_side_estimate_bps
    finally:
        for player in players:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
        await session.close()
        await transport.close()

    # Step 4: Python decoded the browser's microphone and camera.
    assert sum(rms > AUDIBLE_RMS for rms in received.audio_rms) > 10, ours["audio"]
    assert len(received.video_sizes) > 5 * CALL_S, ours["video"]  # the camera sends 20 fps
    width, height = received.video_sizes[-1]
    assert 0 < width <= 640 and 0 < height <= 480 and width * 3 == height * 4
    # Its padding-only probes are no loss; its audio level came in the
    # negotiated extension.
    assert ours["video"]["packetsMalformed"] == 0, ours["video"]
    assert "audioLevel" in ours["audio"]

    # Step 5: the browser decoded our speech and test pattern.
    heard, seen = stats["inbound-rtp-audio"], stats["inbound-rtp-video"]
    assert (heard["mimeType"], seen["mimeType"]) == ("audio/opus", "video/VP8")
    # totalAudioEnergy sums level^2 x seconds: 0.05 over 5 s is a mean level
    # near -27 dBFS, which speech reaches and concealment does not.
    assert heard["totalSamplesReceived"] > 0 and heard["totalAudioEnergy"] > 0.05, heard
    assert heard["concealedSamples"] < heard["totalSamplesReceived"] / 2, heard
    assert heard["packetsReceived"] > CALL_S * 25
    assert seen["framesDecoded"] > CALL_S * FPS / 2, seen
    assert (seen["frameWidth"], seen["frameHeight"]) == (WIDTH_PX, HEIGHT_PX)
    read = [n for n in pattern_numbers if n is not None]
    assert read and all(0 <= n < CALL_S * FPS for n in read), pattern_numbers
    # And it reports on our streams: its receiver reports reached our
    # senders, its transport-wide feedback on our sequence numbers our
    # send-side estimator.
    assert audio_send.sender.round_trip_time_measurements > 0
    assert video_send.sender.round_trip_time_measurements > 0
    assert send_side_estimate_bps is not None
