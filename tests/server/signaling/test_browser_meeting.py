"""Headless Chromium and a Python client in one meeting through the SFU.

The server runs embedded on loopback. The host joins with cloudlink.client
and publishes speech; Ada's browser (the system's Chromium, fake camera
and microphone, driven by Playwright) joins through the minimal page
browser_meeting.html and negotiates with `offer`: its microphone and
camera become tracks, the host's audio a recvonly section. The host then
starts its camera (the live test pattern): the page hears of it and
offers again; when the host stops it, the page stops that transceiver and
offers a third time, and media goes on. Each side checks what it decoded:
the host the browser's Opus and VP8, the browser (getStats, and the
picture drawn to a canvas) the host's speech and pattern. Without
Chromium or Playwright it fails.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from cloudlink.accounts.passwords import PasswordPolicy
from cloudlink.client import Client, Meeting, RestClient
from cloudlink.client.live_pattern import live_test_pattern
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_frame import VideoFrame
from cloudlink.server.embedded import EmbeddedServer

# The flags of shared/ANCHORS.md (Browser): fake devices, loopback ICE.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE = Path(__file__).with_name("browser_meeting.html")
LOOPBACK = "127.0.0.1"
FAST_PASSWORDS = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
RATE_HZ = 48000
WIDTH_PX, HEIGHT_PX, FPS = 320, 240, 15.0
# What each side must have decoded before the checks (the fake camera
# sends 20 fps; the pattern goes at FPS).
BROWSER_FRAMES = 40
PYTHON_FRAMES = 40
# A safety net against a hang, never an assertion on timing.
WAIT_S = 20.0
# An Opus frame of the fake microphone's beep is far above this RMS;
# silence and comfort noise are below.
AUDIBLE_RMS = 300.0


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(f"Chromium is missing ({path}): scripts/bootstrap.sh test installs it")
    return path


@contextlib.asynccontextmanager
async def _server(tmp_path: Path) -> AsyncIterator[EmbeddedServer]:
    server = EmbeddedServer(database_path=tmp_path / "server.db", password_policy=FAST_PASSWORDS)
    await server.start()
    try:
        server.add_organisation(
            "Acme", admin="host", members=[("ada", "Ada Lovelace")], password=PASSWORD
        )
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def _page_server() -> AsyncIterator[str]:
    """The page on a free loopback port (getUserMedia needs a secure
    context, which http://127.0.0.1 is); yields its URL."""
    app = web.Application()
    html = PAGE.read_text()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, 0).start()
    try:
        yield f"http://{LOOPBACK}:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


@dataclass
class Decoded:
    """What the host decoded of the browser's tracks."""

    audio_rms: list[float] = field(default_factory=list)
    video_sizes: list[tuple[int, int]] = field(default_factory=list)

    def attach(self, meeting: Meeting, browser_id: Callable[[], str | None]) -> None:
        def hear(participant_id: str, frame: AudioFrame) -> None:
            if participant_id == browser_id():
                rms = np.sqrt(np.mean(frame.samples.astype(np.float64) ** 2))
                self.audio_rms.append(float(rms))

        def see(participant_id: str, kind: str, frame: VideoFrame) -> None:
            if participant_id == browser_id() and kind == "camera":
                rows, width = frame.pixels.shape
                self.video_sizes.append((width, rows * 2 // 3))

        meeting.on_audio = hear
        meeting.on_video = see


def _luma_frame(picture: dict[str, Any]) -> npt.NDArray[np.uint8]:
    """The page's luma as an I420 frame (neutral chroma) for read_test_pattern."""
    width, height = int(picture["width"]), int(picture["height"])
    luma = np.frombuffer(base64.b64decode(picture["luma"]), np.uint8).reshape(height, width)
    return np.concatenate([luma, np.full((height // 2, width), 128, np.uint8)])


async def _until(condition: Callable[[], Any]) -> None:
    """Returns once ``condition()`` (sync or async) is truthy; TimeoutError after WAIT_S."""

    async def poll() -> None:
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), WAIT_S)


async def test_chromium_and_a_python_client_meet_through_the_sfu(tmp_path: Path) -> None:
    chromium = _chromium()
    async with (
        _server(tmp_path) as server,
        _page_server() as url,
        async_playwright() as playwright,
    ):
        host = await Client.login(
            server.url,
            organisation="Acme",
            account="host",
            password=PASSWORD,
            device_id="host-laptop",
        )
        rest = RestClient(server.url)
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            await rest.login(
                organisation="Acme",
                account_name="ada",
                password=PASSWORD,
                device_id="ada-browser",
            )
            await _meet(host, rest.token, server.url, await browser.new_page(), url)
        finally:
            await browser.close()
            await rest.close()
            await host.close()


async def _meet(host: Client, token: str | None, server_url: str, page: Page, url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)

    # Step 1: the host joins and speaks; the browser joins and offers.
    info = await host.create_meeting("Browser check")
    meeting = await host.join(info.code, sample_rate_hz=RATE_HZ)
    browser_id: list[str] = []
    decoded = Decoded()
    decoded.attach(meeting, lambda: browser_id[0] if browser_id else None)
    speech = await meeting.publish_audio(speech_source("alice", sample_rate_hz=RATE_HZ))
    joined = await page.evaluate(
        "options => joinMeeting(options)",
        {
            "signalingUrl": server_url.replace("http://", "ws://") + "/api/signaling",
            "token": token,
            "deviceId": "ada-browser",
            "meeting": info.code,
            "loopbackOnly": True,
        },
    )
    browser_id.append(joined)
    first = await page.evaluate("negotiationState()")
    assert first["negotiations"] == 1 and first["errors"] == [], first
    assert {t["kind"] for t in first["answer"]["tracks"].values()} == {"audio", "camera"}
    assert [s["kind"] for s in first["answer"]["subscriptions"].values()] == ["audio"]

    # Step 2: the host starts its camera; the page offers again for it.
    camera = await meeting.publish_video(
        live_test_pattern(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS)
    )
    assert speech.track_id is not None and camera.track_id is not None
    camera_id = camera.track_id

    async def renegotiated() -> bool:
        state = await page.evaluate("negotiationState()")
        return bool(state["negotiations"] >= 2)

    await _until(renegotiated)
    second = await page.evaluate("negotiationState()")
    assert second["errors"] == [] and second["connection"] == "connected", second
    kinds = sorted(s["kind"] for s in second["answer"]["subscriptions"].values())
    assert kinds == ["audio", "camera"]
    # The audio subscription kept its SSRC through the renegotiation.
    (mid, audio), *_ = first["answer"]["subscriptions"].items()
    assert second["answer"]["subscriptions"][mid] == audio

    # Step 3: media both ways until each side decoded enough; the canvas read meanwhile.
    async def browser_decoded() -> bool:
        stats = await page.evaluate("rtpStats()")
        seen = stats["inbound"].get(camera_id, {})
        return bool(seen.get("framesDecoded", 0) >= BROWSER_FRAMES)

    await _until(lambda: len(decoded.video_sizes) >= PYTHON_FRAMES)
    await _until(browser_decoded)
    numbers = await _read_pattern(page, camera_id)
    stats = await page.evaluate("rtpStats()")
    host_stats = meeting.stats()

    # Step 4: the host stops its camera; the page stops that transceiver
    # and offers again (a rejected section); media goes on.
    await meeting.unpublish("camera")

    async def stopped() -> bool:
        state = await page.evaluate("negotiationState()")
        return bool(state["negotiations"] >= 3)

    await _until(stopped)
    third = await page.evaluate("negotiationState()")
    assert third["errors"] == [] and third["connection"] == "connected", third
    assert list(third["answer"]["subscriptions"].values()) == [audio]
    seen_before = len(decoded.video_sizes)
    await _until(lambda: len(decoded.video_sizes) >= seen_before + 10)
    await page.evaluate("leaveMeeting()")
    await meeting.wait_for("participant-left", timeout_s=WAIT_S)
    await meeting.leave()
    assert errors == []

    # Step 5: the host decoded the browser's microphone and camera.
    assert sum(rms > AUDIBLE_RMS for rms in decoded.audio_rms) > 10, host_stats["inbound"]
    width, height = decoded.video_sizes[-1]
    assert (width, height) == (640, 480)
    from_browser = host_stats["inbound"][joined]
    assert from_browser["camera"]["packetsMalformed"] == 0, from_browser["camera"]
    # Its audio level came through the SFU in the extension the answer agreed.
    assert from_browser["audio"]["audioLevel"] > 0.0, from_browser["audio"]

    # Step 6: the browser decoded the host's speech and test pattern.
    heard = stats["inbound"][speech.track_id]
    seen = stats["inbound"][camera_id]
    assert (heard["mimeType"], seen["mimeType"]) == ("audio/opus", "video/VP8")
    # totalAudioEnergy sums level^2 x seconds: 0.05 over the few seconds
    # here is a mean level speech reaches and concealment does not.
    assert heard["totalSamplesReceived"] > 0 and heard["totalAudioEnergy"] > 0.05, heard
    assert heard["concealedSamples"] < heard["totalSamplesReceived"] / 2, heard
    assert seen["framesDecoded"] >= BROWSER_FRAMES, seen
    assert (seen["frameWidth"], seen["frameHeight"]) == (WIDTH_PX, HEIGHT_PX)
    read = [n for n in numbers if n is not None]
    assert len(read) >= 2 and read == sorted(read) and read[0] < read[-1], numbers
    # And it sent: both its streams left the page.
    assert stats["outbound"]["audio"]["packetsSent"] > 0
    assert stats["outbound"]["video"]["framesEncoded"] > 0


async def _read_pattern(page: Page, track_id: str) -> list[int | None]:
    """Frame numbers of the test pattern in the page's canvas, read a few
    times while the host's video plays (None where the stamp did not read)."""
    numbers: list[int | None] = []
    for _ in range(5):
        await asyncio.sleep(0.3)
        picture = await page.evaluate("id => readLuma(id)", track_id)
        if picture is not None:
            stamp = read_test_pattern(_luma_frame(picture))
            numbers.append(None if stamp is None else stamp.frame_number)
    return numbers
