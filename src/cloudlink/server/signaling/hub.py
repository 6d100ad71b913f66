"""Everything live on one server: the open sockets, the meetings in progress
and the direct calls ringing.

The hub also re-checks, every ``signaling_session_check_s``, that each
socket's session is still valid (a signed-out one gets ``signed-out`` and
is closed, code 4001) and that each live meeting is still open (an ended
one gets ``meeting-ended`` and is emptied). ``close`` ends it all at server
shutdown.

A participant whose socket closes without ``leave`` is detached rather
than taken out: it keeps its tracks, subscriptions and transport for
``signaling_resume_grace_s`` while a new socket of the same account and
device may take it back with ``resume``; after that it leaves (reason
``disconnected``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Final

from sqlalchemy.orm import Session

from cloudlink.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from cloudlink.meetings import attendance, scheduling
from cloudlink.server.context import ServerContext
from cloudlink.server.signaling.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_SIGNED_OUT,
    Connection,
)
from cloudlink.server.signaling.direct_calls import DirectCall, DirectCalls
from cloudlink.server.signaling.live_meeting import LiveMeeting, LiveParticipant
from cloudlink.server.signaling.media_link import MediaLink

__all__ = ["SignalingHub"]

_log = logging.getLogger(__name__)

# How long shutdown waits for every socket's handler to finish.
_SHUTDOWN_TIMEOUT_S: Final = 10.0


# TODO(#5): live state is per process; several server nodes would each hold their own meetings
class SignalingHub:
    """The sockets, live meetings and calls of one server process."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.connections: set[Connection] = set()
        self.meetings: dict[tuple[int, str], LiveMeeting] = {}
        self.calls = DirectCalls(
            timeout_s=context.settings.signaling_call_timeout_s, on_timeout=self._call_timed_out
        )
        self._accounts: dict[int, set[Connection]] = {}
        self._sweep_task: asyncio.Task[None] | None = None
        # Leaves and transport closes, which finish even when their caller is cancelled.
        self._shielded_tasks: set[asyncio.Task[None]] = set()
        # Participants whose socket closed, by id, with the task that ends their grace.
        self._detached: dict[str, tuple[LiveParticipant, asyncio.Task[None]]] = {}
        self._closing = False

    # --- lifecycle ---

    def start(self) -> None:
        """Starts the periodic session and meeting check."""
        if self.context.settings.signaling_session_check_s > 0 and self._sweep_task is None:
            self._sweep_task = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        """Closes every socket (code 1001) and waits until each has left its
        meeting and its transports are closed; stops every task."""
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep_task
            self._sweep_task = None
        connections = list(self.connections)
        for connection in connections:
            connection.start_close(CLOSE_GOING_AWAY)
        waits = [asyncio.create_task(c.finished.wait()) for c in connections]
        if waits:
            _, late = await asyncio.wait(waits, timeout=_SHUTDOWN_TIMEOUT_S)
            for task in late:
                task.cancel()
            if late:
                _log.warning("signaling shutdown: %d sockets did not finish", len(late))
        detached = list(self._detached.values())
        for participant, _task in detached:
            await self.leave(participant, reason="disconnected")
        if detached:
            await asyncio.wait([task for _, task in detached])
        self.calls.close()
        if self._shielded_tasks:
            await asyncio.wait(self._shielded_tasks, timeout=_SHUTDOWN_TIMEOUT_S)

    # --- sockets ---

    def authenticated(self, connection: Connection) -> None:
        """Indexes a socket by its account after ``hello``."""
        account_id = connection.account_id
        assert account_id is not None
        self._accounts.setdefault(account_id, set()).add(connection)

    def sockets_of(self, account_id: int) -> list[Connection]:
        """The account's signed-in sockets that are not closing."""
        return [c for c in self._accounts.get(account_id, ()) if not c.closing]

    async def disconnect(self, connection: Connection) -> None:
        """A socket closed: its participant is detached (or leaves), its calls end."""
        try:
            connection.closing = True
            participant = connection.participant
            if participant is not None and self._may_resume(connection, participant):
                self._detach(participant)
            elif participant is not None:
                try:
                    await self.leave(participant, reason="disconnected")
                except asyncio.CancelledError:
                    raise
                except Exception:
                    _log.exception("leaving a meeting on disconnect failed")
            account_id = connection.account_id
            if account_id is not None:
                sockets = self._accounts.get(account_id, set())
                sockets.discard(connection)
                if not sockets:
                    self._accounts.pop(account_id, None)
                for call in self.calls.involving(account_id):
                    if call.caller is connection:
                        self.end_call(call, callee_event="call-cancelled", reason="disconnected")
                    elif call.callee_account_id == account_id and not self.sockets_of(account_id):
                        self.end_call(call, caller_event="call-cancelled", reason="disconnected")
        finally:
            self.connections.discard(connection)
            await connection.finish()
            connection.finished.set()

    # --- resuming ---

    def _may_resume(self, connection: Connection, participant: LiveParticipant) -> bool:
        """Whether a participant whose socket closed waits for ``resume``:
        admitted, and the socket not closed for shutdown or sign-out."""
        # TODO(#5): a participant in the waiting room is not kept: it must join again
        return (
            not self._closing
            and self.context.settings.signaling_resume_grace_s > 0
            and participant.admitted
            and participant.meeting.participants.get(participant.participant_id) is participant
            and connection.close_code not in (CLOSE_GOING_AWAY, CLOSE_SIGNED_OUT)
        )

    def _detach(self, participant: LiveParticipant) -> None:
        participant.meeting.detach(participant)
        task = asyncio.create_task(self._expire(participant))
        self._detached[participant.participant_id] = (participant, task)
        _log.info("signaling socket lost, participant kept for resume")

    async def _expire(self, participant: LiveParticipant) -> None:
        await asyncio.sleep(self.context.settings.signaling_resume_grace_s)
        entry = self._detached.get(participant.participant_id)
        if entry is None or entry[0] is not participant:
            return
        del self._detached[participant.participant_id]
        try:
            await self.leave(participant, reason="disconnected")
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("leaving a meeting after the resume grace failed")

    def forget_detached(self, participant: LiveParticipant) -> None:
        """Ends a detached participant's wait for ``resume`` (it is leaving)."""
        entry = self._detached.get(participant.participant_id)
        if entry is None or entry[0] is not participant:
            return
        del self._detached[participant.participant_id]
        if entry[1] is not asyncio.current_task():
            entry[1].cancel()

    def resume(self, connection: Connection, participant_id: str, token: str) -> LiveParticipant:
        """Gives a detached participant ``connection`` as its socket; a
        ServiceError (``resume_expired``, ``resume_forbidden``,
        ``invalid_resume_token``, ``already_connected``) changes nothing."""
        principal = connection.principal
        assert principal is not None
        participant = next(
            (
                m.participants[participant_id]
                for m in self.meetings.values()
                if participant_id in m.participants
            ),
            None,
        )
        if participant is None or not participant.admitted:
            raise NotFoundError(
                "no such participant: it left, or its grace period ended", code="resume_expired"
            )
        before = participant.connection.principal
        if (
            before is None
            or before.account_id != principal.account_id
            or before.device_id != principal.device_id
        ):
            raise PermissionDeniedError(
                "the participant is another account's or device's", code="resume_forbidden"
            )
        if not secrets.compare_digest(participant.resume_token, token):
            raise AuthenticationError("wrong resume token", code="invalid_resume_token")
        if participant.participant_id not in self._detached:
            raise ConflictError("the participant's socket is open", code="already_connected")
        self.forget_detached(participant)
        participant.meeting.reattach(participant, connection)
        _log.info("participant resumed on a new socket")
        return participant

    def sign_out(self, connection: Connection) -> None:
        """Tells a socket its session ended and closes it (code 4001)."""
        _log.info("signaling session ended [account:%s]", connection.account_id)
        connection.send({"type": "signed-out"})
        connection.start_close(CLOSE_SIGNED_OUT)

    # --- meetings ---

    def live_meeting(
        self, organisation_id: int, code: str, *, topic: str, locked: bool
    ) -> LiveMeeting:
        """The live meeting ``code``, started when nobody is in it yet."""
        meeting = self.meetings.get((organisation_id, code))
        if meeting is None:
            meeting = LiveMeeting(
                organisation_id=organisation_id, code=code, topic=topic, locked=locked
            )
            self.meetings[(organisation_id, code)] = meeting
        # TODO(#5): REST changes (lock, topic) reach a live meeting only here, unannounced
        meeting.topic, meeting.locked = topic, locked
        return meeting

    async def leave(
        self, participant: LiveParticipant, *, reason: str, record: bool = True
    ) -> None:
        """Takes ``participant`` out of its meeting, closes its transport and
        (with ``record``) ends its attendance record. It finishes even if the
        caller is cancelled (a socket's handler is, when the peer goes away)."""
        task = asyncio.create_task(self._leave(participant, reason=reason, record=record))
        self._shielded_tasks.add(task)
        task.add_done_callback(self._shielded_tasks.discard)
        await asyncio.shield(task)

    async def _leave(self, participant: LiveParticipant, *, reason: str, record: bool) -> None:
        meeting = participant.meeting
        self.forget_detached(participant)
        if meeting.participants.get(participant.participant_id) is not participant:
            return
        # Step 1: out of the meeting at once (events to the others).
        link = meeting.remove(participant, reason=reason)
        if (
            not meeting.participants
            and self.meetings.get((meeting.organisation_id, meeting.code)) is meeting
        ):
            del self.meetings[(meeting.organisation_id, meeting.code)]
        # Step 2: the attendance record follows, and the transport closes.
        try:
            principal = participant.connection.principal
            if record and principal is not None:

                def work(session: Session) -> None:
                    with contextlib.suppress(NotFoundError):
                        attendance.leave(session, principal, meeting.code)

                await self.context.db.run(work)
        finally:
            if link is not None:
                await self.close_link(link)

    async def close_link(self, link: MediaLink) -> None:
        """Closes a participant's transport, finishing even if the caller is cancelled."""
        task = asyncio.create_task(self._close_quietly(link))
        self._shielded_tasks.add(task)
        task.add_done_callback(self._shielded_tasks.discard)
        await asyncio.shield(task)

    @staticmethod
    async def _close_quietly(link: MediaLink) -> None:
        try:
            await link.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("closing a participant's transport failed")

    async def end_meeting(self, meeting: LiveMeeting) -> None:
        """The meeting was ended or cancelled through the REST API."""
        for participant in list(meeting.participants.values()):
            participant.connection.send({"type": "meeting-ended"})
            await self.leave(participant, reason="left")

    # --- calls ---

    def end_call(
        self,
        call: DirectCall,
        *,
        reason: str,
        caller_event: str | None = None,
        callee_event: str | None = None,
        skip: Connection | None = None,
    ) -> None:
        """Forgets a call and tells its sides (all the callee's sockets but ``skip``)."""
        self.calls.end(call)
        if caller_event is not None:
            call.caller.send({"type": caller_event, "call_id": call.call_id, "reason": reason})
        if callee_event is not None:
            for connection in self.sockets_of(call.callee_account_id):
                if connection is not skip:
                    connection.send(
                        {"type": callee_event, "call_id": call.call_id, "reason": reason}
                    )

    def _call_timed_out(self, call: DirectCall) -> None:
        self.end_call(
            call, reason="timeout", caller_event="call-cancelled", callee_event="call-cancelled"
        )

    # --- the periodic check ---

    async def _sweep_forever(self) -> None:
        interval_s = self.context.settings.signaling_session_check_s
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("signaling session check failed")

    async def _sweep(self) -> None:
        # TODO(#5): a query per socket and per meeting each sweep; thousands want one batched query
        for connection in list(self.connections):
            token = connection.token
            if token is None or connection.closing:
                continue
            try:
                await self.context.authenticator.authenticate(token)
            except AuthenticationError:
                self.sign_out(connection)
        for meeting in list(self.meetings.values()):

            def status(session: Session, meeting: LiveMeeting = meeting) -> str:
                row = scheduling.get_meeting(session, meeting.organisation_id, meeting.code)
                return row.status

            try:
                current = await self.context.db.run(status)
            except NotFoundError:
                current = "cancelled"
            if current in ("ended", "cancelled"):
                await self.end_meeting(meeting)
