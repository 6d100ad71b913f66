"""The signaling socket's envelope: authentication, malformed messages,
size and rate limits, and a failing handler (docs/signaling.md)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from _signaling_world import World, WorldFactory, make_world_fixture, world_fixture  # noqa: F401
from sqlalchemy import text


async def test_hello_answers_the_account_and_ping_answers_pong(world: World) -> None:
    account_id, token, device = await world.member("ada")
    peer = await world.connect()
    pong = await peer.request("ping")
    assert pong == {"type": "pong", "id": 1}
    answer = await peer.ok("hello", token=token, device_id=device)
    assert answer["account"] == {"account_id": account_id, "display_name": "Ada"}
    assert await peer.refused("hello", token=token, device_id=device) == "already_authenticated"


async def test_hello_refusals(world: World) -> None:
    _, token, device = await world.member("ada")
    peer = await world.connect()
    assert await peer.refused("hello", token="x" * 43, device_id=device) == "invalid_token"
    assert await peer.refused("hello", token=token, device_id="phone") == "device_mismatch"
    assert await peer.refused("join", meeting="123456789") == "not_authenticated"
    assert await peer.refused("call", account_id=1) == "not_authenticated"
    # A signed-out session is refused too.
    status, _ = await world.api.call("POST", "/api/auth/logout", token)
    assert status == 204
    assert await peer.refused("hello", token=token, device_id=device) == "session_revoked"
    # Nothing of that signed the socket in.
    assert await peer.refused("join", meeting="123456789") == "not_authenticated"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('"hello"', "invalid_json"),
        ('{"id": 1}', "invalid_message"),
        ('{"type": 5}', "invalid_message"),
        ('{"type": "ping", "id": [1]}', "invalid_message"),
        ('{"type": "ping", "id": "' + "x" * 65 + '"}', "invalid_message"),
        ('{"type": "dance", "id": 2}', "unknown_type"),
        ('{"type": "join", "id": 3}', "invalid_message"),
        ('{"type": "join", "id": 4, "meeting": 123456789}', "invalid_message"),
        ('{"type": "join", "id": 5, "meeting": "123456789", "colour": "red"}', "invalid_message"),
        ('{"type": "join", "id": 6, "meeting": "not a meeting"}', "invalid_message"),
        ('{"type": "publish", "id": 7, "kind": "audio", "ssrc": 0}', "invalid_message"),
        ('{"type": "publish", "id": 8, "kind": "audio", "ssrc": 4294967296}', "invalid_message"),
        ('{"type": "publish", "id": 9, "kind": "smell", "ssrc": 5}', "invalid_message"),
        ('{"type": "subscribe", "id": 10}', "invalid_message"),
        (
            '{"type": "subscribe", "id": 11, "track_id": "t-1", "active_speaker": true}',
            "invalid_message",
        ),
        ('{"type": "chat", "id": 12, "text": ""}', "invalid_message"),
        ('{"type": "mute", "id": 13, "kind": "audio", "muted": "yes"}', "invalid_message"),
        ('{"type": "call", "id": 14, "account_id": 0}', "invalid_message"),
    ],
)
async def test_malformed_messages_are_refused_and_the_socket_stays(
    world: World, frame: str, code: str
) -> None:
    _, token, device = await world.member("ada")
    peer = await world.signed_in(token, device)
    await peer.ws.send_str(frame)
    answer = await peer.receive()
    assert answer["type"] == "error" and answer["error"]["code"] == code, answer
    sent = json.loads(frame) if code != "invalid_json" else None
    if isinstance(sent, dict) and isinstance(sent.get("id"), int) and code != "invalid_message":
        assert answer["id"] == sent["id"]
    # Nothing changed: still signed in, in no meeting.
    assert await peer.refused("leave") == "not_in_meeting"


async def test_a_binary_frame_is_refused(world: World) -> None:
    peer = await world.connect()
    await peer.ws.send_bytes(b'{"type": "ping"}')
    answer = await peer.receive()
    assert answer["error"]["code"] == "invalid_json"
    assert (await peer.request("ping"))["type"] == "pong"


async def test_meeting_messages_need_a_meeting(world: World) -> None:
    _, _, peer = await world.person("ada")
    requests: list[tuple[str, dict[str, Any]]] = [
        ("leave", {}),
        ("publish", {"kind": "audio", "ssrc": 5}),
        ("offer", {"sdp": "v=0"}),
        ("subscribe", {"active_speaker": True}),
        ("mute", {"kind": "audio", "muted": True}),
        ("chat", {"text": "hi"}),
        ("mute-all", {}),
        ("lock", {"locked": True}),
    ]
    for kind, fields in requests:
        assert await peer.refused(kind, **fields) == "not_in_meeting", kind


async def test_a_message_over_64_kib_closes_the_socket_with_1009(world: World) -> None:
    _, _, peer = await world.person("ada")
    await peer.send({"type": "chat", "text": "x" * (64 * 1024)})
    answer = await peer.receive()
    assert answer["error"]["code"] == "message_too_large"
    closing = await peer.ws.receive(timeout=20)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert peer.ws.close_code == 1009


async def test_over_the_rate_limit_is_refused(make_world: WorldFactory) -> None:
    # A long window, so the count does not depend on how fast the frames go.
    world = await make_world(signaling_messages_per_window=50, signaling_rate_window_s=3600.0)
    peer = await world.connect()
    for n in range(55):
        await peer.send({"type": "ping", "id": n})
    answers = [await peer.receive() for _ in range(55)]
    assert [a["type"] for a in answers] == ["pong"] * 50 + ["error"] * 5
    assert {a["error"]["code"] for a in answers[50:]} == {"rate_limited"}
    assert [a["id"] for a in answers[50:]] == [50, 51, 52, 53, 54]


async def test_a_failing_handler_answers_internal_error_and_the_socket_lives_on(
    world: World,
) -> None:
    _, token, peer = await world.person("ada")
    code = await world.meeting(token)
    # The database loses the attendance table under the server: a real failure.
    world.api.db.run_sync(lambda s: s.execute(text("DROP TABLE meeting_participants")))
    assert await peer.refused("join", meeting=code) == "internal_error"
    assert (await peer.request("ping"))["type"] == "pong"
    assert await peer.refused("leave") == "not_in_meeting"
