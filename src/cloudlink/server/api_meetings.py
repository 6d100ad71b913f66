"""Meetings over HTTP: scheduling, settings, roles, invitations, joining and join links.

Meetings are addressed by their nine-digit code, within the caller's
organisation. Meeting password attempts are bounded per meeting and account
(ServerSettings.meeting_password_attempts in meeting_password_window_s).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.passwords import Passwords
from cloudlink.errors import PermissionDeniedError
from cloudlink.meetings import attendance, scheduling
from cloudlink.meetings.join_link import make_join_link, parse_join_link
from cloudlink.meetings.recurrence import RECURRENCES, occurrences
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, EMAIL, ID, array, nullable, obj, text
from cloudlink.server.timestamps import parse_timestamp
from cloudlink.store.models import MeetingParticipant

__all__ = ["ENDPOINTS"]

_MEETING_PASSWORD: Final = text(64, min_length=4)
_DURATION_MIN: Final = {"type": "integer", "minimum": 1, "maximum": 24 * 60}
_RECURRENCE_COUNT: Final = {"type": "integer", "minimum": 1, "maximum": 1000}
_ACCOUNT_ID: Final = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}

_INVITATION: Final = obj(
    {"id": ID, "account_id": nullable(ID), "email": nullable({"type": "string"})}
)
_MEETING: Final = obj(
    {
        "code": {"type": "string"},
        "join_link": {"type": "string"},
        "topic": {"type": "string"},
        "kind": {"enum": ["instant", "scheduled"]},
        "status": {"enum": ["scheduled", "active", "ended", "cancelled"]},
        "host_account_id": nullable(ID),
        "starts_at": DATETIME,
        "duration_min": {"type": "integer"},
        "recurrence": {"enum": list(RECURRENCES)},
        "recurrence_count": nullable({"type": "integer"}),
        "next_occurrences": array(DATETIME),
        "has_password": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "waiting_room": {"type": "boolean"},
        "cohost_account_ids": array(ID),
        "invitations": array(_INVITATION),
        "your_role": {"enum": ["host", "cohost", "attendee"]},
    }
)
_PARTICIPANT: Final = obj(
    {
        "id": ID,
        "account_id": nullable(ID),
        "display_name": nullable({"type": "string"}),
        "role": {"enum": ["host", "cohost", "attendee"]},
        "state": {"enum": ["waiting", "admitted", "left"]},
        "joined_at": DATETIME,
        "left_at": nullable(DATETIME),
    }
)
_JOINED: Final = obj({"meeting": _MEETING, "participant": _PARTICIPANT})


def _meeting_view(call: Call, session: Session, code: str) -> dict[str, Any]:
    caller = call.caller
    meeting = scheduling.get_meeting(session, caller.organisation_id, code)
    role = scheduling.role_of(session, meeting, caller.account_id)
    full = scheduling.details(session, meeting)
    upcoming = (
        occurrences(
            meeting.starts_at,
            meeting.recurrence,
            count=meeting.recurrence_count,
            after=utc_now() - dt.timedelta(minutes=meeting.duration_min),
        )
        if meeting.status in ("scheduled", "active")
        else []
    )
    privileged = role != "attendee"
    return {
        "code": meeting.code,
        "join_link": make_join_link(call.context.settings.public_base_url, meeting.code),
        "topic": meeting.topic,
        "kind": meeting.kind,
        "status": meeting.status,
        "host_account_id": meeting.host_account_id,
        "starts_at": meeting.starts_at.isoformat(),
        "duration_min": meeting.duration_min,
        "recurrence": meeting.recurrence,
        "recurrence_count": meeting.recurrence_count,
        "next_occurrences": [start.isoformat() for start in upcoming],
        "has_password": meeting.password_hash is not None,
        "locked": meeting.locked,
        "waiting_room": meeting.waiting_room,
        "cohost_account_ids": full.cohost_account_ids,
        # Whom else a meeting invites is for its hosts to see.
        "invitations": [
            {"id": i.id, "account_id": i.account_id, "email": i.email} for i in full.invitations
        ]
        if privileged
        else [],
        "your_role": role,
    }


def _participant_view(participant: MeetingParticipant) -> dict[str, Any]:
    return {
        "id": participant.id,
        "account_id": participant.account_id,
        "display_name": participant.display_name,
        "role": participant.role,
        "state": participant.state,
        "joined_at": participant.joined_at.isoformat(),
        "left_at": participant.left_at.isoformat() if participant.left_at else None,
    }


async def _hash_optional(passwords: Passwords, password: str | None) -> str | None:
    if password is None:
        return None
    return await passwords.hash_async(password)


async def _create_meeting(call: Call) -> Reply:
    body = call.body
    password_hash = await _hash_optional(call.context.passwords, body.get("password"))
    starts_at = (
        parse_timestamp(body["starts_at"], field="starts_at") if "starts_at" in body else None
    )

    def work(session: Session) -> dict[str, Any]:
        meeting = scheduling.create_meeting(
            session,
            call.caller,
            topic=body["topic"],
            kind=body["kind"],
            starts_at=starts_at,
            duration_min=body.get("duration_min"),
            recurrence=body.get("recurrence", "none"),
            recurrence_count=body.get("recurrence_count"),
            password_hash=password_hash,
            waiting_room=body.get("waiting_room", False),
        )
        for account_id in body.get("invite_account_ids", []):
            scheduling.add_invitation(session, call.caller, meeting.code, account_id=account_id)
        for email in body.get("invite_emails", []):
            scheduling.add_invitation(session, call.caller, meeting.code, email=email)
        return _meeting_view(call, session, meeting.code)

    return Reply(payload=await call.context.db.run(work), status=201)


async def _list_meetings(call: Call) -> Reply:
    def work(session: Session) -> list[dict[str, Any]]:
        meetings = scheduling.list_meetings(
            session, call.caller, include_over=call.query.get("include_over", False)
        )
        return [_meeting_view(call, session, m.code) for m in meetings]

    return Reply(payload=await call.context.db.run(work))


async def _organisation_meetings(call: Call) -> Reply:
    def work(session: Session) -> list[dict[str, Any]]:
        meetings = scheduling.list_organisation_meetings(
            session,
            call.caller.organisation_id,
            status=call.query.get("status"),
            limit=call.query.get("limit", 100),
            offset=call.query.get("offset", 0),
        )
        return [_meeting_view(call, session, m.code) for m in meetings]

    return Reply(payload=await call.context.db.run(work))


async def _get_meeting(call: Call) -> Reply:
    return Reply(
        payload=await call.context.db.run(
            lambda s: _meeting_view(call, s, call.path["meeting_code"])
        )
    )


async def _update_meeting(call: Call) -> Reply:
    changes = dict(call.body)
    if "password" in changes:
        changes["password_hash"] = await _hash_optional(
            call.context.passwords, changes.pop("password")
        )
    if "starts_at" in changes:
        changes["starts_at"] = parse_timestamp(changes["starts_at"], field="starts_at")
    code = call.path["meeting_code"]

    def work(session: Session) -> dict[str, Any]:
        scheduling.update_meeting(session, call.caller, code, changes)
        return _meeting_view(call, session, code)

    return Reply(payload=await call.context.db.run(work))


async def _cancel_meeting(call: Call) -> Reply:
    await call.context.db.run(
        lambda s: scheduling.cancel_meeting(s, call.caller, call.path["meeting_code"])
    )
    return Reply(payload=None, status=204)


async def _end_meeting(call: Call) -> Reply:
    code = call.path["meeting_code"]

    def work(session: Session) -> dict[str, Any]:
        scheduling.end_meeting(session, call.caller, code)
        return _meeting_view(call, session, code)

    return Reply(payload=await call.context.db.run(work))


async def _set_cohosts(call: Call) -> Reply:
    code = call.path["meeting_code"]

    def work(session: Session) -> dict[str, Any]:
        scheduling.set_cohosts(session, call.caller, code, call.body["account_ids"])
        return _meeting_view(call, session, code)

    return Reply(payload=await call.context.db.run(work))


async def _invite(call: Call) -> Reply:
    invitation = await call.context.db.run(
        lambda s: scheduling.add_invitation(
            s,
            call.caller,
            call.path["meeting_code"],
            account_id=call.body.get("account_id"),
            email=call.body.get("email"),
        )
    )
    return Reply(
        payload={
            "id": invitation.id,
            "account_id": invitation.account_id,
            "email": invitation.email,
        },
        status=201,
    )


async def _uninvite(call: Call) -> Reply:
    await call.context.db.run(
        lambda s: scheduling.remove_invitation(
            s, call.caller, call.path["meeting_code"], call.path["invitation_id"]
        )
    )
    return Reply(payload=None, status=204)


async def _join(call: Call) -> Reply:
    caller = call.caller
    code = call.path["meeting_code"]
    password_hash = await call.context.db.run(lambda s: attendance.needs_password(s, caller, code))
    password_ok = password_hash is None
    if password_hash is not None:
        password = call.body.get("password")
        if password is None:
            raise PermissionDeniedError(
                "the meeting needs its password", code="meeting_password_required"
            )
        key = ("meeting-password", code, caller.account_id)
        call.context.meeting_password_limiter.hit(key, code="too_many_password_attempts")
        password_ok = await call.context.passwords.verify_async(password_hash, password)
        if password_ok:
            call.context.meeting_password_limiter.reset(key)

    def work(session: Session) -> dict[str, Any]:
        _, participant = attendance.join(
            session, caller, code, password_ok=password_ok, ip_prefix=call.ip_prefix
        )
        return {
            "meeting": _meeting_view(call, session, code),
            "participant": _participant_view(participant),
        }

    return Reply(payload=await call.context.db.run(work))


async def _leave(call: Call) -> Reply:
    await call.context.db.run(lambda s: attendance.leave(s, call.caller, call.path["meeting_code"]))
    return Reply(payload=None, status=204)


async def _participants(call: Call) -> Reply:
    participants = await call.context.db.run(
        lambda s: attendance.list_participants(s, call.caller, call.path["meeting_code"])
    )
    return Reply(payload=[_participant_view(p) for p in participants])


async def _admit(call: Call) -> Reply:
    participant = await call.context.db.run(
        lambda s: attendance.admit(
            s, call.caller, call.path["meeting_code"], call.path["participant_id"]
        )
    )
    return Reply(payload=_participant_view(participant))


async def _parse_link(call: Call) -> Reply:
    code = parse_join_link(call.query["link"])
    return Reply(
        payload={
            "meeting_code": code,
            "join_link": make_join_link(call.context.settings.public_base_url, code),
        }
    )


_SCHEDULE_FIELDS: Final = {
    "topic": text(200),
    "starts_at": {"type": "string", "format": "date-time", "maxLength": 40},
    "duration_min": _DURATION_MIN,
    "recurrence": {"enum": list(RECURRENCES)},
    "recurrence_count": nullable(_RECURRENCE_COUNT),
    "waiting_room": {"type": "boolean"},
}
_M: Final = "/api/meetings/{meeting_code}"

ENDPOINTS: Final = [
    Endpoint(
        method="GET",
        path="/api/organisation/meetings",
        handler=_organisation_meetings,
        tag="meetings",
        access="admin",
        summary="Every meeting of the organisation, newest start first",
        query={
            "status": {"enum": ["scheduled", "active", "ended", "cancelled"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
        response=array(_MEETING),
    ),
    Endpoint(
        method="POST",
        path="/api/meetings",
        handler=_create_meeting,
        tag="meetings",
        summary="Create an instant or scheduled (optionally recurring) meeting",
        body=obj(
            {
                **_SCHEDULE_FIELDS,
                "kind": {"enum": ["instant", "scheduled"]},
                "password": _MEETING_PASSWORD,
                "invite_account_ids": {"type": "array", "items": _ACCOUNT_ID, "maxItems": 200},
                "invite_emails": {"type": "array", "items": EMAIL, "maxItems": 200},
            },
            required=("topic", "kind"),
        ),
        response=_MEETING,
        status=201,
        errors=(409,),
    ),
    Endpoint(
        method="GET",
        path="/api/meetings",
        handler=_list_meetings,
        tag="meetings",
        summary="Meetings the caller hosts, co-hosts or is invited to",
        query={"include_over": {"type": "boolean"}},
        response=array(_MEETING),
    ),
    Endpoint(
        method="GET",
        path=_M,
        handler=_get_meeting,
        tag="meetings",
        summary="One meeting of the caller's organisation",
        response=_MEETING,
    ),
    Endpoint(
        method="PATCH",
        path=_M,
        handler=_update_meeting,
        tag="meetings",
        summary="Change a meeting's settings: time, recurrence, password, lock, waiting room",
        body=obj(
            {
                **_SCHEDULE_FIELDS,
                "password": nullable(_MEETING_PASSWORD),
                "locked": {"type": "boolean"},
            },
            required=(),
            min_properties=1,
        ),
        response=_MEETING,
        errors=(403, 409),
    ),
    Endpoint(
        method="DELETE",
        path=_M,
        handler=_cancel_meeting,
        tag="meetings",
        status=204,
        summary="Cancel a meeting (host only)",
        errors=(403, 409),
    ),
    Endpoint(
        method="POST",
        path=f"{_M}/end",
        handler=_end_meeting,
        tag="meetings",
        summary="End a meeting for everyone",
        response=_MEETING,
        errors=(403, 409),
    ),
    Endpoint(
        method="PUT",
        path=f"{_M}/cohosts",
        handler=_set_cohosts,
        tag="meetings",
        summary="Replace the meeting's co-hosts (host only)",
        body=obj({"account_ids": {"type": "array", "items": _ACCOUNT_ID, "maxItems": 50}}),
        response=_MEETING,
        errors=(403, 409),
    ),
    Endpoint(
        method="POST",
        path=f"{_M}/invitations",
        handler=_invite,
        tag="meetings",
        summary="Invite a member (account_id) or anyone (email)",
        body=obj({"account_id": _ACCOUNT_ID, "email": EMAIL}, required=(), min_properties=1),
        response=_INVITATION,
        status=201,
        errors=(403, 409),
    ),
    Endpoint(
        method="DELETE",
        path=f"{_M}/invitations/{{invitation_id}}",
        handler=_uninvite,
        tag="meetings",
        summary="Withdraw an invitation",
        status=204,
        errors=(403,),
    ),
    Endpoint(
        method="POST",
        path=f"{_M}/join",
        handler=_join,
        tag="meetings",
        summary="Join a meeting (password when it has one; the waiting room may hold you)",
        body=obj({"password": text(64)}, required=()),
        body_required=False,
        response=_JOINED,
        errors=(403, 409, 423, 429),
    ),
    Endpoint(
        method="POST",
        path=f"{_M}/leave",
        handler=_leave,
        tag="meetings",
        status=204,
        summary="Leave a meeting",
    ),
    Endpoint(
        method="GET",
        path=f"{_M}/participants",
        handler=_participants,
        tag="meetings",
        summary="Attendance of a meeting (host and co-hosts)",
        response=array(_PARTICIPANT),
        errors=(403,),
    ),
    Endpoint(
        method="POST",
        path=f"{_M}/participants/{{participant_id}}/admit",
        handler=_admit,
        tag="meetings",
        summary="Admit a participant from the waiting room",
        response=_PARTICIPANT,
        errors=(403, 409),
    ),
    Endpoint(
        method="GET",
        path="/api/join-links/parse",
        handler=_parse_link,
        tag="meetings",
        summary="The meeting id in a pasted join link or typed meeting id",
        query={"link": text(2000)},
        required_query=("link",),
        response=obj({"meeting_code": {"type": "string"}, "join_link": {"type": "string"}}),
    ),
]
