"""Fixtures for the server tests: the app over a fresh database of each backend.

Organisations are bootstrapped the way ``cloudlink admin create-org`` does it
(the service, not the API); everything after that goes through HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cloudlink.accounts.organisations import create_organisation
from cloudlink.accounts.passwords import PasswordPolicy, Passwords
from cloudlink.accounts.sessions import LoginPolicy
from cloudlink.server import ServerSettings, create_app
from cloudlink.store import Database
from databases import BACKENDS, fresh_database

# Cheap argon2id parameters: the same algorithm, a fraction of the cost.
FAST_PASSWORDS = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
PUBLIC_URL = "https://meet.example.org"


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database of each backend."""
    with fresh_database(request.param, tmp_path) as database:
        database.migrate()
        yield database


@dataclass
class Api:
    """An HTTP client of the app, with helpers that sign people in."""

    client: TestClient[Any, Any]
    db: Database
    devices: dict[str, int] = field(default_factory=dict)

    async def create_org(self, name: str, admin: str = "admin") -> str:
        """Creates an organisation; returns its administrator's token."""
        password_hash = Passwords(FAST_PASSWORDS).hash(PASSWORD)
        self.db.run_sync(
            lambda s: create_organisation(
                s,
                name=name,
                admin_account_name=admin,
                admin_display_name=f"{name} admin",
                admin_password_hash=password_hash,
            )
        )
        return await self.login(name, admin)

    async def login(
        self, org: str, account: str, *, password: str = PASSWORD, device: str | None = None
    ) -> str:
        """Signs in (a new device each time unless named); returns the token."""
        if device is None:
            self.devices[account] = self.devices.get(account, 0) + 1
            device = f"{account}-device-{self.devices[account]}"
        response = await self.client.post(
            "/api/auth/login",
            json={
                "organisation": org,
                "account_name": account,
                "password": password,
                "device_id": device,
            },
        )
        body = await response.json()
        assert response.status == 200, body
        token: str = body["token"]
        return token

    async def add_member(self, admin_token: str, account: str, **fields: Any) -> dict[str, Any]:
        """Adds a member through the API; returns its representation."""
        payload = {"account_name": account, "display_name": account.title(), "password": PASSWORD}
        payload.update(fields)
        response = await self.client.post("/api/accounts", json=payload, headers=auth(admin_token))
        body: dict[str, Any] = await response.json()
        assert response.status == 201, body
        return body

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        """One request; returns (status, JSON body or None)."""
        headers = {**(auth(token) if token else {}), **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def auth(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(db: Database, aiohttp_client: Any) -> AsyncIterator[Api]:
    """The app over ``db`` behind a test client."""
    app = create_app(
        db,
        settings=ServerSettings(public_base_url=PUBLIC_URL, purge_interval_s=0),
        password_policy=FAST_PASSWORDS,
        login_policy=LoginPolicy(max_failed_logins=3, lockout_s=60, attempts_per_network=1000),
        migrate=False,
    )
    client = await aiohttp_client(app)
    yield Api(client=client, db=db)
