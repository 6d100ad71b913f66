"""A client's session on the device: signing in stores it in the vault
(encrypted), a later run resumes it without the password, signing out
ends it on the server and forgets it on the device; a session or meeting
the server ends takes the client out."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _client_world import (  # noqa: F401
    FAST_PASSWORDS,
    ORGANISATION,
    PASSWORD,
    WAIT_S,
    server_fixture,
    sign_in,
)
from aiohttp.test_utils import TestServer
from sqlalchemy.orm import Session

from cloudlink.accounts.members import add_member
from cloudlink.accounts.organisations import create_organisation
from cloudlink.accounts.passwords import Passwords
from cloudlink.client import Client, CredentialVault
from cloudlink.errors import AuthenticationError, ConfigError
from cloudlink.server import ServerSettings, create_app
from cloudlink.server.embedded import EmbeddedServer
from cloudlink.store import Database


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


@pytest.fixture(name="quick_server")
async def quick_server_fixture(tmp_path: Path) -> AsyncIterator[str]:
    """The server app on loopback re-checking sessions and meetings every
    0.1 s; yields its URL. The organisation is seeded as EmbeddedServer does."""
    db = Database(f"sqlite:///{tmp_path / 'quick.db'}")
    app = create_app(
        db,
        settings=ServerSettings(
            public_base_url="http://127.0.0.1", purge_interval_s=0, signaling_session_check_s=0.1
        ),
        password_policy=FAST_PASSWORDS,
    )
    password_hash = Passwords(FAST_PASSWORDS).hash(PASSWORD)

    def seed(session: Session) -> None:
        organisation, _ = create_organisation(
            session,
            name=ORGANISATION,
            admin_account_name="host",
            admin_display_name="Host",
            admin_password_hash=password_hash,
        )
        add_member(
            session,
            organisation_id=organisation.id,
            account_name="ada",
            display_name="Ada Lovelace",
            password_hash=password_hash,
        )

    db.run_sync(seed)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        db.close()


async def _login(url: str, account: str) -> Client:
    return await Client.login(
        url,
        organisation=ORGANISATION,
        account=account,
        password=PASSWORD,
        device_id=f"{account}-laptop",
    )


async def test_signed_out_or_ended_by_the_server(quick_server: str) -> None:
    host, ada = await _login(quick_server, "host"), await _login(quick_server, "ada")
    signed_out: list[bool] = []
    ada.on_signed_out = lambda: signed_out.append(True)
    try:
        info = await host.create_meeting("Ending")
        chair = await host.join(info.code, sample_rate_hz=16000, quality_report_interval_s=None)
        guest = await ada.join(info.code, sample_rate_hz=16000, quality_report_interval_s=None)

        # An administrator signs Ada's device out: her socket closes, she is out.
        await host.rest.request(
            "DELETE", f"/api/accounts/{ada.account.account_id}/devices/ada-laptop"
        )
        left = await guest.wait_for("left", timeout_s=WAIT_S)
        assert left.reason == "signed_out" and signed_out == [True]
        assert ada.meeting is None and ada.signaling.closed
        await chair.wait_for("participant-left", timeout_s=WAIT_S)

        # The host ends the meeting through the REST API: everyone is out.
        await host.rest.request("POST", f"/api/meetings/{info.code}/end")
        ended = await chair.wait_for("left", timeout_s=WAIT_S)
        assert ended.reason == "meeting_ended" and chair.closed and host.meeting is None
    finally:
        await host.close()
        await ada.close()


def test_the_sdk_stays_above_rtc_and_media() -> None:
    # ARCHITECTURE.md: the client imports rtc and media, never the server or the SFU.
    code = (
        "import sys, cloudlink.client; "
        "print(sorted(m for m in sys.modules"
        " if m.startswith(('cloudlink.server', 'cloudlink.sfu'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
