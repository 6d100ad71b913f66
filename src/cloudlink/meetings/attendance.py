"""Joining and leaving meetings: password, lock, waiting room, and the attendance history.

Host and co-hosts always get in. Anyone else needs the meeting password when
one is set (the caller bounds attempts, see cloudlink.server.api_meetings),
is refused while the meeting is locked, and waits for admission when the
waiting room is on. Each attendance is one ``MeetingParticipant`` row; the
history keeps it after the meeting, anonymous once the person is erased.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member
from cloudlink.accounts.principal import Principal
from cloudlink.errors import ConflictError, NotFoundError, PermissionDeniedError
from cloudlink.meetings.scheduling import get_meeting, role_of
from cloudlink.store.models import Meeting, MeetingParticipant

__all__ = [
    "admit",
    "close_attendances",
    "join",
    "leave",
    "list_participants",
    "needs_password",
]


# TODO(#4): no guest access; people invited by email cannot join (needs guest tokens)
def join(
    session: Session,
    caller: Principal,
    code: str,
    *,
    password_ok: bool,
    ip_prefix: str | None,
) -> tuple[Meeting, MeetingParticipant]:
    """Joins the caller; ``password_ok`` says the password was checked (or none is needed)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    if meeting.status in ("ended", "cancelled"):
        raise ConflictError(f"the meeting is {meeting.status}", code="meeting_over")
    role = role_of(session, meeting, caller.account_id)
    if role == "attendee":
        if meeting.password_hash is not None and not password_ok:
            raise PermissionDeniedError("wrong meeting password", code="wrong_meeting_password")
        if meeting.locked:
            raise ConflictError("the meeting is locked", code="meeting_locked")
    current = _current(session, meeting.id, caller.account_id)
    if current is not None:
        return meeting, current
    account = get_member(session, caller.organisation_id, caller.account_id)
    now = utc_now()
    waiting = role == "attendee" and meeting.waiting_room
    participant = MeetingParticipant(
        organisation_id=caller.organisation_id,
        meeting_id=meeting.id,
        account_id=caller.account_id,
        display_name=account.display_name,
        role=role,
        state="waiting" if waiting else "admitted",
        joined_at=now,
        ip_prefix=ip_prefix,
    )
    session.add(participant)
    if meeting.status == "scheduled":
        meeting.status = "active"
    session.flush()
    return meeting, participant


def _current(session: Session, meeting_id: int, account_id: int) -> MeetingParticipant | None:
    return session.scalar(
        select(MeetingParticipant).where(
            MeetingParticipant.meeting_id == meeting_id,
            MeetingParticipant.account_id == account_id,
            MeetingParticipant.state.in_(("waiting", "admitted")),
        )
    )


def needs_password(session: Session, caller: Principal, code: str) -> str | None:
    """The meeting's password hash when the caller must give the password, else None."""
    meeting = get_meeting(session, caller.organisation_id, code)
    if meeting.password_hash is None or role_of(session, meeting, caller.account_id) != "attendee":
        return None
    if _current(session, meeting.id, caller.account_id) is not None:
        return None
    return meeting.password_hash


def leave(session: Session, caller: Principal, code: str) -> None:
    """Ends the caller's attendance."""
    meeting = get_meeting(session, caller.organisation_id, code)
    current = _current(session, meeting.id, caller.account_id)
    if current is None:
        raise NotFoundError("not in this meeting", code="not_in_meeting")
    current.state = "left"
    current.left_at = utc_now()


def admit(
    session: Session, caller: Principal, code: str, participant_id: int
) -> MeetingParticipant:
    """Lets a waiting participant in (host or co-host)."""
    meeting = get_meeting(session, caller.organisation_id, code)
    if role_of(session, meeting, caller.account_id) == "attendee":
        raise PermissionDeniedError("only host or co-hosts admit", code="meeting_role_required")
    participant = session.get(MeetingParticipant, participant_id)
    if participant is None or participant.meeting_id != meeting.id:
        raise NotFoundError("no such participant", code="participant_not_found")
    if participant.state != "waiting":
        raise ConflictError("the participant is not waiting", code="not_waiting")
    participant.state = "admitted"
    return participant


def list_participants(session: Session, caller: Principal, code: str) -> list[MeetingParticipant]:
    """The meeting's attendance history; host and co-hosts only."""
    meeting = get_meeting(session, caller.organisation_id, code)
    if role_of(session, meeting, caller.account_id) == "attendee":
        raise PermissionDeniedError(
            "only host or co-hosts see attendance", code="meeting_role_required"
        )
    return list(
        session.scalars(
            select(MeetingParticipant)
            .where(MeetingParticipant.meeting_id == meeting.id)
            .order_by(MeetingParticipant.joined_at, MeetingParticipant.id)
        )
    )


def close_attendances(session: Session, meeting: Meeting) -> None:
    """Marks everyone still in the meeting as left."""
    session.execute(
        update(MeetingParticipant)
        .where(
            MeetingParticipant.meeting_id == meeting.id,
            MeetingParticipant.state.in_(("waiting", "admitted")),
        )
        .values(state="left", left_at=utc_now())
    )
