"""Session bearer tokens: random, shown to the client once, stored as a SHA-256 hash.

A token has 256 bits from ``secrets``; a database that leaks its hashes
leaks no usable token, and since the token is uniformly random a fast hash
is enough (no salt or stretching is needed, unlike passwords).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

__all__ = ["TOKEN_BYTES", "hash_token", "new_token"]

TOKEN_BYTES: Final = 32


def new_token() -> str:
    """A fresh URL-safe bearer token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
