"""Meetings over the signaling socket: joining (password, lock, waiting
room), host controls, chat, tracks and subscriptions, leaving."""

from __future__ import annotations

import asyncio
from typing import Any

from _signaling_world import (  # noqa: F401
    Peer,
    World,
    WorldFactory,
    make_world_fixture,
    settle,
    world_fixture,
)


async def _host_and_ada(world: World, **meeting: Any) -> tuple[str, Peer, Peer, str]:
    """A meeting hosted by the admin; the admin's and Ada's sockets (neither joined)."""
    device = "admin-laptop"
    host_token = await world.api.login("acme", "admin", device=device)
    host = await world.signed_in(host_token, device)
    _, _, ada = await world.person("ada")
    code = await world.meeting(host_token, **meeting)
    return code, host, ada, host_token


async def test_join_answers_the_meeting_and_everyone_hears_of_it(world: World) -> None:
    code, host, ada, host_token = await _host_and_ada(world, topic="Weekly")
    joined = await host.ok("join", meeting=code)
    assert joined["meeting"] == {"meeting_code": code, "topic": "Weekly", "locked": False}
    assert joined["participant"]["role"] == "host"
    assert joined["participant"]["state"] == "admitted"
    assert joined["participants"] == [] and joined["tracks"] == []

    # A join link works as well as the code.
    answer = await ada.ok("join", meeting=f"https://meet.example.org/j/{code}")
    me = answer["participant"]
    assert (me["role"], me["display_name"], me["audio_muted"]) == ("attendee", "Ada", True)
    assert [p["role"] for p in answer["participants"]] == ["host"]
    event = await host.event("participant-joined")
    assert event["participant"]["participant_id"] == me["participant_id"]
    assert await ada.refused("join", meeting=code) == "already_in_meeting"

    # The REST attendance follows.
    status, rows = await world.api.call("GET", f"/api/meetings/{code}/participants", host_token)
    assert status == 200
    assert sorted((r["display_name"], r["state"]) for r in rows) == [
        ("Ada", "admitted"),
        ("acme admin", "admitted"),
    ]


async def test_unknown_meeting_is_not_found(world: World) -> None:
    _, _, ada = await world.person("ada")
    assert await ada.refused("join", meeting="999999999") == "not_found"


async def test_meeting_password_and_too_many_attempts(make_world: WorldFactory) -> None:
    world = await make_world(meeting_password_attempts=3)
    code, _host, ada, _ = await _host_and_ada(world, password="open sesame")
    assert await ada.refused("join", meeting=code) == "meeting_password_required"
    assert await ada.refused("join", meeting=code, password="guess") == "wrong_meeting_password"
    assert await ada.refused("join", meeting=code, password="guess") == "wrong_meeting_password"
    # Success resets the count, as the REST join does; then three wrong ones use it up.
    answer = await ada.ok("join", meeting=code, password="open sesame")
    assert answer["participant"]["state"] == "admitted"
    await ada.ok("leave")
    for _ in range(3):
        await ada.request("join", meeting=code, password="wrong")
    assert (
        await ada.refused("join", meeting=code, password="open sesame")
        == "too_many_password_attempts"
    )


async def test_a_locked_meeting_refuses_attendees(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    await host.ok("lock", locked=True)
    assert (await host.event("meeting-updated"))["meeting"]["locked"] is True
    assert await ada.refused("join", meeting=code) == "meeting_locked"
    await host.ok("lock", locked=False)
    await ada.ok("join", meeting=code)
    # Attendees may not lock.
    assert await ada.refused("lock", locked=True) == "meeting_role_required"


async def test_waiting_room_and_admit(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world, waiting_room=True)
    await host.ok("join", meeting=code)
    assert (await host.event("waiting-room"))["waiting"] == []
    answer = await ada.ok("join", meeting=code)
    me = answer["participant"]
    assert me["state"] == "waiting" and answer["participants"] == []
    waiting = await host.event("waiting-room")
    assert [p["participant_id"] for p in waiting["waiting"]] == [me["participant_id"]]

    # Waiting, Ada may only leave.
    assert await ada.refused("chat", text="let me in") == "not_in_meeting"
    assert await ada.refused("publish", kind="audio", ssrc=7) == "not_in_meeting"
    assert await ada.refused("admit", participant_id=me["participant_id"]) == "not_in_meeting"

    await host.ok("admit", participant_id=me["participant_id"])
    admitted = await ada.event("admitted")
    assert admitted["participant"]["state"] == "admitted"
    assert [p["role"] for p in admitted["participants"]] == ["host"]
    assert (await host.event("waiting-room"))["waiting"] == []
    joined = await host.event("participant-joined")
    assert joined["participant"]["participant_id"] == me["participant_id"]
    assert await host.refused("admit", participant_id=me["participant_id"]) == "not_found"
    await ada.ok("chat", text="thanks")


async def test_host_controls_are_refused_to_attendees(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world)
    host_id = (await host.ok("join", meeting=code))["participant"]["participant_id"]
    await ada.ok("join", meeting=code)
    assert await ada.refused("mute-all") == "meeting_role_required"
    assert await ada.refused("mute-participant", participant_id=host_id) == "meeting_role_required"
    assert await ada.refused("remove", participant_id=host_id) == "meeting_role_required"
    assert await ada.refused("admit", participant_id=host_id) == "meeting_role_required"
    await settle(host)
    assert host.kept("removed") == [] and host.kept("muted-by-host") == []


async def test_mute_all_and_remove_by_the_host(world: World) -> None:
    code, host, ada, host_token = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    ada_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    await ada.ok("mute", kind="audio", muted=False)
    updated = await host.event("participant-updated")
    assert updated["participant"]["audio_muted"] is False

    await host.ok("mute-all")
    assert (await ada.event("muted-by-host"))["kind"] == "audio"
    updated = await host.event("participant-updated")
    assert (updated["participant"]["participant_id"], updated["participant"]["audio_muted"]) == (
        ada_id,
        True,
    )
    assert await host.refused("remove", participant_id="p-nobody") == "not_found"
    await host.ok("remove", participant_id=ada_id)
    assert (await ada.event("removed"))["reason"] == "removed_by_host"
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (ada_id, "removed_by_host")
    assert await ada.refused("chat", text="hello?") == "not_in_meeting"
    _, rows = await world.api.call("GET", f"/api/meetings/{code}/participants", host_token)
    assert {r["display_name"]: r["state"] for r in rows}["Ada"] == "left"


async def test_chat_to_everyone_and_to_one(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world)
    host_id = (await host.ok("join", meeting=code))["participant"]["participant_id"]
    ada_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    _, _, bob = await world.person("bob")
    await bob.ok("join", meeting=code)

    await ada.ok("chat", text="hello all")
    for peer in (host, ada, bob):
        message = await peer.event("chat")
        assert (message["from"], message["to"], message["text"]) == (ada_id, None, "hello all")
        assert message["sent_at"].endswith("+00:00")

    await ada.ok("chat", text="psst", to=host_id)
    assert (await host.event("chat"))["text"] == "psst"
    assert (await ada.event("chat"))["to"] == host_id
    await settle(bob)
    assert bob.kept("chat") == []
    assert await ada.refused("chat", text="psst", to="p-nobody") == "not_found"


async def test_publish_subscribe_and_their_events(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    ada_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]

    track = (await ada.ok("publish", kind="camera", ssrc=1111))["track"]
    assert (track["participant_id"], track["kind"], track["muted"]) == (ada_id, "camera", False)
    assert (await host.event("track-published"))["track"] == track
    assert (await host.event("participant-updated"))["participant"]["video_muted"] is False
    assert await ada.refused("publish", kind="camera", ssrc=2222) == "already_published"
    assert await ada.refused("publish", kind="audio", ssrc=1111) == "invalid_message"
    await ada.ok("publish", kind="screen", ssrc=3333)
    assert await host.refused("publish", kind="screen", ssrc=4444) == "screen_share_busy"

    subscription = (await host.ok("subscribe", track_id=track["track_id"]))["subscription"]
    assert subscription["track_id"] == track["track_id"]
    assert (subscription["kind"], subscription["payload_types"]) == ("camera", [96])
    assert 0 <= subscription["ssrc"] < 2**32
    speaker = (await host.ok("subscribe", active_speaker=True))["subscription"]
    assert speaker["track_id"] is None and speaker["active_speaker"] is True
    assert await host.refused("subscribe", track_id="t-nothing") == "not_found"
    await host.ok("unsubscribe", subscription_id=speaker["subscription_id"])
    assert (
        await host.refused("unsubscribe", subscription_id=speaker["subscription_id"]) == "not_found"
    )

    # A later joiner sees the tracks in its join answer.
    _, _, bob = await world.person("bob")
    joined = await bob.ok("join", meeting=code)
    assert sorted(t["kind"] for t in joined["tracks"]) == ["camera", "screen"]

    # Unpublishing ends the subscription and tells the others.
    assert await host.refused("unpublish", track_id=track["track_id"]) == "not_found"
    await ada.ok("unpublish", track_id=track["track_id"])
    assert (await host.event("track-unpublished"))["track_id"] == track["track_id"]
    assert (await bob.event("track-unpublished"))["track_id"] == track["track_id"]
    assert (
        await host.refused("unsubscribe", subscription_id=subscription["subscription_id"])
        == "not_found"
    )


async def test_leave_and_closing_the_socket_clean_up(make_world: WorldFactory) -> None:
    # No resume grace: a closed socket leaves at once (test_signaling_resume covers the grace).
    world = await make_world(signaling_resume_grace_s=0.0)
    code, host, ada, host_token = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    ada_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    track = (await ada.ok("publish", kind="audio", ssrc=77))["track"]
    await host.ok("subscribe", track_id=track["track_id"])
    await ada.ok("leave")
    assert (await host.event("track-unpublished"))["track_id"] == track["track_id"]
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (ada_id, "left")

    # Back in, then the socket closes: the same, with reason disconnected.
    ada_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    await ada.ok("publish", kind="audio", ssrc=77)
    await ada.ws.close()
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (ada_id, "disconnected")
    # The attendance record follows the event (docs/signaling.md): wait for it.
    states: list[str] = []
    for _ in range(100):
        _, rows = await world.api.call("GET", f"/api/meetings/{code}/participants", host_token)
        states = sorted(r["state"] for r in rows if r["display_name"] == "Ada")
        if states == ["left", "left"]:
            break
        await asyncio.sleep(0.02)
    assert states == ["left", "left"]
    # Nobody is left to send a track to.
    answer = await host.ok("subscribe", active_speaker=True)
    assert answer["subscription"]["track_id"] is None


async def test_joining_from_another_socket_replaces_the_first(world: World) -> None:
    code, host, ada, _ = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    first_id = (await ada.ok("join", meeting=code))["participant"]["participant_id"]
    token = await world.api.login("acme", "ada", device="ada-phone")
    phone = await world.signed_in(token, "ada-phone")
    second = (await phone.ok("join", meeting=code))["participant"]
    assert second["participant_id"] != first_id
    assert (await ada.event("removed"))["reason"] == "joined_elsewhere"
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (first_id, "joined_elsewhere")
    assert (await host.event("participant-joined"))["participant"]["account_id"] == second[
        "account_id"
    ]


async def test_ended_meeting_and_signed_out_session(make_world: WorldFactory) -> None:
    world = await make_world(signaling_session_check_s=0.05)
    code, host, ada, host_token = await _host_and_ada(world)
    await host.ok("join", meeting=code)
    await ada.ok("join", meeting=code)
    status, _ = await world.api.call("POST", f"/api/meetings/{code}/end", host_token)
    assert status == 200
    await ada.event("meeting-ended")
    await host.event("meeting-ended")
    assert await ada.refused("chat", text="anyone?") == "not_in_meeting"

    # Signing the device out closes its socket with 4001.
    status, _ = await world.api.call("POST", "/api/auth/logout", host_token)
    assert status == 204
    await host.event("signed-out")
    closing = await host.ws.receive(timeout=20)
    assert closing.data == 4001 or host.ws.close_code == 4001


async def test_unreadable_transport_parameters_and_an_ended_meeting(world: World) -> None:
    code, host, ada, host_token = await _host_and_ada(world)
    assert await host.refused("transport", parameters={}) == "not_in_meeting"
    await host.ok("join", meeting=code)
    bad = {"ice": {"usernameFragment": "u"}, "dtls": {"fingerprints": []}, "candidates": []}
    assert await host.refused("transport", parameters=bad) == "invalid_transport"
    assert await host.refused("restart-ice", parameters={"ice": 1}) == "invalid_transport"
    await host.ok("leave")
    status, _ = await world.api.call("POST", f"/api/meetings/{code}/end", host_token)
    assert status == 200
    assert await ada.refused("join", meeting=code) == "meeting_over"
