"""The credentials file: sealed with AES-GCM under a key file or a
passphrase, never holding the token in clear, refusing a tampered file or a
wrong key with a clear error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cloudlink.client.credential_vault import CredentialVault, StoredCredentials
from cloudlink.errors import ConfigError, CredentialVaultError

TOKEN = "tok-" + "9f" * 32
CREDENTIALS = StoredCredentials(
    server_url="http://127.0.0.1:8080",
    organisation="Acme",
    account_name="ada",
    device_id="laptop-3f2a",
    token=TOKEN,
)


@pytest.fixture(params=["key file", "passphrase"])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> CredentialVault:
    if request.param == "passphrase":
        return CredentialVault(tmp_path / "credentials", passphrase="correct horse")
    return CredentialVault(tmp_path / "credentials")


def test_round_trip(vault: CredentialVault) -> None:
    assert vault.load() is None
    vault.save(CREDENTIALS)
    assert vault.load() == CREDENTIALS
    vault.save(StoredCredentials(**{**CREDENTIALS.__dict__, "token": "other"}))
    loaded = vault.load()
    assert loaded is not None and loaded.token == "other"
    vault.clear()
    assert vault.load() is None


def test_the_file_never_holds_a_secret_in_clear(vault: CredentialVault) -> None:
    vault.save(CREDENTIALS)
    data = vault.path.read_bytes()
    for secret in (TOKEN, TOKEN[8:40], "laptop-3f2a", "ada"):
        assert secret.encode() not in data
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert TOKEN not in repr(CREDENTIALS)
    # Two saves of the same record differ (a fresh nonce each time).
    vault.save(CREDENTIALS)
    assert vault.path.read_bytes() != data


def test_key_file_is_created_private_beside_the_vault(tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "cloudlink" / "credentials")
    vault.save(CREDENTIALS)
    folder = tmp_path / "cloudlink"
    assert vault.key_path == folder / "credentials.key"
    assert stat.S_IMODE(vault.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(vault.key_path.read_bytes()) == 32
    # Nothing else is left behind (no temporary files).
    assert sorted(p.name for p in folder.iterdir()) == ["credentials", "credentials.key"]


@pytest.mark.parametrize("offset", [0, 4, 10, 30, 40, -1])
def test_a_tampered_file_is_refused(vault: CredentialVault, offset: int) -> None:
    vault.save(CREDENTIALS)
    data = bytearray(vault.path.read_bytes())
    data[offset] ^= 0x01
    vault.path.write_bytes(bytes(data))
    with pytest.raises(CredentialVaultError):
        vault.load()


def test_a_truncated_or_foreign_file_is_refused(vault: CredentialVault) -> None:
    vault.save(CREDENTIALS)
    data = vault.path.read_bytes()
    vault.path.write_bytes(data[:40])
    with pytest.raises(CredentialVaultError, match="not a credential file"):
        vault.load()
    vault.path.write_bytes(b'{"token": "plain"}' + bytes(64))
    with pytest.raises(CredentialVaultError, match="not a credential file"):
        vault.load()


def test_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    CredentialVault(tmp_path / "c", passphrase="right one").save(CREDENTIALS)
    with pytest.raises(CredentialVaultError, match="key or passphrase is wrong"):
        CredentialVault(tmp_path / "c", passphrase="wrong one").load()
    with pytest.raises(CredentialVaultError, match="sealed with a passphrase"):
        CredentialVault(tmp_path / "c").load()


def test_a_wrong_or_missing_key_file_is_refused(tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "c")
    vault.save(CREDENTIALS)
    assert vault.key_path is not None
    other = CredentialVault(tmp_path / "other")
    other.save(CREDENTIALS)
    with pytest.raises(CredentialVaultError, match="key or passphrase is wrong"):
        CredentialVault(tmp_path / "c", key_path=tmp_path / "other.key").load()
    with pytest.raises(CredentialVaultError, match="sealed with a key file"):
        CredentialVault(tmp_path / "c", passphrase="anything").load()
    vault.key_path.unlink()
    with pytest.raises(CredentialVaultError, match=r"key file .* is missing"):
        vault.load()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "c")
    vault.save(CREDENTIALS)
    assert vault.key_path is not None
    os.chmod(vault.key_path, 0o644)
    with pytest.raises(CredentialVaultError, match="open to other users"):
        vault.load()
    os.chmod(vault.key_path, 0o600)
    vault.key_path.write_bytes(b"short")
    with pytest.raises(CredentialVaultError, match="holds 5 bytes"):
        vault.load()


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        CredentialVault(tmp_path / "c", passphrase="x", key_path=tmp_path / "k")
    with pytest.raises(ConfigError):
        CredentialVault(tmp_path / "c", passphrase="")
