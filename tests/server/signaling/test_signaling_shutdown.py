"""Stopping the embedded server closes the signaling sockets, the SFU's
transports and every task the signaling started."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from _signaling_world import Peer

from cloudlink.rtc.transport import Transport, TransportParameters
from cloudlink.server.embedded import EmbeddedServer
from conftest import FAST_PASSWORDS, PASSWORD


async def test_stop_closes_sockets_transports_and_tasks(tmp_path: Path) -> None:
    server = EmbeddedServer(database_path=tmp_path / "demo.db", password_policy=FAST_PASSWORDS)
    url = await server.start()
    server.add_organisation("Demo", admin="host", members=[("ada", "Ada")], password=PASSWORD)
    before = asyncio.all_tasks()
    transport = Transport(loopback=True)
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{url}/api/auth/login",
            json={
                "organisation": "Demo",
                "account_name": "host",
                "password": PASSWORD,
                "device_id": "laptop",
            },
        )
        token = (await response.json())["token"]
        meeting = await http.post(
            f"{url}/api/meetings",
            json={"topic": "Demo", "kind": "instant"},
            headers={"Authorization": f"Bearer {token}"},
        )
        code = (await meeting.json())["code"]
        ws = await http.ws_connect(f"{url}/api/signaling")
        peer = Peer(ws=ws)
        await peer.ok("hello", token=token, device_id="laptop")
        await peer.ok("join", meeting=code)
        local = await transport.gather()
        answer = await peer.ok("transport", parameters=local.to_json())
        await transport.connect(
            TransportParameters.from_json(answer["parameters"]), controlling=False
        )
        assert transport.connected

        await server.stop()
        closing = await ws.receive(timeout=20)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    await transport.close()
    # Nothing the server started is left running.
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    left.discard(asyncio.current_task())  # type: ignore[arg-type]
    assert left == set()
