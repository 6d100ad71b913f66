"""The client's signaling socket against the real server: hello, requests
answered by id, refusals raised with the server's code, events handed over
in order, ping, oversized messages refused before sending, clean close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _client_world import WAIT_S, rest_of, server_fixture  # noqa: F401

from cloudlink.client.signaling_connection import SignalingConnection, signaling_url
from cloudlink.errors import ConfigError, SignalingError
from cloudlink.server.embedded import EmbeddedServer


async def _open(server: EmbeddedServer, account: str) -> tuple[SignalingConnection, Any]:
    rest = await rest_of(server, account)
    assert rest.token is not None
    connection = await SignalingConnection.open(
        server.url, token=rest.token, device_id=f"{account}-rest", http=rest.http
    )
    return connection, rest


def test_signaling_url() -> None:
    assert signaling_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/api/signaling"
    assert signaling_url("https://meet.example/") == "wss://meet.example/api/signaling"
    with pytest.raises(ConfigError):
        signaling_url("ws://127.0.0.1")


async def test_hello_requests_errors_and_ping(server: EmbeddedServer) -> None:
    connection, rest = await _open(server, "ada")
    try:
        assert connection.account["display_name"] == "Ada Lovelace"
        await connection.ping()
        with pytest.raises(SignalingError) as refused:
            await connection.request("join", {"meeting": "000000000"})
        assert refused.value.code == "not_found"
        with pytest.raises(SignalingError) as refused:
            await connection.request("no-such-thing")
        assert refused.value.code == "unknown_type"
        with pytest.raises(SignalingError) as refused:
            await connection.request("chat", {"text": "x" * 70_000})
        assert refused.value.code == "message_too_large"
        # The socket lives on after every refusal.
        await connection.ping()
        assert not connection.closed
    finally:
        await connection.close()
        await rest.close()
    assert connection.closed
    with pytest.raises(SignalingError) as refused:
        await connection.ping()
    assert refused.value.code == "connection_closed"


async def test_hello_is_refused_for_a_bad_token_or_another_device(server: EmbeddedServer) -> None:
    rest = await rest_of(server, "bob")
    try:
        assert rest.token is not None
        with pytest.raises(SignalingError) as refused:
            await SignalingConnection.open(server.url, token="x" * 43, device_id="bob-rest")
        assert refused.value.code == "invalid_token"
        with pytest.raises(SignalingError) as refused:
            await SignalingConnection.open(server.url, token=rest.token, device_id="elsewhere")
        assert refused.value.code == "device_mismatch"
    finally:
        await rest.close()


async def test_events_arrive_in_order(server: EmbeddedServer) -> None:
    (ada, ada_rest), (bob, bob_rest) = [await _open(server, name) for name in ("ada", "bob")]
    heard: list[dict[str, Any]] = []
    done = asyncio.Event()

    def on_event(message: dict[str, Any]) -> None:
        heard.append(message)
        if message["type"] == "chat" and message["text"] == "third":
            done.set()

    bob.on_event = on_event
    try:
        meeting = await ada_rest.create_meeting(topic="Order")
        await ada.request("join", {"meeting": meeting.join_link})
        await bob.request("join", {"meeting": meeting.code})
        for text in ("first", "second", "third"):
            await ada.request("chat", {"text": text})
        await asyncio.wait_for(done.wait(), WAIT_S)
        chats = [m["text"] for m in heard if m["type"] == "chat"]
        assert chats == ["first", "second", "third"]
        closed: list[int | None] = []
        bob.on_close = closed.append
    finally:
        for connection, rest in ((ada, ada_rest), (bob, bob_rest)):
            await connection.close()
            await rest.close()
    assert closed == [bob.close_code]  # heard once
