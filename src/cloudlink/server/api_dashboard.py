"""The administrator's overview over HTTP: call quality per meeting.

The admin console's quality dashboard lists meetings from
``GET /api/dashboard/quality`` and charts one meeting from
``GET /api/telemetry/quality?meeting_code=...``.
"""

from __future__ import annotations

from typing import Any, Final

from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, array, nullable, obj
from cloudlink.server.timestamps import parse_timestamp
from cloudlink.telemetry import dashboard

__all__ = ["ENDPOINTS"]

_NUMBER: Final = {"type": "number"}
_MEETING_QUALITY: Final = obj(
    {
        "meeting_code": nullable({"type": "string"}),
        "topic": nullable({"type": "string"}),
        "reports": {"type": "integer", "minimum": 1},
        "first_at": DATETIME,
        "last_at": DATETIME,
        "mean_loss_pct": _NUMBER,
        "mean_jitter_ms": _NUMBER,
        "mean_rtt_ms": _NUMBER,
        "mean_mos": nullable(_NUMBER),
        "min_mos": nullable(_NUMBER),
    }
)
_TIMESTAMP: Final = {"type": "string", "format": "date-time", "maxLength": 40}


def _quality_view(summary: dashboard.MeetingQuality) -> dict[str, Any]:
    return {
        "meeting_code": summary.meeting_code,
        "topic": summary.topic,
        "reports": summary.reports,
        "first_at": summary.first_at.isoformat(),
        "last_at": summary.last_at.isoformat(),
        "mean_loss_pct": summary.mean_loss_pct,
        "mean_jitter_ms": summary.mean_jitter_ms,
        "mean_rtt_ms": summary.mean_rtt_ms,
        "mean_mos": summary.mean_mos,
        "min_mos": summary.min_mos,
    }


async def _quality_by_meeting(call: Call) -> Reply:
    since = call.query.get("since")
    until = call.query.get("until")
    summaries = await call.context.db.run(
        lambda s: dashboard.quality_by_meeting(
            s,
            call.caller.organisation_id,
            since=parse_timestamp(since, field="since") if since else None,
            until=parse_timestamp(until, field="until") if until else None,
            limit=call.query.get("limit", 100),
        )
    )
    return Reply(payload=[_quality_view(s) for s in summaries])


ENDPOINTS: Final = [
    Endpoint(
        method="GET",
        path="/api/dashboard/quality",
        handler=_quality_by_meeting,
        tag="dashboard",
        access="admin",
        summary="Quality reports summarised per meeting (count, time span, mean loss, "
        "jitter and round-trip time, mean and worst MOS), the latest reported first",
        query={
            "since": _TIMESTAMP,
            "until": _TIMESTAMP,
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
        response=array(_MEETING_QUALITY),
    ),
]
