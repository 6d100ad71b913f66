"""What the administrator's dashboard reads: call quality per meeting, every meeting.

Quality is summarised in the database (one row per meeting: how many
reports, when, mean loss and jitter, mean and worst MOS) so the overview
does not carry every report to the browser; the reports of one meeting are
read with cloudlink.telemetry.reports.list_quality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudlink.store.models import Meeting, QualityReport

__all__ = ["MeetingQuality", "quality_by_meeting"]


@dataclass(frozen=True, kw_only=True)
class MeetingQuality:
    """The quality reports of one meeting (or of no meeting), summarised."""

    meeting_code: str | None
    topic: str | None
    reports: int
    first_at: dt.datetime
    last_at: dt.datetime
    mean_loss_pct: float
    mean_jitter_ms: float
    mean_rtt_ms: float
    mean_mos: float | None
    min_mos: float | None


def quality_by_meeting(
    session: Session,
    organisation_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[MeetingQuality]:
    """The organisation's reports grouped by meeting, the latest reported first.

    Reports sent outside a meeting (or whose meeting was purged) form one
    group with no meeting code.
    """
    last_at = func.max(QualityReport.received_at)
    statement = (
        select(
            Meeting.code,
            Meeting.topic,
            func.count(QualityReport.id),
            func.min(QualityReport.received_at),
            last_at,
            func.avg(QualityReport.loss_pct),
            func.avg(QualityReport.jitter_ms),
            func.avg(QualityReport.rtt_ms),
            func.avg(QualityReport.mos),
            func.min(QualityReport.mos),
        )
        .outerjoin(Meeting, Meeting.id == QualityReport.meeting_id)
        .where(QualityReport.organisation_id == organisation_id)
        .group_by(QualityReport.meeting_id, Meeting.code, Meeting.topic)
        .order_by(last_at.desc(), Meeting.code)
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(QualityReport.received_at >= since)
    if until is not None:
        statement = statement.where(QualityReport.received_at < until)
    return [
        MeetingQuality(
            meeting_code=code,
            topic=topic,
            reports=int(count),
            first_at=first,
            last_at=last,
            mean_loss_pct=float(loss),
            mean_jitter_ms=float(jitter),
            mean_rtt_ms=float(rtt),
            mean_mos=None if mos is None else float(mos),
            min_mos=None if worst is None else float(worst),
        )
        for code, topic, count, first, last, loss, jitter, rtt, mos, worst in session.execute(
            statement
        )
    ]
