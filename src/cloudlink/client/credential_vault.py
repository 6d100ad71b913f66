"""What the client keeps on the device between runs (server URL,
organisation, account, device id, session token), encrypted at rest.

The file is sealed with AES-256-GCM (NIST SP 800-38D) from the
``cryptography`` package. The key comes from one of two places:

- a key file: 32 random bytes beside the vault (``<vault>.key`` unless
  named), created with mode 0600 on first save; a key file that others may
  read is refused, as ssh refuses such a private key;
- a passphrase: stretched with scrypt (RFC 7914; N=2^15, r=8, p=1, a 16-byte
  random salt stored in the file), so nothing secret is on the disk.

File layout: ``b"CLV1"``, one mode byte (1 key file, 2 passphrase), the
16-byte salt (zeros in key-file mode), the 12-byte nonce, then the
ciphertext of the JSON record with its 16-byte tag. The first 33 bytes are
authenticated as associated data, so changing any byte of the file, the
mode included, makes it unreadable. Every save draws a fresh nonce and
replaces the file atomically.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cloudlink.errors import ConfigError, CredentialVaultError

__all__ = ["CredentialVault", "StoredCredentials"]

logger = logging.getLogger(__name__)

_MAGIC: Final = b"CLV1"
_MODE_KEY_FILE: Final = 1
_MODE_PASSPHRASE: Final = 2
_KEY_BYTES: Final = 32  # AES-256
_SALT_BYTES: Final = 16
_NONCE_BYTES: Final = 12  # SP 800-38D section 8.2: 96-bit random nonces
_HEADER_BYTES: Final = len(_MAGIC) + 1 + _SALT_BYTES + _NONCE_BYTES
_TAG_BYTES: Final = 16
# RFC 7914 section 2 recommends N=2^20 for file encryption; 2^15 (32 MiB,
# about 0.1 s) keeps a client's start quick while still costing a guesser
# that much per attempt.
_SCRYPT_N: Final = 2**15
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
# A record larger than this is not ours.
_MAX_FILE_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class StoredCredentials:
    """A signed-in device's state: enough to resume without the password."""

    server_url: str
    organisation: str
    account_name: str
    device_id: str
    token: str

    def __repr__(self) -> str:
        # The token never reaches a log line or a traceback.
        return (
            f"StoredCredentials(server_url={self.server_url!r}, "
            f"organisation={self.organisation!r}, account_name={self.account_name!r}, "
            f"device_id={self.device_id!r}, token=<hidden>)"
        )


class CredentialVault:
    """An encrypted credentials file at ``path``: with ``passphrase`` the key
    is derived from it, otherwise it is read from ``key_path`` (default
    ``path`` + ``.key``), which :meth:`save` creates when missing."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        passphrase: str | None = None,
        key_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if passphrase is not None and key_path is not None:
            raise ConfigError("give a passphrase or a key file, not both")
        if passphrase is not None and not passphrase:
            raise ConfigError("the passphrase must not be empty")
        self.path = Path(path).expanduser()
        self._passphrase = passphrase
        self.key_path = (
            None
            if passphrase is not None
            else Path(key_path).expanduser()
            if key_path is not None
            else self.path.with_name(self.path.name + ".key")
        )

    def save(self, credentials: StoredCredentials) -> None:
        """Seals ``credentials`` into the file (mode 0600), replacing what
        was there; a missing folder is made (mode 0700)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        plaintext = json.dumps(asdict(credentials), separators=(",", ":")).encode()
        if self._passphrase is not None:
            mode, salt = _MODE_PASSPHRASE, secrets.token_bytes(_SALT_BYTES)
            key = self._derive(salt)
        else:
            mode, salt = _MODE_KEY_FILE, bytes(_SALT_BYTES)
            key = self._key_from_file(create=True)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = _MAGIC + bytes([mode]) + salt + nonce
        sealed = header + AESGCM(key).encrypt(nonce, plaintext, header)
        _write_private(self.path, sealed)

    def load(self) -> StoredCredentials | None:
        """The stored credentials, or None when there is no file.
        CredentialVaultError when the file cannot be opened with this key."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise CredentialVaultError(f"cannot read {self.path}: {error.strerror}") from None
        if len(data) > _MAX_FILE_BYTES or len(data) < _HEADER_BYTES + _TAG_BYTES:
            raise CredentialVaultError(f"{self.path} is not a credential file (wrong size)")
        if data[: len(_MAGIC)] != _MAGIC:
            raise CredentialVaultError(f"{self.path} is not a credential file (unknown format)")
        mode = data[len(_MAGIC)]
        salt = data[len(_MAGIC) + 1 : len(_MAGIC) + 1 + _SALT_BYTES]
        nonce = data[_HEADER_BYTES - _NONCE_BYTES : _HEADER_BYTES]
        if mode == _MODE_PASSPHRASE and self._passphrase is None:
            raise CredentialVaultError(f"{self.path} is sealed with a passphrase: give it")
        if mode == _MODE_KEY_FILE and self._passphrase is not None:
            raise CredentialVaultError(f"{self.path} is sealed with a key file, not a passphrase")
        if mode not in (_MODE_KEY_FILE, _MODE_PASSPHRASE):
            raise CredentialVaultError(f"{self.path} is not a credential file (unknown mode)")
        key = self._derive(salt) if mode == _MODE_PASSPHRASE else self._key_from_file(create=False)
        try:
            plaintext = AESGCM(key).decrypt(nonce, data[_HEADER_BYTES:], data[:_HEADER_BYTES])
        except InvalidTag:
            raise CredentialVaultError(
                f"cannot open {self.path}: the key or passphrase is wrong, or the file was altered"
            ) from None
        try:
            record = json.loads(plaintext)
            return StoredCredentials(**{k: str(record[k]) for k in _FIELDS})
        except (ValueError, KeyError, TypeError):
            raise CredentialVaultError(f"{self.path} holds no credentials record") from None

    def clear(self) -> None:
        """Deletes the credentials file (the key file stays, for the next save)."""
        self.path.unlink(missing_ok=True)

    def _derive(self, salt: bytes) -> bytes:
        assert self._passphrase is not None
        kdf = Scrypt(salt=salt, length=_KEY_BYTES, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
        return kdf.derive(self._passphrase.encode())

    def _key_from_file(self, *, create: bool) -> bytes:
        assert self.key_path is not None
        try:
            info = self.key_path.stat()
        except FileNotFoundError:
            if not create:
                raise CredentialVaultError(
                    f"the key file {self.key_path} is missing: the credentials cannot be opened"
                ) from None
            _write_private(self.key_path, secrets.token_bytes(_KEY_BYTES), exclusive=True)
            logger.info("created a credential key file")
            return self._key_from_file(create=False)
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialVaultError(
                f"the key file {self.key_path} is open to other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}): chmod 600 it"
            )
        key = self.key_path.read_bytes()
        if len(key) != _KEY_BYTES:
            raise CredentialVaultError(
                f"the key file {self.key_path} holds {len(key)} bytes, not {_KEY_BYTES}"
            )
        return key


_FIELDS: Final = ("server_url", "organisation", "account_name", "device_id", "token")


def _write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Writes ``data`` to a new file of mode 0600 and moves it to ``path``
    (``exclusive``: fails if ``path`` exists, so two writers never
    replace each other's key)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if exclusive:
            os.link(temporary, path)
            temporary.unlink()
        else:
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
