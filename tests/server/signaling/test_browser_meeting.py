"""Headless Chromium joins a meeting through the join page the server serves.

The server runs embedded on loopback. The host joins with cloudlink.client
and publishes speech; Ada opens the meeting's join link /j/{code} in the
system's Chromium (fake camera and microphone, driven by Playwright), signs
in with the page's form and the page joins with `offer`: its microphone
and camera become tracks, the host's audio a recvonly section. The host
then starts its camera (the live test pattern): the page hears of it and
offers again; Ada mutes her microphone with the page's button; the host
stops its camera and the page offers a third time, and media goes on.
Each side checks what it decoded: the host the browser's Opus and VP8,
the browser (getStats, the tile's stats line, and the picture of the
host's tile drawn to a canvas) the host's speech and pattern. A second
test signs in with a wrong password and reads the server's refusal on the
page, then signs in on a browser without camera or microphone, gives the
meeting's password (after a wrong one, refused on the page too), waits
until the host admits it from the waiting room, and joins to receive only
and hears the host. Without Chromium or Playwright they
fail.

The page is the product's, unchanged: a script Playwright adds before it
loads (TEST_HOOKS) records its peer connections and signaling messages and
keeps only 127.0.0.1 candidates both ways, so the test stays on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
import pytest
from playwright.async_api import Browser, Page, async_playwright

from chromium_media import CHROMIUM_MEDIA_ARGS
from cloudlink.accounts.passwords import PasswordPolicy
from cloudlink.client import Client, Meeting
from cloudlink.client.live_pattern import live_test_pattern
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import speech_source
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_frame import VideoFrame
from cloudlink.server.embedded import EmbeddedServer

CHROMIUM_ARGS = list(CHROMIUM_MEDIA_ARGS)
# Runs in the page before its modules: records what the test reads and
# keeps ICE on 127.0.0.1 (the page itself offers every candidate it has).
TEST_HOOKS = """
(() => {
  const loopback = (sdp) => sdp.split("\\r\\n").filter(
    (line) => !line.startsWith("a=candidate:") || line.split(" ")[4] === "127.0.0.1"
  ).join("\\r\\n");
  window.testHooks = { connections: [], messages: [] };
  const Connection = window.RTCPeerConnection;
  const local = Object.getOwnPropertyDescriptor(Connection.prototype, "localDescription");
  Object.defineProperty(Connection.prototype, "localDescription", {
    get() {
      const description = local.get.call(this);
      return description && { type: description.type, sdp: loopback(description.sdp) };
    },
  });
  const setRemote = Connection.prototype.setRemoteDescription;
  Connection.prototype.setRemoteDescription = function (description) {
    return setRemote.call(this, { type: description.type, sdp: loopback(description.sdp) });
  };
  window.RTCPeerConnection = class extends Connection {
    constructor(...options) {
      super(...options);
      window.testHooks.connections.push(this);
    }
  };
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...options) {
      super(...options);
      this.addEventListener("message", (event) =>
        window.testHooks.messages.push({ sent: false, ...JSON.parse(event.data) }));
    }
    send(data) {
      window.testHooks.messages.push({ sent: true, ...JSON.parse(data) });
      super.send(data);
    }
  };
})();
"""
# The answers to the page's offers, in order.
ANSWERS_JS = """() => {
  const messages = window.testHooks.messages;
  const offers = new Set(messages.filter((m) => m.sent && m.type === "offer").map((m) => m.id));
  return messages.filter((m) => !m.sent && m.type === "ok" && offers.has(m.id));
}"""
# Inbound streams by the track id they carry (from the answers), outbound by kind.
RTP_STATS_JS = """async (answers) => {
  const byMid = new Map();
  for (const answer of answers) {
    for (const [mid, s] of Object.entries(answer.subscriptions)) byMid.set(mid, s.track_id);
  }
  const report = await window.testHooks.connections.at(-1).getStats();
  const found = { inbound: {}, outbound: {} };
  report.forEach((s) => {
    const entry = { ...s, mimeType: report.get(s.codecId)?.mimeType };
    if (s.type === "inbound-rtp") found.inbound[byMid.get(s.mid) ?? `mid-${s.mid}`] = entry;
    if (s.type === "outbound-rtp") found.outbound[s.kind] = entry;
  });
  return found;
}"""
# A tile's video luma (BT.601 video range) as base64, for read_test_pattern.
READ_LUMA_JS = """(trackId) => {
  const video = document.querySelector(`video[data-track="${trackId}"]`);
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let text = "";
  for (let i = 0; i < canvas.width * canvas.height; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    text += String.fromCharCode(Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b));
  }
  return { width: canvas.width, height: canvas.height, luma: btoa(text) };
}"""
FAST_PASSWORDS = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
MEETING_PASSWORD = "open sesame"
RATE_HZ = 48000
WIDTH_PX, HEIGHT_PX, FPS = 320, 240, 15.0
# What each side must have decoded before the checks (the fake camera
# sends 20 fps; the pattern goes at FPS).
BROWSER_FRAMES = 40
PYTHON_FRAMES = 40
# A safety net against a hang, never an assertion on timing.
WAIT_S = 20.0
WAIT_MS = 20_000
# An Opus frame of the fake microphone's beep is far above this RMS;
# silence and comfort noise are below.
AUDIBLE_RMS = 300.0


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(f"Chromium is missing ({path}): scripts/bootstrap.sh test installs it")
    return path


@contextlib.asynccontextmanager
async def _world(
    tmp_path: Path, *, flags: list[str] = CHROMIUM_ARGS
) -> AsyncIterator[tuple[EmbeddedServer, Browser]]:
    """The server with Acme (host, Ada) and a Chromium with ``flags`` to open its pages."""
    chromium = _chromium()
    server = EmbeddedServer(database_path=tmp_path / "server.db", password_policy=FAST_PASSWORDS)
    await server.start()
    try:
        server.add_organisation(
            "Acme", admin="host", members=[("ada", "Ada Lovelace")], password=PASSWORD
        )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=flags)
            try:
                yield server, browser
            finally:
                await browser.close()
    finally:
        await server.stop()


async def _open_join_page(browser: Browser, link: str, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.add_init_script(TEST_HOOKS)
    await page.goto(link)
    return page


async def _sign_in(page: Page, *, account: str, password: str) -> None:
    await page.fill("input[name=organisation]", "Acme")
    await page.fill("input[name=account_name]", account)
    await page.fill("input[name=password]", password)
    await page.click("#sign-in button[type=submit]")


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


async def test_chromium_joins_through_the_join_page_and_meets_a_python_client(
    tmp_path: Path,
) -> None:
    async with _world(tmp_path) as (server, browser):
        host = await Client.login(
            server.url,
            organisation="Acme",
            account="host",
            password=PASSWORD,
            device_id="host-laptop",
        )
        try:
            await _meet(host, browser)
        finally:
            await host.close()


async def _meet(host: Client, browser: Browser) -> None:
    # Step 1: the host joins and speaks; Ada opens the link and signs in.
    info = await host.create_meeting("Browser check")
    meeting = await host.join(info.code, sample_rate_hz=RATE_HZ)
    speech = await meeting.publish_audio(speech_source("alice", sample_rate_hz=RATE_HZ))
    joined = asyncio.ensure_future(meeting.wait_for("participant-joined", timeout_s=WAIT_S))
    errors: list[str] = []
    page = await _open_join_page(browser, info.join_link, errors)
    code = info.code
    assert await page.text_content("h1") == f"CloudLink meeting {code[:3]} {code[3:6]} {code[6:]}"
    await _sign_in(page, account="ada", password=PASSWORD)
    ada = (await joined).participant
    assert ada is not None and ada.display_name == "Ada Lovelace"
    browser_id = ada.participant_id
    decoded = Decoded()
    decoded.attach(meeting, lambda: browser_id)

    async def answers() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await page.evaluate(ANSWERS_JS)
        return found

    await _until(lambda: _at_least(answers, 1))
    (first,) = await answers()
    assert {t["kind"] for t in first["tracks"].values()} == {"audio", "camera"}
    assert [s["kind"] for s in first["subscriptions"].values()] == ["audio"]
    # The host's tile, named.
    tile = page.locator(f'figure[data-participant="{meeting.participant_id}"]')
    assert await tile.locator("figcaption").text_content() == "Host"

    # Step 2: the host starts its camera; the page offers again for it.
    camera = await meeting.publish_video(
        live_test_pattern(width_px=WIDTH_PX, height_px=HEIGHT_PX, frame_rate_fps=FPS)
    )
    assert speech.track_id is not None and camera.track_id is not None
    camera_id = camera.track_id
    await _until(lambda: _at_least(answers, 2))
    second = (await answers())[1]
    kinds = sorted(s["kind"] for s in second["subscriptions"].values())
    assert kinds == ["audio", "camera"]
    # The audio subscription kept its SSRC through the renegotiation.
    (mid, audio), *_ = first["subscriptions"].items()
    assert second["subscriptions"][mid] == audio

    # Step 3: media both ways until each side decoded enough; the tile read meanwhile.
    async def browser_decoded() -> bool:
        stats = await page.evaluate(RTP_STATS_JS, await answers())
        seen = stats["inbound"].get(camera_id, {})
        return bool(seen.get("framesDecoded", 0) >= BROWSER_FRAMES)

    await _until(lambda: len(decoded.video_sizes) >= PYTHON_FRAMES)
    await _until(browser_decoded)
    numbers = await _read_pattern(page, camera_id)
    stats = await page.evaluate(RTP_STATS_JS, await answers())
    host_stats = meeting.stats()
    # The tile's stats line counts the frames it decoded.
    stats_line = tile.locator(".stats")
    await stats_line.filter(has_text=re.compile(r"[1-9]\d* frames decoded")).wait_for(
        timeout=WAIT_MS
    )
    assert "audio: lost" in (await stats_line.text_content() or "")

    # Step 4: Ada mutes her microphone: the host hears of it, the track is off.
    await page.click("#mute-audio")
    await meeting.wait_for(
        "participant-updated",
        lambda event: (
            event.participant is not None
            and event.participant.participant_id == browser_id
            and event.participant.audio_muted
        ),
        timeout_s=WAIT_S,
    )
    sending = await page.evaluate(
        """() => window.testHooks.connections[0].getSenders()
            .filter((s) => s.track).map((s) => [s.track.kind, s.track.enabled])"""
    )
    assert sorted(sending) == [["audio", False], ["video", True]]
    # One remote tile, the host's: Ada's own updates made none of her.
    assert await page.locator("figure[data-participant]").count() == 1

    # Step 5: the host stops its camera; the page stops that transceiver
    # and offers again (a rejected section); media goes on.
    await meeting.unpublish("camera")
    await _until(lambda: _at_least(answers, 3))
    third = (await answers())[2]
    assert list(third["subscriptions"].values()) == [audio]
    seen_before = len(decoded.video_sizes)
    await _until(lambda: len(decoded.video_sizes) >= seen_before + 10)
    assert await page.evaluate("window.testHooks.connections[0].connectionState") == "connected"
    await page.click("#leave")
    await meeting.wait_for("participant-left", timeout_s=WAIT_S)
    await meeting.leave()
    assert errors == []
    assert await page.locator("#error").is_hidden()
    # Only the device id was kept; no password, no token.
    storage = await page.evaluate("() => ({ ...localStorage, ...sessionStorage })")
    assert list(storage) == ["cloudlink.join.device"], storage
    assert storage["cloudlink.join.device"].startswith("web-")

    # Step 6: the host decoded the browser's microphone and camera.
    assert sum(rms > AUDIBLE_RMS for rms in decoded.audio_rms) > 10, host_stats["inbound"]
    width, height = decoded.video_sizes[-1]
    assert (width, height) == (640, 480)
    from_browser = host_stats["inbound"][browser_id]
    assert from_browser["camera"]["packetsMalformed"] == 0, from_browser["camera"]
    # Its audio level came through the SFU in the extension the answer agreed.
    assert from_browser["audio"]["audioLevel"] > 0.0, from_browser["audio"]

    # Step 7: the browser decoded the host's speech and test pattern.
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


async def _at_least(answers: Callable[[], Any], count: int) -> bool:
    return len(await answers()) >= count


async def _read_pattern(page: Page, track_id: str) -> list[int | None]:
    """Frame numbers of the test pattern in the host's tile, read a few
    times while its video plays (None where the stamp did not read)."""
    numbers: list[int | None] = []
    for _ in range(5):
        await asyncio.sleep(0.3)
        picture = await page.evaluate(READ_LUMA_JS, track_id)
        if picture is not None:
            stamp = read_test_pattern(_luma_frame(picture))
            numbers.append(None if stamp is None else stamp.frame_number)
    return numbers


async def test_wrong_passwords_are_refused_on_the_page_and_a_camera_less_browser_listens(
    tmp_path: Path,
) -> None:
    # A fake camera and microphone that are not there (no devices of the
    # fake kind): getUserMedia finds nothing and the page receives only.
    fake = "--use-fake-device-for-media-stream"
    flags = [f"{fake}=device-count=0" if flag == fake else flag for flag in CHROMIUM_ARGS]
    async with _world(tmp_path, flags=flags) as (server, browser):
        host = await Client.login(
            server.url, organisation="Acme", account="host", password=PASSWORD, device_id="h"
        )
        try:
            await _refused_then_listening(server, host, browser)
        finally:
            await host.close()


async def _refused_then_listening(server: EmbeddedServer, host: Client, browser: Browser) -> None:
    info = await host.create_meeting("No camera", password=MEETING_PASSWORD)
    await host.rest.request("PATCH", f"/api/meetings/{info.code}", json={"waiting_room": True})
    meeting = await host.join(info.code, password=MEETING_PASSWORD, sample_rate_hz=RATE_HZ)
    speech = await meeting.publish_audio(speech_source("alice", sample_rate_hz=RATE_HZ))
    # Step 1: what the server says to a wrong password, asked directly.
    async with aiohttp.ClientSession() as http:
        body = {"organisation": "Acme", "account_name": "ada", "password": "wrong"}
        body["device_id"] = "probe"
        async with http.post(f"{server.url}/api/auth/login", json=body) as response:
            assert response.status == 401
            refusal = (await response.json())["error"]["message"]

    # Step 2: the page shows it and gives the form back, its password emptied.
    errors: list[str] = []
    page = await _open_join_page(browser, info.join_link, errors)
    await _sign_in(page, account="ada", password="wrong")
    error = page.locator("#error")
    await error.wait_for(state="visible", timeout=WAIT_MS)
    assert await error.text_content() == refusal
    assert await page.locator("#sign-in").is_visible()
    assert await page.input_value("input[name=password]") == ""
    assert await page.locator("#call").is_hidden()
    assert await page.evaluate("window.testHooks.messages.length") == 0

    # Step 3: the right password; the meeting asks for its own, and refuses
    # a wrong one with the server's words.
    await _sign_in(page, account="ada", password=PASSWORD)
    await page.locator("#meeting-password").wait_for(state="visible", timeout=WAIT_MS)
    assert await error.is_hidden()
    await page.fill("#meeting-password input[name=password]", "guess")
    await page.click("#meeting-password button[type=submit]")
    await error.wait_for(state="visible", timeout=WAIT_MS)
    assert (await error.text_content() or "").endswith("(wrong_meeting_password)")

    # Step 4: the meeting's password: Ada waits until the host admits her.
    await page.fill("#meeting-password input[name=password]", MEETING_PASSWORD)
    await page.click("#meeting-password button[type=submit]")
    event = await meeting.wait_for("waiting-room", lambda e: bool(e.waiting), timeout_s=WAIT_S)
    waiting = page.locator("#status").filter(has_text="Waiting for the host to let you in")
    await waiting.wait_for(timeout=WAIT_MS)
    assert await page.locator("#call").is_hidden()
    await meeting.admit(event.waiting[0].participant_id)

    # Step 5: no camera or microphone here, so the page joins to receive
    # only, and hears the host.
    await page.locator("#call").wait_for(state="visible", timeout=WAIT_MS)
    assert await page.locator("#meeting-password").is_hidden()
    status = await page.text_content("#status") or ""
    assert status.startswith("No microphone or camera (NotFoundError)"), status
    assert await page.locator("#mute-audio").is_disabled()

    async def heard() -> bool:
        answers = await page.evaluate(ANSWERS_JS)
        if not answers:
            return False
        stats = await page.evaluate(RTP_STATS_JS, answers)
        return bool(stats["inbound"].get(speech.track_id, {}).get("packetsReceived", 0) > 50)

    await _until(heard)
    (answer,) = await page.evaluate(ANSWERS_JS)
    assert answer["tracks"] == {}
    assert [s["track_id"] for s in answer["subscriptions"].values()] == [speech.track_id]
    assert await error.is_hidden()
    assert errors == []
    await meeting.leave()
