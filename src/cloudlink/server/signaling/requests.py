"""What each request does (docs/signaling.md), and the checks before it.

:func:`handle_text` takes one text frame of a socket: size, rate limit,
envelope, type, authentication, fields, then the meeting and role the type
needs. A refused request gets an ``error`` answer and changes nothing; an
exception inside a handler answers ``internal_error`` and the socket lives on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy.orm import Session

from cloudlink.accounts.members import get_member
from cloudlink.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
)
from cloudlink.meetings import attendance, scheduling
from cloudlink.meetings.join_link import parse_join_link
from cloudlink.rtc.transport import TransportParameters
from cloudlink.server.signaling.connection import CLOSE_TOO_LARGE, Connection
from cloudlink.server.signaling.direct_calls import DirectCall
from cloudlink.server.signaling.hub import SignalingHub
from cloudlink.server.signaling.live_meeting import LiveParticipant
from cloudlink.server.signaling.messages import (
    MAX_MESSAGE_BYTES,
    REQUEST_TYPES,
    Request,
    check_fields,
    read_envelope,
)
from cloudlink.server.signaling.sdp_session import (
    SdpSession,
    answer_offer,
    apply_offer,
    plan_offer,
)
from cloudlink.sfu.track import TrackKind

__all__ = ["handle_text"]

_log = logging.getLogger(__name__)

# Codes of the services that signaling names otherwise (docs/signaling.md's table).
_CODES: Final = {
    "meeting_not_found": "not_found",
    "participant_not_found": "not_found",
    "account_not_found": "not_found",
    "not_waiting": "not_found",
    "invalid_join_link": "invalid_message",
    "unauthenticated": "invalid_token",
}
_BEFORE_HELLO: Final = frozenset({"hello", "ping"})

Where = Literal["anywhere", "in_meeting", "admitted", "host"]
Answer = dict[str, Any] | None
Handler = Callable[[SignalingHub, Connection, Request], Awaitable[Answer]]


@dataclass(frozen=True, kw_only=True)
class _Spec:
    handler: Handler
    # anywhere; in_meeting (admitted or waiting); admitted; host (host or co-host).
    where: Where = "admitted"


async def handle_text(hub: SignalingHub, connection: Connection, text: str) -> None:
    """Answers one text frame of ``connection``."""
    # Step 1: size (closes the socket) and rate, before any parsing work.
    if len(text) > MAX_MESSAGE_BYTES // 4 and len(text.encode()) > MAX_MESSAGE_BYTES:
        connection.error(
            None, "message_too_large", f"a message is at most {MAX_MESSAGE_BYTES} bytes"
        )
        await connection.close(CLOSE_TOO_LARGE)
        return
    if connection.over_rate():
        request_id = None
        try:
            request_id = read_envelope(text).id
        except InvalidRequestError:
            pass
        connection.error(request_id, "rate_limited", "too many messages, slow down")
        return

    # Step 2: the envelope, the type, who may send it, its fields.
    try:
        request = read_envelope(text)
    except InvalidRequestError as error:
        connection.error(None, error.code, str(error))
        return
    try:
        if request.type not in REQUEST_TYPES:
            check_fields(request)  # raises unknown_type
        if connection.principal is None and request.type not in _BEFORE_HELLO:
            raise AuthenticationError("send hello first", code="not_authenticated")
        check_fields(request)
        spec = _HANDLERS[request.type]
        _check_where(connection, spec.where)
        answer = await spec.handler(hub, connection, request)
    except asyncio.CancelledError:
        raise
    except ServiceError as error:
        connection.error(request.id, _CODES.get(error.code, error.code), str(error))
        return
    except Exception:
        _log.exception("signaling handler failed [type:%s]", request.type)
        connection.error(request.id, "internal_error", "internal server error")
        return
    if answer is not None:
        connection.reply(request.id, answer)


def _check_where(connection: Connection, where: Where) -> None:
    if where == "anywhere":
        return
    participant = connection.participant
    if participant is None or (where != "in_meeting" and not participant.admitted):
        raise ConflictError("join a meeting first (and be admitted)", code="not_in_meeting")
    if where == "host" and not participant.privileged:
        raise PermissionDeniedError("hosts and co-hosts only", code="meeting_role_required")


def _me(connection: Connection) -> LiveParticipant:
    participant = connection.participant
    if participant is None:
        raise ConflictError("join a meeting first", code="not_in_meeting")
    return participant


# --- sockets ---


async def _hello(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    if connection.principal is not None:
        raise ConflictError("already signed in on this socket", code="already_authenticated")
    token = request.fields["token"]
    principal = await hub.context.authenticator.authenticate(token)
    if principal.device_id != request.fields["device_id"]:
        raise AuthenticationError("the token was issued to another device", code="device_mismatch")
    display_name = await hub.context.db.run(
        lambda s: get_member(s, principal.organisation_id, principal.account_id).display_name
    )
    if connection.principal is not None:
        raise ConflictError("already signed in on this socket", code="already_authenticated")
    connection.principal, connection.token = principal, token
    connection.display_name = display_name
    hub.authenticated(connection)
    return {"account": {"account_id": principal.account_id, "display_name": display_name}}


async def _ping(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    pong: dict[str, Any] = {"type": "pong"}
    if request.id is not None:
        pong["id"] = request.id
    connection.send(pong)
    return None


# --- joining and leaving ---


async def _join(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    if connection.participant is not None:
        raise ConflictError("leave the meeting first", code="already_in_meeting")
    principal = connection.principal
    assert principal is not None
    code = parse_join_link(request.fields["meeting"])
    context = hub.context

    # Step 1: the password, as POST /api/meetings/{code}/join checks it, with its limiter.
    password_hash = await context.db.run(lambda s: attendance.needs_password(s, principal, code))
    password_ok = password_hash is None
    if password_hash is not None:
        password = request.fields.get("password")
        if password is None:
            raise PermissionDeniedError(
                "the meeting needs its password", code="meeting_password_required"
            )
        key = ("meeting-password", code, principal.account_id)
        context.meeting_password_limiter.hit(key, code="too_many_password_attempts")
        password_ok = await context.passwords.verify_async(password_hash, password)
        if password_ok:
            context.meeting_password_limiter.reset(key)

    # Step 2: the attendance record (lock, waiting room, role).
    # TODO(#5): the role is read once; co-hosts named mid-meeting act as attendees until they rejoin
    def work(session: Session) -> tuple[str, bool, int, str, str, str]:
        meeting, row = attendance.join(
            session, principal, code, password_ok=password_ok, ip_prefix=connection.ip_prefix
        )
        return meeting.topic, meeting.locked, row.id, row.role, row.state, row.display_name or ""

    topic, locked, attendance_id, role, state, display_name = await context.db.run(work)
    if connection.participant is not None or connection.closing:
        raise ConflictError("leave the meeting first", code="already_in_meeting")

    # Step 3: the live meeting; the account's presence through another socket ends.
    live = hub.live_meeting(principal.organisation_id, code, topic=topic, locked=locked)
    replaced = [p for p in live.participants.values() if p.account_id == principal.account_id]
    links = []
    for old in replaced:
        hub.forget_detached(old)
        old.connection.send({"type": "removed", "reason": "joined_elsewhere"})
        links.append(live.remove(old, reason="joined_elsewhere"))
    participant = live.add(
        connection,
        account_id=principal.account_id,
        display_name=display_name,
        role=role,
        state=state,
        attendance_id=attendance_id,
    )
    connection.reply(
        request.id,
        {
            **live.welcome(participant),
            "resume_token": participant.resume_token,
            "resume_grace_s": context.settings.signaling_resume_grace_s,
        },
    )
    if participant.admitted and participant.privileged:
        live.waiting_room_changed()
    for link in links:
        if link is not None:
            await hub.close_link(link)
    return None


async def _resume(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    if connection.participant is not None:
        raise ConflictError("leave the meeting first", code="already_in_meeting")
    participant = hub.resume(
        connection, request.fields["participant_id"], request.fields["resume_token"]
    )
    live = participant.meeting
    connection.reply(request.id, live.resumed_view(participant))
    live.updated(participant)
    if participant.privileged:
        live.waiting_room_changed()
    return None


async def _leave(hub: SignalingHub, connection: Connection, _request: Request) -> Answer:
    await hub.leave(_me(connection), reason="left")
    return {}


# --- media ---


async def _transport(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    if participant.sdp is not None:
        raise ConflictError(
            "this media path was opened with offer: send offer", code="invalid_message"
        )
    remote = TransportParameters.from_json(request.fields["parameters"])
    link = participant.link
    assert link is not None
    try:
        local = await link.open(remote)
    except ConnectionError:
        raise ConflictError("you left the meeting", code="not_in_meeting") from None
    return {"parameters": local.to_json()}


async def _offer(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    link = participant.link
    assert link is not None
    if participant.sdp is None and link.opened:
        raise ConflictError(
            "this media path was opened with transport parameters", code="invalid_message"
        )
    plan = plan_offer(participant, request.fields["sdp"], request.fields.get("receive", {}))

    # The first offer opens the transport (the only wait); a track to
    # receive that ends meanwhile is left out of the answer.
    if participant.sdp is None:
        offer = plan.description
        try:
            local = await link.open(offer.transport, controlling=offer.answerer_controls)
        except ConnectionError:
            raise ConflictError("you left the meeting", code="not_in_meeting") from None
        participant.sdp = SdpSession(remote_ice=offer.transport.ice, local=local)
    apply_offer(participant, plan)
    return answer_offer(participant, plan)


async def _publish(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    kind = TrackKind(request.fields["kind"])
    track = participant.meeting.publish(participant, kind, request.fields["ssrc"])
    return {"track": participant.meeting.track_view(track)}


async def _unpublish(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    meeting = participant.meeting
    track = meeting.own_track(participant, request.fields["track_id"])
    meeting.unpublish(participant, track)
    if track.kind is not TrackKind.SCREEN:
        meeting.set_muted(participant, "audio" if track.kind is TrackKind.AUDIO else "video", True)
    return {}


async def _subscribe(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    record = participant.meeting.subscribe(participant, track_id=request.fields.get("track_id"))
    return {"subscription": record.view()}


async def _unsubscribe(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    participant.meeting.unsubscribe(participant, request.fields["subscription_id"])
    return {}


# --- muting, hands, chat ---


async def _mute(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    participant.meeting.set_muted(participant, request.fields["kind"], request.fields["muted"])
    return {}


async def _raise_hand(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    participant.hand_raised = request.fields["raised"]
    participant.meeting.updated(participant)
    return {}


async def _chat(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    participant = _me(connection)
    meeting = participant.meeting
    to = request.fields.get("to")
    recipients = meeting.admitted() if to is None else [meeting.find(to)]
    event = {
        "type": "chat",
        "from": participant.participant_id,
        "to": to,
        "text": request.fields["text"],
        "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    for recipient in recipients:
        if recipient is not participant:
            recipient.connection.send(event)
    connection.send(event)
    return {}


# --- host controls ---


def _mute_by_host(participant: LiveParticipant) -> None:
    participant.meeting.set_muted(participant, "audio", True)
    participant.connection.send({"type": "muted-by-host", "kind": "audio"})


async def _mute_all(_hub: SignalingHub, connection: Connection, _request: Request) -> Answer:
    host = _me(connection)
    for participant in host.meeting.admitted():
        if participant is not host:
            _mute_by_host(participant)
    return {}


async def _mute_participant(_hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    host = _me(connection)
    _mute_by_host(host.meeting.find(request.fields["participant_id"]))
    return {}


async def _remove(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    host = _me(connection)
    target = host.meeting.participants.get(request.fields["participant_id"])
    if target is None:
        raise NotFoundError("no such participant", code="not_found")
    if target is host:
        raise InvalidRequestError("send leave to leave", code="invalid_message")
    if target.role == "host" and host.role != "host":
        raise PermissionDeniedError("the host cannot be removed", code="meeting_role_required")
    # TODO(#5): no ban list; a removed participant may join again at once
    target.connection.send({"type": "removed", "reason": "removed_by_host"})
    await hub.leave(target, reason="removed_by_host")
    return {}


async def _lock(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    host = _me(connection)
    principal = connection.principal
    assert principal is not None
    meeting = host.meeting
    locked = request.fields["locked"]
    await hub.context.db.run(
        lambda s: scheduling.update_meeting(s, principal, meeting.code, {"locked": locked})
    )
    meeting.locked = locked
    meeting.broadcast({"type": "meeting-updated", "meeting": meeting.view()})
    return {}


async def _admit(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    host = _me(connection)
    principal = connection.principal
    assert principal is not None
    meeting = host.meeting
    target = meeting.find(request.fields["participant_id"], admitted=False)
    await hub.context.db.run(
        lambda s: attendance.admit(s, principal, meeting.code, target.attendance_id)
    )
    if meeting.participants.get(target.participant_id) is not target or target.admitted:
        raise NotFoundError("the participant is no longer waiting", code="not_found")
    meeting.admit(target)
    target.connection.send({"type": "admitted", **meeting.welcome(target)})
    meeting.waiting_room_changed()
    return {}


# --- direct calls ---


async def _call(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    principal = connection.principal
    assert principal is not None
    callee_id = request.fields["account_id"]
    if callee_id == principal.account_id:
        raise InvalidRequestError("you cannot call yourself", code="invalid_message")
    await hub.context.db.run(lambda s: get_member(s, principal.organisation_id, callee_id))
    if hub.calls.involving(principal.account_id):
        raise ConflictError("you are already in a call", code="busy")
    sockets = hub.sockets_of(callee_id)
    if not sockets:
        raise ConflictError("the callee is not connected", code="unavailable")
    if hub.calls.involving(callee_id) or any(s.participant is not None for s in sockets):
        raise ConflictError("the callee is in a call or a meeting", code="busy")
    call = hub.calls.ring(connection, callee_id)
    caller = {"account_id": principal.account_id, "display_name": connection.display_name}
    for socket in sockets:
        socket.send({"type": "call-incoming", "call_id": call.call_id, "from": caller})
    return {"call_id": call.call_id}


def _callee_call(hub: SignalingHub, connection: Connection, call_id: str) -> DirectCall:
    call = hub.calls.get(call_id)
    if call.callee_account_id != connection.account_id:
        raise NotFoundError("no such call to you", code="not_found")
    return call


async def _call_accept(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    call = _callee_call(hub, connection, request.fields["call_id"])
    hub.end_call(call, reason="answered_elsewhere", callee_event="call-cancelled", skip=connection)
    caller = call.caller.principal
    assert caller is not None
    code = await hub.context.db.run(
        lambda s: scheduling.create_meeting(s, caller, topic="Direct call", kind="instant").code
    )
    event = {"type": "call-accepted", "call_id": call.call_id, "meeting_code": code}
    call.caller.send(event)
    connection.send(event)
    return {"meeting_code": code}


async def _call_decline(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    call = _callee_call(hub, connection, request.fields["call_id"])
    hub.end_call(call, reason="answered_elsewhere", callee_event="call-cancelled", skip=connection)
    call.caller.send({"type": "call-declined", "call_id": call.call_id})
    return {}


async def _call_cancel(hub: SignalingHub, connection: Connection, request: Request) -> Answer:
    call = hub.calls.get(request.fields["call_id"])
    if call.caller is not connection:
        raise NotFoundError("no such call of yours", code="not_found")
    hub.end_call(call, reason="cancelled", callee_event="call-cancelled")
    return {}


_HANDLERS: Final[dict[str, _Spec]] = {
    "hello": _Spec(handler=_hello, where="anywhere"),
    "ping": _Spec(handler=_ping, where="anywhere"),
    "join": _Spec(handler=_join, where="anywhere"),
    "resume": _Spec(handler=_resume, where="anywhere"),
    "leave": _Spec(handler=_leave, where="in_meeting"),
    "transport": _Spec(handler=_transport),
    "restart-ice": _Spec(handler=_transport),
    "offer": _Spec(handler=_offer),
    "publish": _Spec(handler=_publish),
    "unpublish": _Spec(handler=_unpublish),
    "subscribe": _Spec(handler=_subscribe),
    "unsubscribe": _Spec(handler=_unsubscribe),
    "mute": _Spec(handler=_mute),
    "raise-hand": _Spec(handler=_raise_hand),
    "chat": _Spec(handler=_chat),
    "mute-all": _Spec(handler=_mute_all, where="host"),
    "mute-participant": _Spec(handler=_mute_participant, where="host"),
    "remove": _Spec(handler=_remove, where="host"),
    "lock": _Spec(handler=_lock, where="host"),
    "admit": _Spec(handler=_admit, where="host"),
    "call": _Spec(handler=_call, where="anywhere"),
    "call-accept": _Spec(handler=_call_accept, where="anywhere"),
    "call-decline": _Spec(handler=_call_decline, where="anywhere"),
    "call-cancel": _Spec(handler=_call_cancel, where="anywhere"),
}
