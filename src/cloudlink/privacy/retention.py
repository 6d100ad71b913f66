"""Retention: each kind of data is kept for its organisation's period, then purged.

``purge_expired`` deletes, per organisation, quality reports, client events
and feedback older than their periods, sessions that ended (expired or
revoked) longer ago than the session period, devices not seen for as long
that hold no session any more, meetings that ended or were
cancelled longer ago than the meeting period (with their attendance
history), and audit entries older than the audit period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.store.models import (
    AuditEntry,
    AuthSession,
    ClientEvent,
    Device,
    Feedback,
    Meeting,
    Organisation,
    QualityReport,
)

__all__ = ["purge_expired"]


def purge_expired(
    session: Session, *, now: dt.datetime | None = None, organisation_id: int | None = None
) -> dict[str, int]:
    """Deletes every expired row (of one organisation, or all); returns how many of each kind."""
    now = now or utc_now()
    counts = {
        "quality_reports": 0,
        "client_events": 0,
        "feedback": 0,
        "sessions": 0,
        "devices": 0,
        "meetings": 0,
        "audit_log": 0,
    }
    organisations = select(Organisation)
    if organisation_id is not None:
        organisations = organisations.where(Organisation.id == organisation_id)
    for organisation in session.scalars(organisations):

        def before(days: int) -> dt.datetime:
            return now - dt.timedelta(days=days)

        org = organisation.id
        jobs: list[tuple[str, Any]] = [
            (
                "quality_reports",
                delete(QualityReport).where(
                    QualityReport.organisation_id == org,
                    QualityReport.received_at < before(organisation.retention_quality_days),
                ),
            ),
            (
                "client_events",
                delete(ClientEvent).where(
                    ClientEvent.organisation_id == org,
                    ClientEvent.received_at < before(organisation.retention_events_days),
                ),
            ),
            (
                "feedback",
                delete(Feedback).where(
                    Feedback.organisation_id == org,
                    Feedback.received_at < before(organisation.retention_feedback_days),
                ),
            ),
            (
                "sessions",
                delete(AuthSession).where(
                    AuthSession.organisation_id == org,
                    or_(
                        AuthSession.expires_at < before(organisation.retention_sessions_days),
                        AuthSession.revoked_at < before(organisation.retention_sessions_days),
                    ),
                ),
            ),
            (
                "devices",
                delete(Device).where(
                    Device.organisation_id == org,
                    Device.last_seen_at < before(organisation.retention_sessions_days),
                    ~exists(select(AuthSession.id).where(AuthSession.device_pk == Device.id)),
                ),
            ),
            (
                "meetings",
                delete(Meeting).where(
                    Meeting.organisation_id == org,
                    or_(
                        and_(
                            Meeting.status == "ended",
                            Meeting.ended_at < before(organisation.retention_meetings_days),
                        ),
                        and_(
                            Meeting.status == "cancelled",
                            Meeting.starts_at < before(organisation.retention_meetings_days),
                        ),
                    ),
                ),
            ),
            (
                "audit_log",
                delete(AuditEntry).where(
                    AuditEntry.organisation_id == org,
                    AuditEntry.at < before(organisation.retention_audit_days),
                ),
            ),
        ]
        for kind, statement in jobs:
            counts[kind] += cast(CursorResult[Any], session.execute(statement)).rowcount
    return counts
