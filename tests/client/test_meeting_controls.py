"""The meeting's signaling as a client sees it through the real server:
host controls (mute all, mute one, remove, lock), chat, hands, refusals
raised with the server's code, releasing the microphone for a phone call,
direct calls, and quality reports kept back for an opted-out user."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

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

from cloudlink.client import MeetingEvent, RemoteAudioTrack
from cloudlink.client.live_pattern import live_test_pattern, read_live_pattern
from cloudlink.client.meeting import ACTIVE_SPEAKER
from cloudlink.errors import ConfigError, SignalingError
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import ToneSource
from cloudlink.server.embedded import EmbeddedServer

RATE_HZ = 16000
QUIET = {"sample_rate_hz": RATE_HZ, "quality_report_interval_s": None}


async def test_host_controls_chat_and_hands(server: EmbeddedServer) -> None:
    host, ada, bob, cy = [await sign_in(server, n) for n in ("host", "ada", "bob", "cy")]
    try:
        info = await host.create_meeting("Controls", password="open-sesame")
        with pytest.raises(SignalingError) as refused:
            await ada.join(info.code, password="wrong-one", **QUIET)
        assert refused.value.code == "wrong_meeting_password"
        assert ada.meeting is None
        chair = await host.join(info.code, **QUIET)
        assert chair.is_host and chair.me is not None and chair.me.role == "host"
        speaker = await ada.join(info.join_link, password="open-sesame", **QUIET)
        guest = await bob.join(info.code, password="open-sesame", **QUIET)
        assert not speaker.is_host
        await speaker.publish_audio(ToneSource(frequency_hz=440.0, sample_rate_hz=RATE_HZ))
        await until(lambda: not chair.participants[speaker.participant_id].audio_muted)

        # An attendee may not use the host controls; nothing changes.
        with pytest.raises(SignalingError) as refused:
            await speaker.mute_all()
        assert refused.value.code == "meeting_role_required"

        # Mute all: Ada is told, her track goes silent, everyone sees it; she may unmute.
        await chair.mute_all()
        told = await speaker.wait_for("muted-by-host", timeout_s=WAIT_S)
        assert told.kind == "audio"
        assert speaker.audio is not None and speaker.audio.muted
        await until(lambda: chair.participants[speaker.participant_id].audio_muted)
        await speaker.mute_audio(False)
        await until(lambda: not chair.participants[speaker.participant_id].audio_muted)
        await chair.mute_participant(speaker.participant_id)
        await until(lambda: speaker.me is not None and speaker.me.audio_muted)

        # Chat to everyone and to one; a raised hand.
        await speaker.send_chat("hello all")
        await speaker.send_chat("psst", to=chair.participant_id)
        for meeting in (chair, guest):
            event = await meeting.wait_for("chat", timeout_s=WAIT_S)
            assert event.chat is not None and event.chat.text == "hello all"
            assert event.chat.sender_id == speaker.participant_id and event.chat.to is None
        private = await chair.wait_for(
            "chat", lambda e: e.chat is not None and e.chat.to is not None, timeout_s=WAIT_S
        )
        assert private.chat is not None and private.chat.text == "psst"
        with pytest.raises(ConfigError):
            await speaker.send_chat("")
        await guest.raise_hand()
        await until(lambda: chair.participants[guest.participant_id].hand_raised)

        # Remove: Bob is out, the others hear why.
        await chair.remove(guest.participant_id)
        left = await guest.wait_for("left", timeout_s=WAIT_S)
        assert left.reason == "removed_by_host" and guest.closed and bob.meeting is None
        gone = await speaker.wait_for("participant-left", timeout_s=WAIT_S)
        assert gone.participant_id == guest.participant_id and gone.reason == "removed_by_host"
        assert guest.participant_id not in speaker.participants

        # Lock: a new attendee is refused.
        await chair.lock()
        await speaker.wait_for("meeting-updated", timeout_s=WAIT_S)
        assert speaker.details is not None and speaker.details.locked
        with pytest.raises(SignalingError) as refused:
            await cy.join(info.code, password="open-sesame", **QUIET)
        assert refused.value.code == "meeting_locked"
    finally:
        for client in (host, ada, bob, cy):
            await client.close()


class CountingMicrophone:
    """A microphone that counts how often it is opened and released."""

    def __init__(self) -> None:
        self.opened = 0
        self.released = 0

    def __call__(self) -> Iterator[AudioFrame]:
        self.opened += 1
        tone = ToneSource(frequency_hz=300.0, sample_rate_hz=RATE_HZ, level_dbfs=-12.0)
        try:
            yield from itertools.islice(tone, 3000)
        finally:
            self.released += 1


async def test_the_microphone_is_released_during_a_phone_call(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Phone")
        listener = await host.join(info.code, **QUIET)
        caller = await ada.join(info.code, **QUIET)
        heard = Received()
        heard.attach(listener)
        microphone = CountingMicrophone()
        await caller.publish_audio(microphone)
        await until(lambda: rms(heard.heard(caller.participant_id)[-1600:]) > 1000.0)
        assert microphone.opened == 1

        await caller.hold_microphone()
        assert caller.audio is not None and caller.audio.held
        assert microphone.released == 1
        await until(lambda: listener.participants[caller.participant_id].audio_muted)
        # The SFU holds the muted track back and the listener plays silence.
        await until(lambda: rms(heard.heard(caller.participant_id)[-1600:]) == 0.0)
        remote = next(iter(listener.remote.values()))
        assert isinstance(remote, RemoteAudioTrack) and remote.muted

        await caller.resume_microphone()
        assert not caller.audio.held
        await until(lambda: microphone.opened == 2)
        await until(lambda: not listener.participants[caller.participant_id].audio_muted)
        await until(lambda: rms(heard.heard(caller.participant_id)[-1600:]) > 1000.0)
    finally:
        await host.close()
        await ada.close()


async def test_a_direct_call_joins_both_to_one_meeting(server: EmbeddedServer) -> None:
    ada, bob, cy = [await sign_in(server, n) for n in ("ada", "bob", "cy")]
    rang: list[str] = []
    bob.on_incoming_call = lambda call: rang.append(call.caller_display_name)
    try:
        ada_id, bob_id, cy_id = (
            ada.account.account_id,
            bob.account.account_id,
            cy.account.account_id,
        )

        # Accepted: both end up in the meeting the accept names.
        outgoing = await ada.call(bob_id)
        incoming = await bob.incoming_calls.get()
        assert incoming.caller_account_id == ada_id and rang == ["Ada Lovelace"]
        callee_meeting = await incoming.accept(**QUIET)
        caller_meeting = await outgoing.join(**QUIET)
        assert callee_meeting.code == caller_meeting.code
        await until(lambda: len(caller_meeting.participants) == 2)
        assert callee_meeting.participant_id in caller_meeting.participants

        # Someone in a meeting is busy.
        with pytest.raises(SignalingError) as refused:
            await cy.call(bob_id)
        assert refused.value.code == "busy"
        await caller_meeting.leave()
        await callee_meeting.leave()

        # Declined, and cancelled.
        declined = await cy.call(ada_id)
        await (await ada.incoming_calls.get()).decline()
        with pytest.raises(SignalingError) as refused:
            await declined.answered(timeout_s=WAIT_S)
        assert refused.value.code == "declined"
        cancelled = await cy.call(bob_id)
        ringing = await bob.incoming_calls.get()
        await cancelled.cancel()
        with pytest.raises(SignalingError) as refused:
            await ringing.answered(timeout_s=WAIT_S)
        assert refused.value.code == "cancelled" and ringing.ended
        with pytest.raises(SignalingError) as refused:
            await cy.call(cy_id)
        assert refused.value.code == "invalid_message"
    finally:
        for client in (ada, bob, cy):
            await client.close()


async def test_an_opted_out_users_meeting_reports_stay_on_the_device(
    server: EmbeddedServer,
) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        await ada.rest.update_privacy_settings(collect_quality=False)
        info = await host.create_meeting("Telemetry")
        options = {"sample_rate_hz": RATE_HZ, "quality_report_interval_s": 0.5}
        shared = await host.join(info.code, **options)
        private = await ada.join(info.code, **options)
        for meeting in (shared, private):
            await meeting.publish_audio(ToneSource(frequency_hz=500.0, sample_rate_hz=RATE_HZ))
        reporters = [m.quality_reporter for m in (shared, private)]
        assert reporters[0] is not None and reporters[1] is not None
        await until(lambda: reporters[0].reports_stored > 0 and reporters[1].batches_withheld > 0)
        await private.leave()
        await shared.leave()
        assert reporters[1].reports_sent == 0
        admin = await rest_of(server, "host")
        try:
            rows = await admin.request(
                "GET", "/api/telemetry/quality", params={"meeting_code": info.code}
            )
        finally:
            await admin.close()
        owners = {row["account_id"] for row in rows}
        assert owners == {host.account.account_id}
    finally:
        await host.close()
        await ada.close()


async def test_events_reach_callbacks_and_bad_calls_change_nothing(
    server: EmbeddedServer,
) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Events")
        chair = await host.join(info.code, **QUIET)
        seen: list[MeetingEvent] = []
        chair.on("*", seen.append)
        chair.on("participant-joined", lambda e: 1 / 0)  # a broken callback is only logged
        guest = await ada.join(info.code, **QUIET)
        await chair.wait_for("participant-joined", timeout_s=WAIT_S)
        assert [e.type for e in seen][:1] == ["participant-joined"]
        assert (
            seen[0].participant is not None and seen[0].participant.display_name == "Ada Lovelace"
        )

        with pytest.raises(ConfigError):
            await ada.join(info.code, **QUIET)  # already in a meeting
        with pytest.raises(ConfigError):
            await guest.subscribe("t-unknown")
        with pytest.raises(ConfigError):
            await guest.unpublish("audio")
        with pytest.raises(ConfigError):
            await guest.publish_video([], kind="camera")
        with pytest.raises(ConfigError, match="48000 Hz"):
            await guest.publish_audio(ToneSource(sample_rate_hz=48000))
        assert guest.audio is None
        await guest.publish_audio(ToneSource(frequency_hz=500.0, sample_rate_hz=RATE_HZ))
        with pytest.raises(ConfigError):
            await guest.publish_audio(ToneSource(frequency_hz=500.0, sample_rate_hz=RATE_HZ))
        await chair.wait_for("track-subscribed", timeout_s=WAIT_S)
        await guest.unpublish("audio")
        unpublished = await chair.wait_for("track-unpublished", timeout_s=WAIT_S)
        assert unpublished.participant_id == guest.participant_id
        await until(lambda: not chair.remote)
        await guest.leave()
        assert ada.meeting is None
        with pytest.raises(ConfigError):
            await guest.publish_audio(ToneSource(frequency_hz=500.0, sample_rate_hz=RATE_HZ))
        with pytest.raises(ConfigError, match="has been left"):
            await guest.send_chat("anyone?")
        await chair.wait_for("participant-left", timeout_s=WAIT_S)
    finally:
        await host.close()
        await ada.close()


async def test_join_waits_in_the_waiting_room_until_admitted(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Lobby")
        await host.rest.request("PATCH", f"/api/meetings/{info.code}", json={"waiting_room": True})
        chair = await host.join(info.code, **QUIET)
        joining = asyncio.ensure_future(ada.join(info.code, **QUIET))
        lobby = await chair.wait_for("waiting-room", lambda e: bool(e.waiting), timeout_s=WAIT_S)
        assert not joining.done()
        await chair.admit(lobby.waiting[0].participant_id)
        guest = await asyncio.wait_for(joining, WAIT_S)
        assert guest.me is not None and guest.me.state == "admitted"
        assert chair.participant_id in guest.participants
        assert guest.transport.connected
    finally:
        await host.close()
        await ada.close()


async def test_one_screen_share_at_a_time(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Screens")
        viewer = await host.join(info.code, **QUIET)
        presenter = await ada.join(info.code, **QUIET)
        shown = Received()
        shown.attach(viewer)
        await presenter.publish_video(
            live_test_pattern(width_px=320, height_px=240, duration_s=5.0), kind="screen"
        )
        published = await viewer.wait_for("track-published", timeout_s=WAIT_S)
        assert published.track is not None and published.track.kind == "screen"
        await until(lambda: len(shown.seen(presenter.participant_id)) >= 3)

        with pytest.raises(SignalingError) as refused:
            await viewer.publish_video(live_test_pattern(duration_s=1.0), kind="screen")
        assert refused.value.code == "screen_share_busy"
        assert "screen" not in viewer.video

        await presenter.unpublish("screen")
        await viewer.wait_for("track-unpublished", timeout_s=WAIT_S)
        await viewer.publish_video(live_test_pattern(duration_s=1.0), kind="screen")
        assert "screen" in viewer.video
    finally:
        await host.close()
        await ada.close()


async def test_the_active_speakers_camera(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Speaker view")
        viewer = await host.join(info.code, auto_subscribe=(), **QUIET)
        speaker = await ada.join(info.code, **QUIET)
        await speaker.publish_audio(ToneSource(frequency_hz=300.0, sample_rate_hz=RATE_HZ))
        await speaker.publish_video(live_test_pattern(width_px=320, height_px=240, duration_s=5.0))
        spoke = await viewer.wait_for("active-speaker", timeout_s=WAIT_S)
        assert spoke.participant_id == speaker.participant_id
        frames: list[int] = []
        viewer.render_video(
            ACTIVE_SPEAKER,
            lambda frame: (
                frames.append(reading.frame_number)
                if (reading := read_live_pattern(frame))
                else None
            ),
        )
        await viewer.subscribe_active_speaker()
        await until(lambda: len(frames) >= 5)
        assert frames == sorted(frames)
        assert set(viewer.stats()["inbound"]) == {ACTIVE_SPEAKER}
        await viewer.unsubscribe(ACTIVE_SPEAKER)
        assert not viewer.remote
    finally:
        await host.close()
        await ada.close()


async def test_a_source_that_ends_is_followed_by_silence(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Short")
        listener = await host.join(info.code, **QUIET)
        talker = await ada.join(info.code, **QUIET)
        heard = Received()
        heard.attach(listener)
        tone = list(itertools.islice(ToneSource(sample_rate_hz=RATE_HZ), 50))
        track = await talker.publish_audio(iter(tone))
        await until(lambda: rms(heard.heard(talker.participant_id)) > 1000.0)
        await until(lambda: track.ended and track.silent_frames_sent > 30)
        # What plays out after the tone is (close to) digital silence, not the tone concealed.
        await until(lambda: rms(heard.heard(talker.participant_id)[-1600:]) < 10.0)
        assert not track.held and not track.muted
    finally:
        await host.close()
        await ada.close()
