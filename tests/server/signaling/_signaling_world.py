"""A server with signaling behind aiohttp's test client, and WebSocket
peers that send requests and collect events (docs/signaling.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from cloudlink.accounts.sessions import LoginPolicy
from cloudlink.server import ServerSettings, create_app
from cloudlink.store import Database
from conftest import FAST_PASSWORDS, PUBLIC_URL, Api

# A safety net against a hang, never an assertion on timing.
_WAIT_S = 20.0

SETTINGS = ServerSettings(
    public_base_url=PUBLIC_URL, purge_interval_s=0, signaling_session_check_s=0
)


@dataclass
class Peer:
    """One client socket."""

    ws: aiohttp.ClientWebSocketResponse
    device_id: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next frame (JSON); fails when the socket closes instead."""
        message = await self.ws.receive(timeout=_WAIT_S)
        assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data)
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def request(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        """Sends a request with a fresh id and returns its answer; events
        arriving meanwhile are kept."""
        self._next_id += 1
        request_id = self._next_id
        await self.send({"type": kind, "id": request_id, **fields})
        return await self.answer(request_id)

    async def answer(self, request_id: int | str | None) -> dict[str, Any]:
        while True:
            frame = await self.receive()
            if frame["type"] in ("ok", "error", "pong") and frame.get("id") == request_id:
                return frame
            self.events.append(frame)

    async def ok(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        answer = await self.request(kind, **fields)
        assert answer["type"] == "ok", answer
        return answer

    async def refused(self, kind: str, /, **fields: Any) -> str:
        """The error code of a request the server must refuse."""
        answer = await self.request(kind, **fields)
        assert answer["type"] == "error", answer
        code: str = answer["error"]["code"]
        return code

    async def event(self, kind: str, /, **match: Any) -> dict[str, Any]:
        """The first event of ``kind`` (whose fields include ``match``), kept or coming."""
        while True:
            for index, event in enumerate(self.events):
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    return self.events.pop(index)
            self.events.append(await self.receive())

    def kept(self, kind: str) -> list[dict[str, Any]]:
        """The events of ``kind`` received so far (without waiting)."""
        return [e for e in self.events if e["type"] == kind]


@dataclass
class World:
    """The app over a fresh SQLite database, an organisation and its admin."""

    api: Api
    client: TestClient[Any, Any]
    admin_token: str = ""
    peers: list[Peer] = field(default_factory=list)

    async def member(self, account: str) -> tuple[int, str, str]:
        """A new member signed in: (account id, token, device id)."""
        body = await self.api.add_member(self.admin_token, account)
        device = f"{account}-laptop"
        token = await self.api.login("acme", account, device=device)
        return body["id"], token, device

    async def connect(self) -> Peer:
        """An open socket, before hello."""
        ws = await self.client.ws_connect("/api/signaling")
        peer = Peer(ws=ws)
        self.peers.append(peer)
        return peer

    async def signed_in(self, token: str, device: str) -> Peer:
        peer = await self.connect()
        peer.device_id = device
        await peer.ok("hello", token=token, device_id=device)
        return peer

    async def person(self, account: str) -> tuple[int, str, Peer]:
        """A member with a signed-in socket: (account id, token, peer)."""
        account_id, token, device = await self.member(account)
        return account_id, token, await self.signed_in(token, device)

    async def meeting(self, token: str, **fields: Any) -> str:
        """A new instant meeting hosted by ``token``'s account; its code."""
        status, body = await self.api.call(
            "POST", "/api/meetings", token, json={"topic": "Sync", "kind": "instant", **fields}
        )
        assert status == 201, body
        code: str = body["code"]
        return code


WorldFactory = Callable[..., Awaitable[World]]


@pytest.fixture(name="make_world")
async def make_world_fixture(tmp_path: Path) -> AsyncIterator[WorldFactory]:
    """Makes worlds whose settings differ from SETTINGS by the keywords given."""
    made: list[tuple[TestClient[Any, Any], Database]] = []

    async def make(**settings: Any) -> World:
        db = Database(f"sqlite:///{tmp_path / f'cloudlink-{len(made)}.db'}")
        app = create_app(
            db,
            settings=replace(SETTINGS, **settings),
            password_policy=FAST_PASSWORDS,
            login_policy=LoginPolicy(attempts_per_network=10_000),
        )
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        made.append((client, db))
        world = World(api=Api(client=client, db=db), client=client)
        world.admin_token = await world.api.create_org("acme")
        return world

    yield make
    for client, db in made:
        await client.close()
        db.close()


@pytest.fixture(name="world")
async def world_fixture(make_world: WorldFactory) -> World:
    return await make_world()


async def settle(*peers: Peer) -> None:
    """Waits until the server answered a ping on each socket, so every event
    caused by earlier requests is queued before it."""
    await asyncio.gather(*(p.request("ping") for p in peers))
