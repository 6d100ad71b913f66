"""A meeting of three Python clients through the server's SFU on loopback,
each client's network losing 5% of its packets both ways: everyone hears the others'
speech and sees their test pattern (frame numbers in order, latency read
from the stamps), NACK and PLI repair the video, and the quality stats
and telemetry are filled in."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import numpy.typing as npt
import pytest
from _client_world import (  # noqa: F401
    WAIT_S,
    Received,
    rest_of,
    rms,
    server_fixture,
    sign_in,
    until,
)

from cloudlink.client import Client, Meeting
from cloudlink.client.live_pattern import live_test_pattern
from cloudlink.media.frame import AudioFrame
from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.synthetic import speech_source
from cloudlink.server.embedded import EmbeddedServer

RATE_HZ = 16000
FRAME_SAMPLES = RATE_HZ // 100
MEDIA_S = 3.0
FPS = 15.0
SPEAKERS = {"host": "alice", "ada": "bob", "bob": "carol"}


def envelope_db(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """10 ms energy envelope, in dB."""
    frames = len(samples) // FRAME_SAMPLES
    blocks = samples[: frames * FRAME_SAMPLES].astype(np.float64).reshape(frames, -1)
    return 10.0 * np.log10(1.0 + (blocks**2).mean(axis=1))


def speech_follows(sent: npt.NDArray[np.int16], heard: npt.NDArray[np.int16]) -> float:
    """The best correlation of the heard envelope with the sent one, the
    heard stream starting up to 2 s before the speech reached it."""
    sent_env, heard_env = envelope_db(sent), envelope_db(heard)
    best = -1.0
    for lag in range(0, 200):
        n = min(len(sent_env), len(heard_env) - lag)
        if n < 100:
            break
        best = max(best, float(np.corrcoef(sent_env[:n], heard_env[lag : lag + n])[0, 1]))
    return best


def speech(name: str) -> list[AudioFrame]:
    return list(itertools.islice(speech_source(name, sample_rate_hz=RATE_HZ), int(MEDIA_S * 100)))


async def test_three_clients_hear_and_see_each_other_over_lossy_paths(
    server: EmbeddedServer,
) -> None:
    names = list(SPEAKERS)
    clients: list[Client] = [await sign_in(server, name) for name in names]
    meetings: list[Meeting] = []
    try:
        info = await clients[0].create_meeting("Weekly")
        for seed, client in enumerate(clients):
            meeting = await client.join(
                info.join_link if seed else info.code,
                sample_rate_hz=RATE_HZ,
                uplink=NetworkConditions(loss_pct=5.0, base_delay_ms=10.0, seed=seed + 1),
                downlink=NetworkConditions(loss_pct=5.0, base_delay_ms=10.0, seed=seed + 11),
                quality_report_interval_s=1.0,
            )
            meetings.append(meeting)
        received = {name: Received() for name in names}
        for name, meeting in zip(names, meetings, strict=True):
            received[name].attach(meeting)
        # Everyone knows everyone before the media starts.
        for meeting in meetings:
            await until(lambda m=meeting: len(m.participants) == len(names))

        sent = {name: speech(SPEAKERS[name]) for name in names}
        for name, meeting in zip(names, meetings, strict=True):
            await meeting.publish_audio(sent[name])
            await meeting.publish_video(
                live_test_pattern(width_px=320, height_px=240, frame_rate_fps=FPS,
                                  duration_s=MEDIA_S)
            )  # fmt: skip
        for meeting in meetings:
            await meeting.wait_for(
                "track-subscribed", lambda e, m=meeting: len(m.remote) == 4, timeout_s=WAIT_S
            )
        # Media plays for MEDIA_S; then the last packets and repairs arrive.
        await asyncio.sleep(MEDIA_S + 0.7)
        stats = {name: meeting.stats() for name, meeting in zip(names, meetings, strict=True)}
        ids = {name: meeting.participant_id for name, meeting in zip(names, meetings, strict=True)}

        for name in names:
            for other in names:
                if other == name:
                    continue
                sent_samples = np.concatenate([f.samples for f in sent[other]])
                heard = received[name].heard(ids[other])
                assert rms(heard) > 0.2 * rms(sent_samples), f"{name} hears silence from {other}"
                correlation = speech_follows(sent_samples, heard)
                assert correlation > 0.5, f"{name} hears {other} garbled ({correlation:.2f})"
                seen = received[name].seen(ids[other])
                numbers = [r.frame_number for r in seen]
                assert len(numbers) >= 0.3 * MEDIA_S * FPS, f"{name} saw {other}: {numbers}"
                assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
                # A plausible latency: positive, and under a second on loopback.
                assert all(0.0 < r.latency_ms < 1000.0 for r in seen), seen

                inbound = stats[name]["inbound"][ids[other]]
                audio, camera = inbound["audio"], inbound["camera"]
                assert audio["packetsReceived"] > 0 and audio["totalSamplesReceived"] > 0
                assert 1.0 <= audio["mos"] <= 5.0
                assert audio["networkQuality"] in ("excellent", "good", "fair", "poor", "bad")
                for key in ("jitter", "jitterBufferDelay", "concealedSamples", "audioLevel"):
                    assert key in audio
                assert camera["framesDecoded"] > 0
                for key in ("framesDropped", "freezeCount", "nackCount", "pliCount", "jitter"):
                    assert key in camera

        # 5% loss: packets were dropped both ways, the SFU and the receivers
        # asked for them again, and keyframes were asked for.
        for name in names:
            transport = stats[name]["transport"]
            assert transport["uplinkPacketsDropped"] > 0 and transport["downlinkPacketsDropped"] > 0
        inbound_nacks = sum(
            stats[n]["inbound"][p]["camera"]["nackCount"]
            for n in names
            for p in stats[n]["inbound"]
        )
        outbound_nacks = sum(stats[n]["outbound"]["camera"]["nackCount"] for n in names)
        outbound_plis = sum(stats[n]["outbound"]["camera"]["pliCount"] for n in names)
        retransmitted = sum(
            stats[n]["outbound"]["camera"]["retransmittedPacketsSent"] for n in names
        )
        assert inbound_nacks > 0 and outbound_nacks > 0 and retransmitted > 0
        assert outbound_plis > 0

        # Quality reports reached the server for this meeting.
        for meeting in meetings:
            await meeting.leave()
        admin = await rest_of(server, "host")
        try:
            rows = await admin.request(
                "GET", "/api/telemetry/quality", params={"meeting_code": info.code}
            )
        finally:
            await admin.close()
        assert {row["media"] for row in rows} == {"audio", "video"}
        assert len({row["device_id"] for row in rows}) == 3
    finally:
        for client in clients:
            await client.close()


@pytest.mark.parametrize("restart", ["cut", "explicit"])
async def test_media_resumes_after_an_ice_restart(server: EmbeddedServer, restart: str) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Restart")
        watching = await host.join(
            info.code, sample_rate_hz=RATE_HZ, quality_report_interval_s=None
        )
        moving = await ada.join(info.code, sample_rate_hz=RATE_HZ, quality_report_interval_s=None)
        seen = Received()
        seen.attach(watching)
        await moving.publish_audio(speech_source("bob", sample_rate_hz=RATE_HZ))
        camera = await moving.publish_video(
            live_test_pattern(width_px=320, height_px=240, frame_rate_fps=FPS, duration_s=6.0)
        )
        ssrcs = (moving.audio.ssrc if moving.audio else 0, camera.ssrc)
        await watching.wait_for("track-subscribed", lambda e: len(watching.remote) == 2)
        await _frames_beyond(seen, moving.participant_id, 0)
        before = seen.seen(moving.participant_id)[-1].frame_number
        heard_before = len(seen.audio[moving.participant_id])
        first_transport = moving.transport.current

        if restart == "cut":
            # The network under the transport goes away; the watchdog restarts ICE.
            assert first_transport is not None
            await first_transport.close()
            await moving.wait_for("reconnected", timeout_s=WAIT_S)
        else:
            await moving.restart_ice()
        assert moving.transport.current is not first_transport
        assert moving.transport.connected
        assert moving.stats()["transport"]["iceRestarts"] == 1

        # Pictures and sound keep coming, under the same SSRCs.
        await _frames_beyond(seen, moving.participant_id, before + 10)
        assert len(seen.audio[moving.participant_id]) > heard_before
        assert ssrcs == (moving.audio.ssrc if moving.audio else 0, camera.ssrc)
        stream = watching.stats()["inbound"][moving.participant_id]["camera"]
        assert stream["framesDecoded"] > 0
        numbers = [r.frame_number for r in seen.seen(moving.participant_id)]
        assert numbers == sorted(numbers)
    finally:
        await host.close()
        await ada.close()


async def _frames_beyond(seen: Received, participant_id: str, number: int) -> None:
    """Waits until a pattern frame numbered above ``number`` was shown."""
    await until(lambda: any(r.frame_number > number for r in seen.seen(participant_id)))
