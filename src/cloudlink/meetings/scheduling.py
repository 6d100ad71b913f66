"""Meetings: instant and scheduled (recurring too), their roles, settings and invitations.

The host creates a meeting and may name co-hosts; host and co-hosts change
its settings (topic, time, password, lock, waiting room) and invitations;
only the host cancels it or changes the co-hosts. Meetings are found by
their public code, always within the caller's organisation. A meeting
password is stored as an argon2id hash (the caller hashes it first).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member
from cloudlink.accounts.principal import Principal
from cloudlink.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from cloudlink.meetings.join_link import CODE_DIGITS
from cloudlink.meetings.recurrence import RECURRENCES
from cloudlink.store.models import Meeting, MeetingCoHost, MeetingInvitation

__all__ = [
    "MEETING_SETTINGS",
    "MeetingDetails",
    "add_invitation",
    "cancel_meeting",
    "create_meeting",
    "details",
    "end_meeting",
    "get_meeting",
    "list_meetings",
    "list_organisation_meetings",
    "remove_invitation",
    "role_of",
    "set_cohosts",
    "update_meeting",
]

# Settings host and co-hosts may change; password_hash is set through the API's password.
MEETING_SETTINGS: Final = (
    "topic",
    "starts_at",
    "duration_min",
    "recurrence",
    "recurrence_count",
    "locked",
    "waiting_room",
    "password_hash",
)
_INSTANT_DURATION_MIN: Final = 60


@dataclass(frozen=True, kw_only=True)
class MeetingDetails:
    """A meeting with its co-hosts and invitations."""

    meeting: Meeting
    cohost_account_ids: list[int]
    invitations: list[MeetingInvitation]


def _new_code(session: Session) -> str:
    for _ in range(20):
        # The first digit is never 0, so a code reads as nine digits anywhere.
        code = str(secrets.randbelow(9 * 10 ** (CODE_DIGITS - 1)) + 10 ** (CODE_DIGITS - 1))
        if session.scalar(select(Meeting.id).where(Meeting.code == code)) is None:
            return code
    raise ConflictError("no free meeting id, try again", code="meeting_code_exhausted")


def create_meeting(
    session: Session,
    host: Principal,
    *,
    topic: str,
    kind: str,
    starts_at: dt.datetime | None = None,
    duration_min: int | None = None,
    recurrence: str = "none",
    recurrence_count: int | None = None,
    password_hash: str | None = None,
    waiting_room: bool = False,
) -> Meeting:
    """Creates a meeting hosted by ``host``; an instant one starts now."""
    now = utc_now()
    if kind == "instant":
        if recurrence != "none":
            raise InvalidRequestError(
                "an instant meeting does not recur", code="invalid_recurrence"
            )
        starts_at = now
        status = "active"
    elif kind == "scheduled":
        if starts_at is None:
            raise InvalidRequestError("a scheduled meeting needs starts_at", code="missing_start")
        status = "scheduled"
    else:
        raise InvalidRequestError(f"unknown meeting kind {kind!r}", code="invalid_kind")
    _check_recurrence(recurrence, recurrence_count)
    meeting = Meeting(
        organisation_id=host.organisation_id,
        code=_new_code(session),
        topic=topic,
        kind=kind,
        host_account_id=host.account_id,
        starts_at=starts_at,
        duration_min=duration_min or _INSTANT_DURATION_MIN,
        recurrence=recurrence,
        recurrence_count=recurrence_count if recurrence != "none" else None,
        password_hash=password_hash,
        locked=False,
        waiting_room=waiting_room,
        status=status,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    return meeting


def _check_recurrence(recurrence: str, count: int | None) -> None:
    if recurrence not in RECURRENCES:
        raise InvalidRequestError(f"unknown recurrence {recurrence!r}", code="invalid_recurrence")
    if count is not None and count < 1:
        raise InvalidRequestError("recurrence_count must be at least 1", code="invalid_recurrence")


def get_meeting(session: Session, organisation_id: int, code: str) -> Meeting:
    """The meeting with ``code`` in the organisation."""
    meeting = session.scalar(
        select(Meeting).where(Meeting.organisation_id == organisation_id, Meeting.code == code)
    )
    if meeting is None:
        raise NotFoundError("no such meeting", code="meeting_not_found")
    return meeting


def role_of(session: Session, meeting: Meeting, account_id: int) -> str:
    """``host``, ``cohost`` or ``attendee``."""
    if meeting.host_account_id == account_id:
        return "host"
    cohost = session.scalar(
        select(MeetingCoHost.id).where(
            MeetingCoHost.meeting_id == meeting.id, MeetingCoHost.account_id == account_id
        )
    )
    return "cohost" if cohost is not None else "attendee"


def _require(session: Session, meeting: Meeting, caller: Principal, *roles: str) -> str:
    role = role_of(session, meeting, caller.account_id)
    if role not in roles:
        raise PermissionDeniedError(
            f"only the meeting's {' or '.join(roles)} may do this", code="meeting_role_required"
        )
    return role


def _require_open(meeting: Meeting) -> None:
    if meeting.status in ("ended", "cancelled"):
        raise ConflictError(f"the meeting is {meeting.status}", code="meeting_over")


def details(session: Session, meeting: Meeting) -> MeetingDetails:
    """The meeting with its co-hosts and invitations."""
    cohosts = list(
        session.scalars(
            select(MeetingCoHost.account_id)
            .where(MeetingCoHost.meeting_id == meeting.id)
            .order_by(MeetingCoHost.account_id)
        )
    )
    invitations = list(
        session.scalars(
            select(MeetingInvitation)
            .where(MeetingInvitation.meeting_id == meeting.id)
            .order_by(MeetingInvitation.id)
        )
    )
    return MeetingDetails(meeting=meeting, cohost_account_ids=cohosts, invitations=invitations)


def list_meetings(
    session: Session, caller: Principal, *, include_over: bool = False
) -> list[Meeting]:
    """Meetings the caller hosts, co-hosts or is invited to, by start time."""
    cohosting = select(MeetingCoHost.meeting_id).where(
        MeetingCoHost.account_id == caller.account_id
    )
    invited = select(MeetingInvitation.meeting_id).where(
        MeetingInvitation.account_id == caller.account_id
    )
    statement = select(Meeting).where(
        Meeting.organisation_id == caller.organisation_id,
        or_(
            Meeting.host_account_id == caller.account_id,
            Meeting.id.in_(cohosting),
            Meeting.id.in_(invited),
        ),
    )
    if not include_over:
        statement = statement.where(Meeting.status.in_(("scheduled", "active")))
    return list(session.scalars(statement.order_by(Meeting.starts_at, Meeting.id)))


def list_organisation_meetings(
    session: Session,
    organisation_id: int,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Meeting]:
    """Every meeting of the organisation (for its administrators), newest start first."""
    statement = select(Meeting).where(Meeting.organisation_id == organisation_id)
    if status is not None:
        statement = statement.where(Meeting.status == status)
    statement = statement.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    return list(session.scalars(statement.limit(limit).offset(offset)))


def update_meeting(
    session: Session, caller: Principal, code: str, changes: dict[str, Any]
) -> Meeting:
    """Changes settings of an open meeting (host or co-host)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host", "cohost")
    _require_open(meeting)
    for key in changes:
        if key not in MEETING_SETTINGS:
            raise InvalidRequestError(f"setting {key!r} cannot be changed", code="invalid_field")
    recurrence = changes.get("recurrence", meeting.recurrence)
    count = changes.get("recurrence_count", meeting.recurrence_count)
    _check_recurrence(recurrence, count)
    if meeting.kind == "instant" and recurrence != "none":
        raise InvalidRequestError("an instant meeting does not recur", code="invalid_recurrence")
    for key, value in changes.items():
        setattr(meeting, key, value)
    if recurrence == "none":
        meeting.recurrence_count = None
    return meeting


def cancel_meeting(session: Session, caller: Principal, code: str) -> None:
    """Cancels a meeting (host only)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host")
    _require_open(meeting)
    meeting.status = "cancelled"
    meeting.ended_at = utc_now()


def end_meeting(session: Session, caller: Principal, code: str) -> Meeting:
    """Ends a meeting for everyone (host or co-host)."""
    from cloudlink.meetings.attendance import close_attendances

    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host", "cohost")
    _require_open(meeting)
    meeting.status = "ended"
    meeting.ended_at = utc_now()
    close_attendances(session, meeting)
    return meeting


def set_cohosts(session: Session, caller: Principal, code: str, account_ids: list[int]) -> None:
    """Replaces the meeting's co-hosts (host only); each must be a member of the organisation."""
    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host")
    _require_open(meeting)
    wanted = sorted(set(account_ids) - {caller.account_id})
    for account_id in wanted:
        get_member(session, caller.organisation_id, account_id)
    for existing in session.scalars(
        select(MeetingCoHost).where(MeetingCoHost.meeting_id == meeting.id)
    ):
        session.delete(existing)
    session.flush()
    for account_id in wanted:
        session.add(
            MeetingCoHost(
                organisation_id=caller.organisation_id, meeting_id=meeting.id, account_id=account_id
            )
        )


def add_invitation(
    session: Session,
    caller: Principal,
    code: str,
    *,
    account_id: int | None = None,
    email: str | None = None,
) -> MeetingInvitation:
    """Invites a member (by account id) or anyone (by email) (host or co-host)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host", "cohost")
    _require_open(meeting)
    if (account_id is None) == (email is None):
        raise InvalidRequestError("invite either an account_id or an email", code="invalid_invitee")
    if account_id is not None:
        get_member(session, caller.organisation_id, account_id)
    duplicate = session.scalar(
        select(MeetingInvitation.id).where(
            MeetingInvitation.meeting_id == meeting.id,
            MeetingInvitation.account_id == account_id
            if account_id is not None
            else MeetingInvitation.email == email,
        )
    )
    if duplicate is not None:
        raise ConflictError("already invited", code="already_invited")
    invitation = MeetingInvitation(
        organisation_id=caller.organisation_id,
        meeting_id=meeting.id,
        account_id=account_id,
        email=email,
        created_at=utc_now(),
    )
    session.add(invitation)
    session.flush()
    return invitation


def remove_invitation(session: Session, caller: Principal, code: str, invitation_id: int) -> None:
    """Withdraws an invitation (host or co-host)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    _require(session, meeting, caller, "host", "cohost")
    invitation = session.get(MeetingInvitation, invitation_id)
    if invitation is None or invitation.meeting_id != meeting.id:
        raise NotFoundError("no such invitation", code="invitation_not_found")
    session.delete(invitation)
