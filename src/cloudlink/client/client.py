"""A signed-in CloudLink client: the REST session, the signaling socket,
the device's stored credentials, direct calls and the meeting it is in.

    client = await Client.login(url, organisation="Acme", account="ada",
                                password=..., device_id="laptop-1")
    meeting = await client.join("123 456 789")
    ...
    await meeting.leave()
    await client.close()

When the signaling socket drops during a meeting (a network change), the
client opens a new one with backoff for the resume grace the server
announced, and ``resume``s the meeting (the Meeting emits ``reconnecting``,
then ``resumed``, then ``reconnected`` after its ICE restart); if that
fails the meeting closes with the reason (``disconnected`` when the server
could not be reached, else the server's refusal code).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from cloudlink.client.credential_vault import CredentialVault, StoredCredentials
from cloudlink.client.direct_calls import CallOutcome, IncomingCall, OutgoingCall
from cloudlink.client.meeting import MAX_RESUME_WINDOW_S, Meeting, MeetingOptions
from cloudlink.client.rest_client import Account, DirectoryEntry, MeetingInfo, RestClient
from cloudlink.client.signaling_connection import CLOSE_SIGNED_OUT, SignalingConnection
from cloudlink.errors import ConfigError, ServiceError, SignalingError

__all__ = ["Client"]

logger = logging.getLogger(__name__)

_MEETING_CODE: Final = re.compile(r"[0-9]{9}")
# Call outcomes that arrived before their call object existed (kept briefly).
_EARLY_OUTCOMES: Final = 64
# Waits between resume attempts: the first, doubled each time up to the last.
_FIRST_RETRY_S: Final = 0.1
_MAX_RETRY_S: Final = 2.0
# Refusals worth another attempt: the server has not noticed the old socket
# close yet, or the new socket did not get through.
_TRANSIENT: Final = frozenset({"already_connected", "unreachable", "connection_closed", "timeout"})
# How long the server may take to notice that the old socket is dead (its
# heartbeat, docs/signaling.md); meanwhile it answers ``already_connected``.
_SERVER_NOTICES_S: Final = 15.0


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
        self._reconnect: asyncio.Task[None] | None = None
        self._closing = False
        self._watch(signaling)

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
        self._closing = True
        await self._stop_reconnect()
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
        task = self._reconnect
        if task is not None and task is not asyncio.current_task():
            # Left while resuming: nothing left to resume.
            # TODO(#5): no leave reaches the server; others see it reconnecting until the grace ends
            task.cancel()

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

    def _watch(self, signaling: SignalingConnection) -> None:
        signaling.on_event = self._on_event
        signaling.on_close = functools.partial(self._on_close, signaling)

    def _on_close(self, signaling: SignalingConnection, close_code: int | None) -> None:
        if signaling is not self.signaling:
            return
        reason = "signed_out" if close_code == CLOSE_SIGNED_OUT else "disconnected"
        for outcome in self._calls.values():
            outcome.settle({"type": "call-cancelled", "reason": reason})
        meeting = self.meeting
        if meeting is None:
            return
        # TODO(#5): outside a meeting a dropped socket stays closed: no call rings until re-login
        if reason == "disconnected" and not self._closing and meeting._resumable:
            meeting._signaling_lost()
            self._reconnect = asyncio.get_running_loop().create_task(self._resume_meeting(meeting))
        else:
            meeting._connection_lost(reason)

    # --- resuming after the socket dropped ---

    async def _resume_meeting(self, meeting: Meeting) -> None:
        """New sockets with backoff until one takes ``meeting`` back, for the
        server's grace (longer while the server still holds the old socket);
        the meeting closes when none does."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        grace_s = min(meeting.resume_grace_s, MAX_RESUME_WINDOW_S)
        deadline = started + grace_s
        delay_s = _FIRST_RETRY_S
        reason = "disconnected"
        kept: tuple[SignalingConnection, list[dict[str, Any]]] | None = None
        while not meeting.closed:
            code, kept = await self._try_resume(meeting)
            if code is None:
                return
            if code not in _TRANSIENT:
                reason = code
                break
            if code == "already_connected":
                # The grace starts once the server notices the old socket is gone.
                deadline = max(deadline, started + _SERVER_NOTICES_S + grace_s)
            if loop.time() + delay_s > deadline:
                break
            await asyncio.sleep(delay_s)
            delay_s = min(2.0 * delay_s, _MAX_RETRY_S)
        logger.warning("meeting not resumed [reason:%s]", reason)
        meeting._connection_lost(reason)
        if kept is not None:
            # Refused for good, but signed in: the client goes on with this socket.
            self._adopt(*kept)

    async def _try_resume(
        self, meeting: Meeting
    ) -> tuple[str | None, tuple[SignalingConnection, list[dict[str, Any]]] | None]:
        """One attempt: (None, None) once resumed, else the error code and,
        when the server refused for good, the signed-in socket to keep."""
        early: list[dict[str, Any]] = []
        try:
            candidate = await SignalingConnection.open(
                self.rest.base_url,
                token=self.credentials.token,
                device_id=self.credentials.device_id,
                http=self.rest.http,
                on_event=early.append,
            )
        except SignalingError as error:
            return error.code or "refused", None
        try:
            answer = await candidate.request("resume", meeting._resume_fields())
        except asyncio.CancelledError:
            await candidate.close()
            raise
        except SignalingError as error:
            if error.code in _TRANSIENT:
                await candidate.close()
                return error.code, None
            return error.code or "refused", (candidate, early)
        if meeting.closed:
            # Left meanwhile: tell the server too.
            with contextlib.suppress(SignalingError):
                await candidate.request("leave")
            self._adopt(candidate, early)
            return None, None
        meeting._resumed(candidate, answer)
        self._adopt(candidate, early)
        logger.info("signaling resumed")
        return None, None

    def _adopt(self, signaling: SignalingConnection, early: list[dict[str, Any]]) -> None:
        """Makes ``signaling`` the client's socket; the events it brought
        before the answer are handled first."""
        self.signaling = signaling
        for message in early:
            self._on_event(message)
        self._watch(signaling)
        if signaling.closed:
            self._on_close(signaling, signaling.close_code)

    async def _stop_reconnect(self) -> None:
        task, self._reconnect = self._reconnect, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
