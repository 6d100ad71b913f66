"""The organisation server on loopback (EmbeddedServer over SQLite, cheap
argon2id) with one organisation, and helpers that sign its members in
through the client SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cloudlink.accounts.passwords import PasswordPolicy
from cloudlink.client import Client, RestClient
from cloudlink.server.embedded import EmbeddedServer

FAST_PASSWORDS = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
ORGANISATION = "Acme"
# The administrator (who also hosts) and the members.
ADMIN = "host"
MEMBERS = [("ada", "Ada Lovelace"), ("bob", "Bob Babbage"), ("cy", "Cy Hopper")]
# A safety net against a hang, never an assertion on timing.
WAIT_S = 30.0


@pytest.fixture(name="server")
async def server_fixture(tmp_path: Path) -> AsyncIterator[EmbeddedServer]:
    """A started server with the organisation seeded."""
    embedded = EmbeddedServer(database_path=tmp_path / "server.db", password_policy=FAST_PASSWORDS)
    await embedded.start()
    try:
        embedded.add_organisation(ORGANISATION, admin=ADMIN, members=MEMBERS, password=PASSWORD)
        yield embedded
    finally:
        await embedded.stop()


async def sign_in(server: EmbeddedServer, account: str, **options: Any) -> Client:
    """A Client of ``account`` on a device named after it."""
    return await Client.login(
        server.url,
        organisation=ORGANISATION,
        account=account,
        password=PASSWORD,
        device_id=f"{account}-laptop",
        **options,
    )


async def rest_of(server: EmbeddedServer, account: str) -> RestClient:
    """A signed-in RestClient of ``account`` (close it)."""
    rest = RestClient(server.url)
    await rest.login(
        organisation=ORGANISATION,
        account_name=account,
        password=PASSWORD,
        device_id=f"{account}-rest",
    )
    return rest
