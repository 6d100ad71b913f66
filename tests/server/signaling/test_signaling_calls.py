"""Direct calls over the signaling socket: ringing, accept, decline,
cancel, busy, unavailable and the timeout."""

from __future__ import annotations

from _signaling_world import (  # noqa: F401
    World,
    WorldFactory,
    make_world_fixture,
    settle,
    world_fixture,
)


async def test_accepted_call_becomes_a_meeting_for_the_two(world: World) -> None:
    ada_id, _, ada = await world.person("ada")
    bob_id, _, bob = await world.person("bob")
    call_id = (await ada.ok("call", account_id=bob_id))["call_id"]
    incoming = await bob.event("call-incoming")
    assert incoming["call_id"] == call_id
    assert incoming["from"] == {"account_id": ada_id, "display_name": "Ada"}

    answer = await bob.ok("call-accept", call_id=call_id)
    code = answer["meeting_code"]
    assert (await ada.event("call-accepted"))["meeting_code"] == code
    assert (await bob.event("call-accepted"))["meeting_code"] == code
    host = await ada.ok("join", meeting=code)
    assert host["participant"]["role"] == "host"
    guest = await bob.ok("join", meeting=code)
    assert [p["account_id"] for p in guest["participants"]] == [ada_id]
    # The call is over; answering it again finds nothing.
    assert await bob.refused("call-accept", call_id=call_id) == "not_found"


async def test_declined_and_cancelled_calls(world: World) -> None:
    _, _, ada = await world.person("ada")
    bob_id, _, bob = await world.person("bob")
    call_id = (await ada.ok("call", account_id=bob_id))["call_id"]
    await bob.event("call-incoming")
    # Only the callee answers, only the caller cancels.
    assert await ada.refused("call-accept", call_id=call_id) == "not_found"
    assert await bob.refused("call-cancel", call_id=call_id) == "not_found"
    await bob.ok("call-decline", call_id=call_id)
    assert (await ada.event("call-declined"))["call_id"] == call_id

    call_id = (await ada.ok("call", account_id=bob_id))["call_id"]
    await bob.event("call-incoming", call_id=call_id)
    await ada.ok("call-cancel", call_id=call_id)
    cancelled = await bob.event("call-cancelled")
    assert (cancelled["call_id"], cancelled["reason"]) == (call_id, "cancelled")
    assert await bob.refused("call-accept", call_id=call_id) == "not_found"


async def test_busy_and_unavailable(world: World) -> None:
    _, _, ada = await world.person("ada")
    bob_id, _, bob = await world.person("bob")
    carol_id, _, carol = await world.person("carol")
    dave_id, _, _ = await world.member("dave")
    assert await ada.refused("call", account_id=dave_id) == "unavailable"
    assert await ada.refused("call", account_id=424242) == "not_found"

    # In a call ringing: busy for a third caller.
    await ada.ok("call", account_id=bob_id)
    assert await carol.refused("call", account_id=bob_id) == "busy"

    # In a meeting: busy.
    code = await world.meeting(world.admin_token)
    await carol.ok("join", meeting=code)
    assert await bob.refused("call", account_id=carol_id) == "busy"

    # A callee whose socket closes cancels the call it was rung for.
    await bob.ws.close()
    cancelled = await ada.event("call-cancelled")
    assert cancelled["reason"] == "disconnected"


async def test_an_unanswered_call_is_cancelled_by_timeout(make_world: WorldFactory) -> None:
    world = await make_world(signaling_call_timeout_s=0.2)
    _, _, ada = await world.person("ada")
    bob_id, _, bob = await world.person("bob")
    call_id = (await ada.ok("call", account_id=bob_id))["call_id"]
    for peer in (ada, bob):
        cancelled = await peer.event("call-cancelled")
        assert (cancelled["call_id"], cancelled["reason"]) == (call_id, "timeout")
    assert await bob.refused("call-accept", call_id=call_id) == "not_found"
    # Both are free again.
    await ada.ok("call", account_id=bob_id)
    await settle(bob)
    assert len(bob.kept("call-incoming")) == 2
