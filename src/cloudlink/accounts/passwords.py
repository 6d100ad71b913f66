"""Password hashing with argon2id (RFC 9106) through argon2-cffi.

The defaults are argon2-cffi's RFC 9106 "low memory" profile; tests pass a
cheaper ``PasswordPolicy`` so the suite stays fast. Meeting passwords use the
same hasher. The async methods run on a small thread pool of their own, so
a flood of logins queues there and never takes the threads that database
work runs on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from cloudlink.errors import InvalidRequestError

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "PasswordPolicy", "Passwords"]

MIN_PASSWORD_CHARS: Final = 8
MAX_PASSWORD_CHARS: Final = 256


@dataclass(frozen=True, kw_only=True)
class PasswordPolicy:
    """argon2id cost parameters."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4
    # Hashes computed at once; each holds memory_cost_kib while it runs.
    concurrent_hashes: int = 2


class Passwords:
    """Hashes and verifies passwords; never keeps or logs one."""

    def __init__(self, policy: PasswordPolicy | None = None) -> None:
        policy = policy or PasswordPolicy()
        self._hasher = PasswordHasher(
            time_cost=policy.time_cost,
            memory_cost=policy.memory_cost_kib,
            parallelism=policy.parallelism,
            type=Type.ID,
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=policy.concurrent_hashes, thread_name_prefix="argon2"
        )
        # A hash to verify against when the account does not exist, so that a
        # wrong account name costs as long as a wrong password.
        self._dummy_hash = self._hasher.hash("not a password of anyone")

    @staticmethod
    def check_strength(password: str, *, minimum_chars: int = MIN_PASSWORD_CHARS) -> None:
        """Raises InvalidRequestError when ``password`` is too short or too long."""
        if len(password) < minimum_chars:
            raise InvalidRequestError(
                f"password must have at least {minimum_chars} characters", code="weak_password"
            )
        if len(password) > MAX_PASSWORD_CHARS:
            raise InvalidRequestError(
                f"password must have at most {MAX_PASSWORD_CHARS} characters",
                code="invalid_password",
            )

    def hash(self, password: str) -> str:
        """The argon2id hash string of ``password``."""
        return self._hasher.hash(password)

    async def hash_async(self, password: str) -> str:
        """``hash`` on the hashing pool."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.hash, password)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        """``verify`` on the hashing pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.verify, password_hash, password)

    def close(self) -> None:
        """Stops the hashing pool's threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a None hash spends the same time and fails."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
