"""A client's session on the device: signing in stores it in the vault
(encrypted), a later run resumes it without the password, signing out
ends it on the server and forgets it on the device."""

from __future__ import annotations

from pathlib import Path

import pytest
from _client_world import ORGANISATION, PASSWORD, server_fixture, sign_in  # noqa: F401

from cloudlink.client import Client, CredentialVault
from cloudlink.errors import AuthenticationError, ConfigError
from cloudlink.server.embedded import EmbeddedServer


async def test_sign_in_resume_and_sign_out(server: EmbeddedServer, tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "credentials", passphrase="device secret")
    with pytest.raises(ConfigError, match="no stored session"):
        await Client.resume(vault)
    first = await sign_in(server, "ada", vault=vault)
    token = first.credentials.token
    assert token.encode() not in vault.path.read_bytes()
    await first.close()

    # A later run: no password, the same session and device.
    resumed = await Client.resume(vault)
    assert resumed.account.display_name == "Ada Lovelace"
    assert resumed.device_id == "ada-laptop" and resumed.credentials.token == token
    assert resumed.credentials.organisation == ORGANISATION
    assert (await resumed.search_directory("Babbage"))[0].account_name == "bob"
    await resumed.signaling.ping()
    await resumed.logout()
    assert vault.load() is None
    assert resumed.signaling.closed

    # The session is over on the server too.
    vault.save(resumed.credentials)
    with pytest.raises(AuthenticationError):
        await Client.resume(vault)
    assert vault.load() is None


async def test_a_wrong_password_leaves_nothing_open(server: EmbeddedServer) -> None:
    with pytest.raises(AuthenticationError):
        await Client.login(
            server.url,
            organisation=ORGANISATION,
            account="ada",
            password=PASSWORD + "!",
            device_id="ada-laptop",
        )
    async with await sign_in(server, "ada") as client:
        assert client.account.account_name == "ada"
    assert client.signaling.closed
