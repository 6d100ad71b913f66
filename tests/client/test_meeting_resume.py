"""The signaling socket drops in the middle of a meeting: the client opens a
new one and resumes (same Meeting, same participant, its tracks kept), and
restarts ICE; the other participant sees it reconnecting and back, and
keeps receiving its audio and video. A resume the server refuses closes
the meeting with the refusal's reason."""

from __future__ import annotations

from _client_world import (  # noqa: F401
    WAIT_S,
    Received,
    server_fixture,
    sign_in,
    until,
)

from cloudlink.client.live_pattern import live_test_pattern
from cloudlink.client.meeting_events import MeetingEvent
from cloudlink.media.synthetic import speech_source
from cloudlink.server.embedded import EmbeddedServer

RATE_HZ = 16000
FPS = 15.0


async def test_a_cut_signaling_socket_resumes_without_leaving(server: EmbeddedServer) -> None:
    host, ada = await sign_in(server, "host"), await sign_in(server, "ada")
    try:
        info = await host.create_meeting("Resume")
        watching = await host.join(
            info.code, sample_rate_hz=RATE_HZ, quality_report_interval_s=None
        )
        moving = await ada.join(info.code, sample_rate_hz=RATE_HZ, quality_report_interval_s=None)
        ada_id = moving.participant_id
        seen = Received()
        seen.attach(watching)
        await moving.publish_audio(speech_source("bob", sample_rate_hz=RATE_HZ))
        camera = await moving.publish_video(
            live_test_pattern(width_px=320, height_px=240, frame_rate_fps=FPS, duration_s=8.0)
        )
        track_ids = {moving.audio.track_id if moving.audio else None, camera.track_id}
        host_audio = await watching.publish_audio(speech_source("alice", sample_rate_hz=RATE_HZ))
        await watching.wait_for("track-subscribed", lambda e: len(watching.remote) == 2)
        await moving.wait_for("track-subscribed", lambda e: len(moving.remote) == 1)
        assert host_audio.track_id is not None
        hearing = moving.remote[host_audio.track_id]
        await until(lambda: len(seen.seen(ada_id)) > 0)
        states: list[str] = []
        watching.on(
            "participant-updated",
            lambda e: (
                states.append(e.participant.connection)
                if e.participant is not None and e.participant_id == ada_id
                else None
            ),
        )
        steps: list[str] = []
        for step in ("reconnecting", "resumed", "reconnected", "left"):
            moving.on(step, lambda e: steps.append(e.type))
        frame_before = seen.seen(ada_id)[-1].frame_number
        old_socket = ada.signaling

        # The network changes under the signaling socket.
        await old_socket._socket.close()
        await moving.wait_for("resumed", timeout_s=WAIT_S)
        await moving.wait_for("reconnected", timeout_s=WAIT_S)

        # The same meeting and participant, on a new socket, its tracks kept.
        assert old_socket.closed and ada.signaling is not old_socket
        assert ada.meeting is moving and not moving.closed
        assert moving.participant_id == ada_id
        assert steps == ["reconnecting", "resumed", "reconnected"]
        assert moving.stats()["transport"]["iceRestarts"] == 1
        await until(lambda: states[-1:] == ["connected"])
        assert states == ["reconnecting", "connected"]
        assert ada_id in watching.participants
        assert {t.track_id for t in watching.tracks.values()} == track_ids
        left = [e for e in watching.events.history if e.type == "participant-left"]
        assert left == []

        # The host keeps hearing and seeing Ada, under the same tracks.
        heard_before = len(seen.audio[ada_id])
        await until(lambda: any(r.frame_number > frame_before + 15 for r in seen.seen(ada_id)))
        await until(lambda: len(seen.audio[ada_id]) > heard_before + 50)
        assert set(watching.remote) == track_ids
        # Ada's receiver of the host's audio was kept (same subscription) and hears on.
        assert moving.remote[host_audio.track_id] is hearing
        packets = hearing.stats()["packetsReceived"]
        assert isinstance(packets, int)
        await until(lambda: int(hearing.stats()["packetsReceived"]) > packets + 50)

        # Signaling works both ways again.
        await moving.send_chat("back again")
        chat = await watching.wait_for(
            "chat", lambda e: e.chat is not None and e.chat.text == "back again"
        )
        assert chat.participant_id == ada_id
        await moving.leave()
        gone: MeetingEvent = await watching.wait_for("participant-left")
        assert (gone.participant_id, gone.reason) == (ada_id, "left")
    finally:
        await host.close()
        await ada.close()


async def test_a_refused_resume_closes_the_meeting(server: EmbeddedServer) -> None:
    ada = await sign_in(server, "ada")
    try:
        info = await ada.create_meeting("Refused")
        meeting = await ada.join(info.code, sample_rate_hz=RATE_HZ, quality_report_interval_s=None)
        # The session ends on the server; then the socket drops before the
        # server's periodic check noticed: the new socket's hello is refused.
        await ada.rest.logout()
        await ada.signaling._socket.close()
        left = await meeting.wait_for("left", timeout_s=WAIT_S)
        assert left.reason in ("session_revoked", "invalid_token")
        assert meeting.closed and ada.meeting is None
        assert [e.type for e in meeting.events.history if e.type == "resumed"] == []
    finally:
        await ada.close()
