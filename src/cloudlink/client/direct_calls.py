"""Direct calls between two members (docs/signaling.md, "Direct calls"):
the caller rings, the callee accepts or declines, the caller may cancel;
an accepted call names an instant meeting that both then join.

An :class:`OutgoingCall` or :class:`IncomingCall` resolves once: to the
meeting code when accepted, or to a :class:`~cloudlink.errors.SignalingError`
whose code is ``declined``, ``cancelled`` or ``timeout``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudlink.client.signaling_connection import SignalingConnection
from cloudlink.errors import SignalingError

if TYPE_CHECKING:
    from cloudlink.client.client import Client
    from cloudlink.client.meeting import Meeting

__all__ = ["CallOutcome", "IncomingCall", "OutgoingCall"]


@dataclass
class CallOutcome:
    """How a call ended up, shared by the client's event handler and the call object."""

    future: asyncio.Future[str]

    def settle(self, message: dict[str, Any]) -> None:
        """Applies a ``call-accepted``, ``call-declined`` or ``call-cancelled`` event."""
        if self.future.done():
            return
        kind = message.get("type")
        if kind == "call-accepted":
            code = message.get("meeting_code")
            if isinstance(code, str):
                self.future.set_result(code)
            else:
                self.future.set_exception(
                    SignalingError("call-accepted without a meeting", code="invalid_message")
                )
        elif kind == "call-declined":
            self.future.set_exception(SignalingError("the call was declined", code="declined"))
        elif kind == "call-cancelled":
            reason = message.get("reason")
            code = "timeout" if reason == "timeout" else "cancelled"
            self.future.set_exception(SignalingError(f"the call was cancelled ({code})", code=code))


class _Call:
    def __init__(
        self, client: Client, signaling: SignalingConnection, call_id: str, outcome: CallOutcome
    ) -> None:
        self._client = client
        self._signaling = signaling
        self.call_id = call_id
        self._outcome = outcome

    @property
    def ended(self) -> bool:
        """True once accepted, declined or cancelled."""
        return self._outcome.future.done()

    async def answered(self, *, timeout_s: float | None = None) -> str:
        """The meeting code once accepted; SignalingError (``declined``,
        ``cancelled``, ``timeout``) otherwise."""
        return await asyncio.wait_for(asyncio.shield(self._outcome.future), timeout_s)


class OutgoingCall(_Call):
    """A call this client placed to ``account_id``."""

    def __init__(
        self,
        client: Client,
        signaling: SignalingConnection,
        call_id: str,
        outcome: CallOutcome,
        *,
        account_id: int,
    ) -> None:
        super().__init__(client, signaling, call_id, outcome)
        self.account_id = account_id

    async def join(self, **options: Any) -> Meeting:
        """Waits for the answer, then joins the call's meeting (options as
        :meth:`Client.join`)."""
        return await self._client.join(await self.answered(), **options)

    async def cancel(self) -> None:
        """Stops ringing (the callee gets ``call-cancelled``)."""
        await self._signaling.request("call-cancel", {"call_id": self.call_id})
        self._outcome.settle({"type": "call-cancelled", "reason": "cancelled"})


class IncomingCall(_Call):
    """A call ringing at this client."""

    def __init__(
        self,
        client: Client,
        signaling: SignalingConnection,
        call_id: str,
        outcome: CallOutcome,
        *,
        caller_account_id: int | None,
        caller_display_name: str,
    ) -> None:
        super().__init__(client, signaling, call_id, outcome)
        self.caller_account_id = caller_account_id
        self.caller_display_name = caller_display_name

    async def accept(self, **options: Any) -> Meeting:
        """Accepts and joins the meeting made for the call (options as
        :meth:`Client.join`)."""
        await self._signaling.request("call-accept", {"call_id": self.call_id})
        return await self._client.join(await self.answered(timeout_s=30.0), **options)

    async def decline(self) -> None:
        """Declines (the caller gets ``call-declined``)."""
        await self._signaling.request("call-decline", {"call_id": self.call_id})
        self._outcome.settle({"type": "call-declined"})
