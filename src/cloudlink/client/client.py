"""A signed-in CloudLink client: the REST session, the signaling socket,
the device's stored credentials, direct calls and the meeting it is in.

    client = await Client.login(url, organisation="Acme", account="ada",
                                password=..., device_id="laptop-1")
    meeting = await client.join("123 456 789")
    ...
    await meeting.leave()
    await client.close()
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from cloudlink.client.credential_vault import CredentialVault, StoredCredentials
from cloudlink.client.direct_calls import CallOutcome, IncomingCall, OutgoingCall
from cloudlink.client.meeting import Meeting, MeetingOptions
from cloudlink.client.rest_client import Account, DirectoryEntry, MeetingInfo, RestClient
from cloudlink.client.signaling_connection import CLOSE_SIGNED_OUT, SignalingConnection
from cloudlink.errors import ConfigError, ServiceError, SignalingError

__all__ = ["Client"]

logger = logging.getLogger(__name__)

_MEETING_CODE: Final = re.compile(r"[0-9]{9}")
# Call outcomes that arrived before their call object existed (kept briefly).
_EARLY_OUTCOMES: Final = 64


class Client:
    """One signed-in device. Made by :meth:`login` or :meth:`resume`;
    :meth:`close` (or ``async with``) when done."""

    def __init__(
        self,
        rest: RestClient,
        signaling: SignalingConnection,
        credentials: StoredCredentials,
        account: Account,
        *,
        vault: CredentialVault | None,
    ) -> None:
        self.rest = rest
        self.signaling = signaling
        self.credentials = credentials
        self.account = account
        self.vault = vault
        self.meeting: Meeting | None = None
        self.on_incoming_call: Callable[[IncomingCall], None] | None = None
        self.on_signed_out: Callable[[], None] | None = None
        self._calls: dict[str, CallOutcome] = {}
        self._early: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self.incoming_calls: asyncio.Queue[IncomingCall] = asyncio.Queue()
        signaling.on_event = self._on_event
        signaling.on_close = self._on_close

    # --- signing in and out ---

    @classmethod
    async def login(
        cls,
        url: str,
        *,
        organisation: str,
        account: str,
        password: str,
        device_id: str,
        device_name: str | None = None,
        vault: CredentialVault | None = None,
    ) -> Client:
        """Signs in on ``device_id`` and opens the signaling socket; with a
        ``vault``, the session is stored there (encrypted) for :meth:`resume`."""
        rest = RestClient(url)
        try:
            result = await rest.login(
                organisation=organisation,
                account_name=account,
                password=password,
                device_id=device_id,
                device_name=device_name,
                platform="linux",
            )
            credentials = StoredCredentials(
                server_url=rest.base_url,
                organisation=organisation,
                account_name=account,
                device_id=device_id,
                token=result.token,
            )
            if vault is not None:
                vault.save(credentials)
            signaling = await SignalingConnection.open(
                rest.base_url, token=result.token, device_id=device_id, http=rest.http
            )
        except BaseException:
            await rest.close()
            raise
        logger.info("signed in")
        return cls(rest, signaling, credentials, result.account, vault=vault)

    @classmethod
    async def resume(cls, vault: CredentialVault) -> Client:
        """Signs in again with the session stored in ``vault`` (no
        password); AuthenticationError when it has ended (the vault is
        then cleared), ConfigError when the vault is empty."""
        credentials = vault.load()
        if credentials is None:
            raise ConfigError(f"no stored session in {vault.path}")
        rest = RestClient(credentials.server_url, token=credentials.token)
        try:
            try:
                account = await rest.me()
            except ServiceError as error:
                if error.code in (
                    "unauthenticated",
                    "invalid_token",
                    "session_expired",
                    "session_revoked",
                ):
                    vault.clear()
                raise
            signaling = await SignalingConnection.open(
                rest.base_url,
                token=credentials.token,
                device_id=credentials.device_id,
                http=rest.http,
            )
        except BaseException:
            await rest.close()
            raise
        return cls(rest, signaling, credentials, account, vault=vault)

    async def logout(self) -> None:
        """Leaves any meeting, ends the session on the server and forgets it on the device."""
        if self.meeting is not None:
            await self.meeting.leave()
        try:
            await self.rest.logout()
        finally:
            if self.vault is not None:
                self.vault.clear()
            await self.close()

    async def close(self) -> None:
        """Leaves any meeting and closes the socket and HTTP session (the
        server session stays, for :meth:`resume`)."""
        if self.meeting is not None:
            await self.meeting.leave()
        await self.signaling.close()
        await self.rest.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def device_id(self) -> str:
        """The device this session belongs to."""
        return self.credentials.device_id

    # --- meetings and the directory ---

    async def create_meeting(
        self, topic: str, *, password: str | None = None, invite_account_ids: Sequence[int] = ()
    ) -> MeetingInfo:
        """An instant meeting this account hosts (join it with :meth:`join`)."""
        return await self.rest.create_meeting(
            topic=topic, password=password, invite_account_ids=invite_account_ids
        )

    async def search_directory(self, query: str = "", *, limit: int = 50) -> list[DirectoryEntry]:
        """Members of the organisation whose name, number or email match."""
        return await self.rest.search_directory(query, limit=limit)

    async def join(self, meeting: str, *, password: str | None = None, **options: Any) -> Meeting:
        """Joins by nine-digit id (spaces allowed) or join link; waits in
        the waiting room if the meeting has one; returns once the media
        path to the SFU is connected. ``options``: :class:`MeetingOptions`.
        SignalingError for a refusal (``wrong_meeting_password``,
        ``meeting_locked``, ...)."""
        if self.meeting is not None and not self.meeting.closed:
            raise ConfigError("this client is already in a meeting: leave it first")
        code = meeting.replace(" ", "")
        if not _MEETING_CODE.fullmatch(code):
            code = await self.rest.parse_join_link(meeting)
        joined = Meeting(
            self.signaling,
            self.rest,
            options=MeetingOptions(**options),
            on_closed=self._meeting_closed,
        )
        self.meeting = joined
        try:
            await joined._join(code, password)
        except BaseException:
            self.meeting = None
            raise
        return joined

    def _meeting_closed(self, meeting: Meeting) -> None:
        if self.meeting is meeting:
            self.meeting = None

    # --- direct calls ---

    async def call(self, account_id: int) -> OutgoingCall:
        """Rings member ``account_id``; SignalingError ``busy`` (in a call
        or meeting) or ``unavailable`` (not connected)."""
        answer = await self.signaling.request("call", {"account_id": account_id})
        call_id = answer.get("call_id")
        if not isinstance(call_id, str):
            raise SignalingError("call answered without a call_id", code="invalid_message")
        outcome = self._outcome(call_id)
        return OutgoingCall(self, self.signaling, call_id, outcome, account_id=account_id)

    def _outcome(self, call_id: str) -> CallOutcome:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        # An outcome nobody awaits must not be reported as never retrieved.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        outcome = CallOutcome(future)
        self._calls[call_id] = outcome
        early = self._early.pop(call_id, None)
        if early is not None:
            outcome.settle(early)
        return outcome

    # --- signaling events ---

    def _on_event(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind.startswith("call-"):
            self._on_call_event(message)
        elif kind == "signed-out":
            logger.info("signed out by the server")
            if self.on_signed_out is not None:
                self.on_signed_out()
        elif self.meeting is not None:
            self.meeting._enqueue(message)
        else:
            logger.debug("signaling: %s outside a meeting ignored", kind)

    def _on_call_event(self, message: dict[str, Any]) -> None:
        call_id = message.get("call_id")
        if not isinstance(call_id, str):
            logger.warning("signaling: %s without a call_id", message["type"])
            return
        if message["type"] == "call-incoming":
            caller = message.get("from")
            caller = caller if isinstance(caller, dict) else {}
            account_id = caller.get("account_id")
            incoming = IncomingCall(
                self,
                self.signaling,
                call_id,
                self._outcome(call_id),
                caller_account_id=account_id if isinstance(account_id, int) else None,
                caller_display_name=str(caller.get("display_name", "")),
            )
            self.incoming_calls.put_nowait(incoming)
            if self.on_incoming_call is not None:
                try:
                    self.on_incoming_call(incoming)
                except Exception:
                    logger.exception("the incoming-call callback failed")
            return
        outcome = self._calls.get(call_id)
        if outcome is None:
            self._early[call_id] = message
            while len(self._early) > _EARLY_OUTCOMES:
                self._early.popitem(last=False)
            return
        outcome.settle(message)

    def _on_close(self, close_code: int | None) -> None:
        reason = "signed_out" if close_code == CLOSE_SIGNED_OUT else "disconnected"
        # TODO(#5): no signaling reconnect: a dropped socket takes the participant out of
        # the meeting (the server's rule), and the application must join again.
        for outcome in self._calls.values():
            outcome.settle({"type": "call-cancelled", "reason": reason})
        if self.meeting is not None:
            self.meeting._connection_lost(reason)
