"""Client telemetry: quality reports, events and problem feedback, each stored only if allowed.

Before storing, each function asks cloudlink.privacy.settings whether the
member's settings allow it (quality data, event logs; feedback unless
processing is restricted) and drops the data otherwise, telling the caller.
A feedback's log file is an event log: it is kept only when event logs are
collected, and never beyond the server's size limit. Addresses arrive
already anonymised (``ip_prefix``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.principal import Principal
from cloudlink.errors import InvalidRequestError, NotFoundError
from cloudlink.meetings.scheduling import get_meeting
from cloudlink.privacy.settings import collection_allowed
from cloudlink.store.models import ClientEvent, Feedback, Meeting, QualityReport

__all__ = [
    "EVENT_KINDS",
    "QUALITY_FIELDS",
    "FeedbackOutcome",
    "get_feedback",
    "list_events",
    "list_feedback",
    "list_quality",
    "store_events",
    "store_feedback",
    "store_quality",
]

EVENT_KINDS: Final = ("error", "crash", "restart", "upgrade")
QUALITY_FIELDS: Final = (
    "media",
    "loss_pct",
    "jitter_ms",
    "rtt_ms",
    "mos",
    "volume_dbov",
    "concealment_pct",
)


@dataclass(frozen=True, kw_only=True)
class FeedbackOutcome:
    """What became of a feedback."""

    feedback: Feedback | None
    log_stored: bool


def _meeting_id(session: Session, caller: Principal, code: str | None) -> int | None:
    return get_meeting(session, caller.organisation_id, code).id if code else None


def store_quality(
    session: Session,
    caller: Principal,
    reports: Sequence[dict[str, Any]],
    *,
    ip_prefix: str | None,
) -> int:
    """Stores the reports when quality data is collected; returns how many were stored."""
    if not collection_allowed(session, caller.organisation_id, caller.account_id, "quality"):
        return 0
    now = utc_now()
    for report in reports:
        figures = {key: report.get(key) for key in QUALITY_FIELDS}
        session.add(
            QualityReport(
                organisation_id=caller.organisation_id,
                account_id=caller.account_id,
                meeting_id=_meeting_id(session, caller, report.get("meeting_code")),
                device_id=caller.device_id,
                received_at=now,
                ip_prefix=ip_prefix,
                **figures,
            )
        )
    return len(reports)


def store_events(
    session: Session,
    caller: Principal,
    events: Sequence[dict[str, Any]],
    *,
    ip_prefix: str | None,
) -> int:
    """Stores the events when event logs are collected; returns how many were stored."""
    if not collection_allowed(session, caller.organisation_id, caller.account_id, "events"):
        return 0
    now = utc_now()
    for event in events:
        if event["kind"] not in EVENT_KINDS:
            raise InvalidRequestError(f"unknown event kind {event['kind']!r}", code="invalid_body")
        session.add(
            ClientEvent(
                organisation_id=caller.organisation_id,
                account_id=caller.account_id,
                device_id=caller.device_id,
                received_at=now,
                kind=event["kind"],
                message=event["message"],
                client_version=event.get("client_version"),
                ip_prefix=ip_prefix,
            )
        )
    return len(events)


def store_feedback(
    session: Session,
    caller: Principal,
    *,
    description: str,
    log_file_name: str | None,
    log_file: bytes | None,
    ip_prefix: str | None,
) -> FeedbackOutcome:
    """Stores a problem report unless processing is restricted; its log only with event logs."""
    org, account = caller.organisation_id, caller.account_id
    if not collection_allowed(session, org, account, "feedback"):
        return FeedbackOutcome(feedback=None, log_stored=False)
    keep_log = log_file is not None and collection_allowed(session, org, account, "events")
    feedback = Feedback(
        organisation_id=org,
        account_id=account,
        device_id=caller.device_id,
        received_at=utc_now(),
        description=description,
        log_file_name=log_file_name if keep_log else None,
        log_file=log_file if keep_log else None,
        ip_prefix=ip_prefix,
    )
    session.add(feedback)
    session.flush()
    return FeedbackOutcome(feedback=feedback, log_stored=keep_log)


def list_quality(
    session: Session,
    organisation_id: int,
    *,
    meeting_code: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 1000,
) -> list[tuple[QualityReport, str | None]]:
    """The organisation's quality reports (oldest first) with their meetings' codes."""
    statement = (
        select(QualityReport, Meeting.code)
        .outerjoin(Meeting, Meeting.id == QualityReport.meeting_id)
        .where(QualityReport.organisation_id == organisation_id)
    )
    if meeting_code is not None:
        statement = statement.where(Meeting.code == meeting_code)
    if since is not None:
        statement = statement.where(QualityReport.received_at >= since)
    statement = statement.order_by(QualityReport.received_at, QualityReport.id).limit(limit)
    return [(row[0], row[1]) for row in session.execute(statement)]


def list_events(session: Session, organisation_id: int, *, limit: int = 1000) -> list[ClientEvent]:
    """The organisation's client events, newest first."""
    return list(
        session.scalars(
            select(ClientEvent)
            .where(ClientEvent.organisation_id == organisation_id)
            .order_by(ClientEvent.received_at.desc(), ClientEvent.id.desc())
            .limit(limit)
        )
    )


def get_feedback(session: Session, organisation_id: int, feedback_id: int) -> Feedback:
    """One feedback of the organisation."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None or feedback.organisation_id != organisation_id:
        raise NotFoundError("no such feedback", code="feedback_not_found")
    return feedback


def list_feedback(session: Session, organisation_id: int, *, limit: int = 1000) -> list[Feedback]:
    """The organisation's feedback, newest first."""
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.organisation_id == organisation_id)
            .order_by(Feedback.received_at.desc(), Feedback.id.desc())
            .limit(limit)
        )
    )
