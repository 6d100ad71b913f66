"""Erasing a person: what cancelling an account (or leaving the organisation) does.

Deleted: the account, its sessions and devices, its personal contacts, the
contacts other members keep of it (linked to it, or with its email or mobile
number), its co-host roles and invitations, and every telemetry row it sent
(quality reports, events, feedback with log files). Anonymised: its
attendances of meetings (the participant stays, without account, name or
network), meetings it hosted (no host; future ones are cancelled) and audit
entries it made as an administrator (no actor).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member
from cloudlink.store.models import (
    Account,
    AuditEntry,
    AuthSession,
    ClientEvent,
    Contact,
    Device,
    Feedback,
    Meeting,
    MeetingCoHost,
    MeetingInvitation,
    MeetingParticipant,
    QualityReport,
)

__all__ = ["erase_account"]


def erase_account(session: Session, organisation_id: int, account_id: int) -> None:
    """Deletes or anonymises everything stored about one account of the organisation."""
    account = get_member(session, organisation_id, account_id)
    in_org = organisation_id

    # Telemetry and sign-in data: deleted outright.
    for table in (QualityReport, ClientEvent, Feedback, AuthSession):
        session.execute(
            delete(table).where(table.organisation_id == in_org, table.account_id == account_id)
        )
    session.execute(
        delete(Device).where(Device.organisation_id == in_org, Device.account_id == account_id)
    )

    # Address books: the person's own, and every entry others keep of them.
    same_person = [Contact.owner_account_id == account_id, Contact.member_account_id == account_id]
    if account.email:
        same_person.append(Contact.email == account.email)
    if account.mobile:
        same_person.append(Contact.mobile == account.mobile)
    session.execute(delete(Contact).where(Contact.organisation_id == in_org, or_(*same_person)))

    # Meetings: roles and invitations go, attendances and hosted meetings stay anonymous.
    session.execute(
        delete(MeetingCoHost).where(
            MeetingCoHost.organisation_id == in_org, MeetingCoHost.account_id == account_id
        )
    )
    invited = [MeetingInvitation.account_id == account_id]
    if account.email:
        invited.append(MeetingInvitation.email == account.email)
    session.execute(
        delete(MeetingInvitation).where(MeetingInvitation.organisation_id == in_org, or_(*invited))
    )
    session.execute(
        update(MeetingParticipant)
        .where(
            MeetingParticipant.organisation_id == in_org,
            MeetingParticipant.account_id == account_id,
        )
        .values(account_id=None, display_name=None, ip_prefix=None)
    )
    session.execute(
        update(Meeting)
        .where(
            Meeting.organisation_id == in_org,
            Meeting.host_account_id == account_id,
            Meeting.status == "scheduled",
            Meeting.starts_at > utc_now(),
        )
        .values(status="cancelled")
    )
    session.execute(
        update(Meeting)
        .where(Meeting.organisation_id == in_org, Meeting.host_account_id == account_id)
        .values(host_account_id=None)
    )
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.organisation_id == in_org, AuditEntry.actor_account_id == account_id)
        .values(actor_account_id=None)
    )
    session.execute(
        delete(Account).where(Account.organisation_id == in_org, Account.id == account_id)
    )
