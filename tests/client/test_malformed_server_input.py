"""What a broken or hostile server sends the client: frames that are not
JSON objects, answers to no request, records of the wrong shape. Each is
dropped with a count or a clear SignalingError; the socket and the meeting
go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _client_world import WAIT_S
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from cloudlink.client.meeting_records import (
    ChatMessage,
    Participant,
    SubscriptionInfo,
    Track,
)
from cloudlink.client.signaling_connection import SignalingConnection
from cloudlink.errors import SignalingError

# A peer that answers hello, then sends garbage before one good event.
GARBAGE = [
    "not json",
    "[1, 2, 3]",
    '{"no": "type"}',
    '{"type": 7}',
    '{"type": "ok", "id": 999}',
    '{"type": "error", "error": {"code": "invalid_json", "message": "?"}}',
    '{"type": "ok", "id": "a-string-id"}',
]


async def _garbage_peer(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for frame in socket:
        if frame.type is not WSMsgType.TEXT:
            continue
        message = json.loads(frame.data)
        if message["type"] == "hello":
            await socket.send_str(json.dumps({"type": "ok", "id": message["id"], "account": {}}))
            for text in GARBAGE:
                await socket.send_str(text)
            await socket.send_bytes(b"\x00binary")
            await socket.send_str(json.dumps({"type": "chat", "text": "still here"}))
        elif message["type"] == "ping":
            await socket.send_str(json.dumps({"type": "pong"}))
        elif message["type"] == "join":
            error = {"code": "not_found", "message": "no such meeting"}
            await socket.send_str(
                json.dumps({"type": "error", "id": message["id"], "error": error})
            )
    return socket


@pytest.fixture(name="peer_url")
async def peer_url_fixture() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/api/signaling", _garbage_peer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_garbage_frames_are_counted_and_dropped(peer_url: str) -> None:
    events: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    def on_event(message: dict[str, Any]) -> None:
        events.append(message)
        arrived.set()

    connection = await SignalingConnection.open(
        peer_url, token="t", device_id="d", on_event=on_event
    )
    try:
        await asyncio.wait_for(arrived.wait(), WAIT_S)
        assert events == [{"type": "chat", "text": "still here"}]
        assert connection.messages_malformed == 5  # 4 unreadable texts and a binary frame
        # An id-less pong answers the ping; an error answer raises its code.
        await connection.ping()
        with pytest.raises(SignalingError) as refused:
            await connection.request("join", {"meeting": "123456789"})
        assert refused.value.code == "not_found"
        assert not connection.closed
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("record", "body"),
    [
        (Participant, {"participant_id": "p-1"}),
        (Participant, {"participant_id": "p-1", "role": "emperor"}),
        (Participant, ["not", "an", "object"]),
        (Track, {"track_id": "t-1", "participant_id": "p-1", "kind": "hologram"}),
        (Track, {"track_id": 5, "participant_id": "p-1", "kind": "audio"}),
        (SubscriptionInfo, {"subscription_id": "s", "ssrc": 0, "kind": "audio"}),
        (SubscriptionInfo, {"subscription_id": "s", "ssrc": 2**32, "kind": "audio"}),
        (SubscriptionInfo, {"subscription_id": "s", "ssrc": True, "kind": "audio"}),
        (
            SubscriptionInfo,
            {"subscription_id": "s", "ssrc": 5, "kind": "camera", "payload_types": [300]},
        ),
        (ChatMessage, {"text": "no sender"}),
        (ChatMessage, {"from": {"display_name": "x"}, "text": "sender without id"}),
    ],
)
def test_malformed_records_raise_a_clear_error(record: Any, body: Any) -> None:
    with pytest.raises(SignalingError) as refused:
        record.from_json(body)
    assert refused.value.code == "invalid_message"


def test_well_formed_records_are_read() -> None:
    participant = Participant.from_json(
        {"participant_id": "p-1", "account_id": 4, "display_name": "Ada", "role": "cohost"}
    )
    assert participant.is_host and participant.account_id == 4
    info = SubscriptionInfo.from_json(
        {
            "subscription_id": "s-1",
            "track_id": "t-1",
            "ssrc": 7,
            "kind": "camera",
            "payload_types": [96],
        }
    )
    assert info.payload_types == (96,) and info.kind == "camera"
    chat = ChatMessage.from_json(
        {"from": "p-1", "text": "hi", "to": None, "sent_at": "2026-12-04T07:00:00+00:00"}
    )
    assert chat.sent_at is not None and chat.to is None
