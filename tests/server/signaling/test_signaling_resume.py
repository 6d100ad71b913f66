"""A participant whose socket closes without ``leave`` stays for the resume
grace: the others see it ``reconnecting``, a new socket of the same account
and device takes it back with ``resume`` (tracks and subscriptions kept),
and after the grace it leaves (``disconnected``). Refused resumes change
nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from _signaling_world import (  # noqa: F401
    Peer,
    World,
    WorldFactory,
    make_world_fixture,
    settle,
    world_fixture,
)

from cloudlink.server.embedded import EmbeddedServer
from conftest import FAST_PASSWORDS, PASSWORD


async def _meeting(world: World) -> tuple[Peer, Peer, str, dict[str, Any]]:
    """The host and Ada in one meeting, each publishing audio and subscribed
    to the other's: (host, ada, ada's token, ada's join answer)."""
    device = "admin-laptop"
    host_token = await world.api.login("acme", "admin", device=device)
    host = await world.signed_in(host_token, device)
    _, ada_token, ada = await world.person("ada")
    code = await world.meeting(host_token)
    await host.ok("join", meeting=code)
    joined = await ada.ok("join", meeting=code)
    host_track = (await host.ok("publish", kind="audio", ssrc=55))["track"]
    ada_track = (await ada.ok("publish", kind="audio", ssrc=77))["track"]
    await host.ok("subscribe", track_id=ada_track["track_id"])
    joined["subscription"] = (await ada.ok("subscribe", track_id=host_track["track_id"]))[
        "subscription"
    ]
    joined["own_track"] = ada_track
    await settle(host, ada)
    host.events.clear()
    return host, ada, ada_token, joined


def _reconnecting(event: dict[str, Any]) -> str:
    connection: str = event["participant"]["connection"]
    return connection


async def test_resume_within_the_grace_keeps_tracks_and_subscriptions(world: World) -> None:
    host, ada, ada_token, joined = await _meeting(world)
    ada_id = joined["participant"]["participant_id"]
    token = joined["resume_token"]
    assert isinstance(token, str) and len(token) >= 32 and token != ada_token
    assert joined["resume_grace_s"] == 20.0
    assert joined["participant"]["connection"] == "connected"

    # The socket drops: the host sees Ada reconnecting, not leaving.
    await ada.ws.close()
    update = await host.event("participant-updated")
    assert (update["participant"]["participant_id"], _reconnecting(update)) == (
        ada_id,
        "reconnecting",
    )
    await host.ok("chat", text="said while Ada was away")

    # A new socket of Ada's device takes the participant back.
    back = await world.signed_in(ada_token, ada.device_id)
    answer = await back.ok("resume", participant_id=ada_id, resume_token=token)
    assert answer["participant"]["participant_id"] == ada_id
    assert answer["participant"]["connection"] == "connected"
    assert answer["participant"]["audio_muted"] is False
    assert [p["role"] for p in answer["participants"]] == ["host"]
    assert [t["kind"] for t in answer["tracks"]] == ["audio"]
    assert answer["published"] == [joined["own_track"]]
    assert answer["subscriptions"] == [joined["subscription"]]
    update = await host.event("participant-updated")
    assert (update["participant"]["participant_id"], _reconnecting(update)) == (
        ada_id,
        "connected",
    )

    # Nothing ended meanwhile; the host's subscription to Ada goes on.
    await settle(host, back)
    for gone in ("participant-left", "track-unpublished"):
        assert host.kept(gone) == []
    # Events of the gap are not replayed.
    assert back.kept("chat") == []
    assert await host.refused("subscribe", track_id="t-none") == "not_found"
    await back.ok("mute", kind="audio", muted=True)
    muted = await host.event("participant-updated")
    assert muted["participant"]["audio_muted"] is True

    # Back means back: another socket, or this one again, is refused.
    third = await world.signed_in(ada_token, ada.device_id)
    assert (
        await third.refused("resume", participant_id=ada_id, resume_token=token)
        == "already_connected"
    )
    assert (
        await back.refused("resume", participant_id=ada_id, resume_token=token)
        == "already_in_meeting"
    )

    # Ada leaves properly: gone at once, with reason left.
    await back.ok("leave")
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (ada_id, "left")


async def test_after_the_grace_the_participant_leaves_disconnected(
    make_world: WorldFactory,
) -> None:
    world = await make_world(signaling_resume_grace_s=0.2)
    host, ada, ada_token, joined = await _meeting(world)
    ada_id = joined["participant"]["participant_id"]
    assert joined["resume_grace_s"] == 0.2
    await ada.ws.close()
    assert _reconnecting(await host.event("participant-updated")) == "reconnecting"
    assert (await host.event("track-unpublished"))["track_id"] == joined["own_track"]["track_id"]
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (ada_id, "disconnected")

    late = await world.signed_in(ada_token, ada.device_id)
    assert (
        await late.refused("resume", participant_id=ada_id, resume_token=joined["resume_token"])
        == "resume_expired"
    )
    # The account may join again as a new participant.
    again = await late.ok("join", meeting=joined["meeting"]["meeting_code"])
    assert again["participant"]["participant_id"] != ada_id


async def test_refused_resumes_change_nothing(world: World) -> None:
    host, ada, ada_token, joined = await _meeting(world)
    ada_id = joined["participant"]["participant_id"]
    token = joined["resume_token"]
    # While Ada's socket is open, nobody takes her participant.
    early = await world.signed_in(ada_token, ada.device_id)
    assert (
        await early.refused("resume", participant_id=ada_id, resume_token=token)
        == "already_connected"
    )
    await ada.ok("raise-hand", raised=True)
    assert (await host.event("participant-updated"))["participant"]["hand_raised"] is True
    await ada.ws.close()
    assert _reconnecting(await host.event("participant-updated")) == "reconnecting"

    stranger = await world.connect()
    assert (
        await stranger.refused("resume", participant_id=ada_id, resume_token=token)
        == "not_authenticated"
    )
    _, _, bob = await world.person("bob")
    assert await bob.refused("resume", participant_id=ada_id, resume_token=token) == (
        "resume_forbidden"
    )
    other_device = await world.api.login("acme", "ada", device="ada-phone")
    phone = await world.signed_in(other_device, "ada-phone")
    assert await phone.refused("resume", participant_id=ada_id, resume_token=token) == (
        "resume_forbidden"
    )
    back = await world.signed_in(ada_token, ada.device_id)
    assert (
        await back.refused("resume", participant_id=ada_id, resume_token=token[:-1] + "?")
        == "invalid_resume_token"
    )
    assert (
        await back.refused("resume", participant_id="p-0000000000000000", resume_token=token)
        == "resume_expired"
    )
    assert await back.refused("resume", participant_id=ada_id) == "invalid_message"
    assert (
        await back.refused("resume", participant_id=ada_id, resume_token=token, extra=1)
        == "invalid_message"
    )

    # None of that touched the meeting: Ada is still reconnecting, and comes back.
    await settle(host)
    assert host.kept("participant-updated") == []
    assert host.kept("participant-left") == []
    answer = await back.ok("resume", participant_id=ada_id, resume_token=token)
    assert answer["subscriptions"] == [joined["subscription"]]
    assert _reconnecting(await host.event("participant-updated")) == "connected"


async def test_a_signed_out_socket_leaves_at_once(make_world: WorldFactory) -> None:
    world = await make_world(signaling_session_check_s=0.05)
    host, _ada, ada_token, joined = await _meeting(world)
    status, _ = await world.api.call("POST", "/api/auth/logout", ada_token)
    assert status == 204
    left = await host.event("participant-left")
    assert (left["participant_id"], left["reason"]) == (
        joined["participant"]["participant_id"],
        "disconnected",
    )
    assert [e for e in host.kept("participant-updated") if _reconnecting(e) != "connected"] == []


async def test_shutdown_ends_a_participant_waiting_for_resume(tmp_path: Path) -> None:
    server = EmbeddedServer(database_path=tmp_path / "demo.db", password_policy=FAST_PASSWORDS)
    url = await server.start()
    server.add_organisation("Demo", admin="host", members=[("ada", "Ada")], password=PASSWORD)
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as http:
        peers: list[Peer] = []
        for account in ("host", "ada"):
            response = await http.post(
                f"{url}/api/auth/login",
                json={
                    "organisation": "Demo",
                    "account_name": account,
                    "password": PASSWORD,
                    "device_id": "laptop",
                },
            )
            token = (await response.json())["token"]
            peer = Peer(ws=await http.ws_connect(f"{url}/api/signaling"))
            await peer.ok("hello", token=token, device_id="laptop")
            peers.append(peer)
            if account == "host":
                meeting = await http.post(
                    f"{url}/api/meetings",
                    json={"topic": "Demo", "kind": "instant"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                code = (await meeting.json())["code"]
            await peer.ok("join", meeting=code)
        host, ada = peers
        await ada.ws.close()
        assert _reconnecting(await host.event("participant-updated")) == "reconnecting"

        await server.stop()
        closing = await host.ws.receive(timeout=20)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    # The grace timer went with the server: nothing it started is left running.
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    left.discard(asyncio.current_task())  # type: ignore[arg-type]
    assert left == set()
