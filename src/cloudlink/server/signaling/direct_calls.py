"""Direct calls between two members: ringing, answer, and the timeout.

A call rings every socket of the callee until one accepts or declines, the
caller cancels, either side's sockets close, or ``timeout_s`` passes. The
meeting an accepted call becomes is the hub's to make.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cloudlink.errors import NotFoundError
from cloudlink.server.signaling.connection import Connection

__all__ = ["DirectCall", "DirectCalls"]


@dataclass(eq=False, kw_only=True)
class DirectCall:
    """One call ringing."""

    call_id: str
    caller: Connection
    callee_account_id: int
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def caller_account_id(self) -> int:
        """The caller's account (its socket said hello before calling)."""
        account_id = self.caller.account_id
        assert account_id is not None
        return account_id


class DirectCalls:
    """The calls ringing, by id."""

    def __init__(self, *, timeout_s: float, on_timeout: Callable[[DirectCall], None]) -> None:
        self._timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._calls: dict[str, DirectCall] = {}

    def ring(self, caller: Connection, callee_account_id: int) -> DirectCall:
        """A new call, cancelled by itself after the timeout."""
        call = DirectCall(
            call_id=f"c-{secrets.token_hex(8)}", caller=caller, callee_account_id=callee_account_id
        )
        call.timer = asyncio.get_running_loop().call_later(self._timeout_s, self._expire, call)
        self._calls[call.call_id] = call
        return call

    def involving(self, account_id: int) -> list[DirectCall]:
        """The calls ringing from or to ``account_id``."""
        return [
            c
            for c in self._calls.values()
            if account_id in (c.caller_account_id, c.callee_account_id)
        ]

    def get(self, call_id: str) -> DirectCall:
        """A call ringing; NotFoundError otherwise."""
        call = self._calls.get(call_id)
        if call is None:
            raise NotFoundError("no such call", code="not_found")
        return call

    def end(self, call: DirectCall) -> None:
        """Forgets a call (answered, declined, cancelled)."""
        self._calls.pop(call.call_id, None)
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    def close(self) -> None:
        """Forgets every call and its timer."""
        for call in list(self._calls.values()):
            self.end(call)

    def _expire(self, call: DirectCall) -> None:
        call.timer = None
        if self._calls.pop(call.call_id, None) is not None:
            self._on_timeout(call)
