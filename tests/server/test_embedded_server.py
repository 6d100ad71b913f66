"""The in-process server the demo and the meeting tests run: it serves the
real API on loopback, and the organisation it seeds can sign in."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from cloudlink.accounts.passwords import PasswordPolicy
from cloudlink.errors import ConfigError
from cloudlink.server.embedded import EmbeddedServer

_FAST = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)


async def test_seeded_members_sign_in_over_loopback(tmp_path: Path) -> None:
    server = EmbeddedServer(database_path=tmp_path / "demo.db", password_policy=_FAST)
    url = await server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        server.add_organisation(
            "Demo", admin="host", members=[("ada", "Ada")], password="pw-123456"
        )
        async with aiohttp.ClientSession() as http:
            login = {
                "organisation": "Demo",
                "account_name": "ada",
                "password": "pw-123456",
                "device_id": "ada-1",
            }
            async with http.post(f"{url}/api/auth/login", json=login) as response:
                assert response.status == 200
                token = (await response.json())["token"]
            headers = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{url}/api/me", headers=headers) as response:
                assert (await response.json())["display_name"] == "Ada"
            async with http.post(f"{url}/api/auth/login", json={**login, "password": "x"}) as bad:
                assert bad.status == 401
    finally:
        await server.stop()
    with pytest.raises(ConfigError):
        _ = server.db


async def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    first = EmbeddedServer(database_path=tmp_path / "a.db", password_policy=_FAST)
    url = await first.start()
    try:
        port = int(url.rsplit(":", 1)[1])
        second = EmbeddedServer(database_path=tmp_path / "b.db", port=port)
        with pytest.raises(ConfigError, match="cannot listen"):
            await second.start()
    finally:
        await first.stop()
