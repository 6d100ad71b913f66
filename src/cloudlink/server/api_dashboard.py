"""The administrator's overview over HTTP: call quality per meeting, every meeting.

The admin console's quality dashboard lists meetings from
``GET /api/dashboard/quality`` and charts one meeting from
``GET /api/telemetry/quality?meeting_code=...``; its meetings section lists
``GET /api/dashboard/meetings``, which, unlike ``GET /api/meetings``, holds
the meetings of every host in the organisation.
"""

from __future__ import annotations

from typing import Any, Final

from cloudlink.meetings.join_link import make_join_link
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, ID, array, nullable, obj
from cloudlink.server.timestamps import parse_timestamp
from cloudlink.store.models import Meeting
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
        "recurrence": {"type": "string"},
        "recurrence_count": nullable({"type": "integer"}),
        "has_password": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "waiting_room": {"type": "boolean"},
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


def _meeting_view(call: Call, meeting: Meeting) -> dict[str, Any]:
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
        "has_password": meeting.password_hash is not None,
        "locked": meeting.locked,
        "waiting_room": meeting.waiting_room,
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


async def _organisation_meetings(call: Call) -> Reply:
    meetings = await call.context.db.run(
        lambda s: dashboard.organisation_meetings(
            s,
            call.caller.organisation_id,
            include_over=call.query.get("include_over", False),
            limit=call.query.get("limit", 200),
            offset=call.query.get("offset", 0),
        )
    )
    return Reply(payload=[_meeting_view(call, m) for m in meetings])


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
    Endpoint(
        method="GET",
        path="/api/dashboard/meetings",
        handler=_organisation_meetings,
        tag="dashboard",
        access="admin",
        summary="Every meeting of the organisation, whoever hosts it, the latest start first",
        query={
            "include_over": {"type": "boolean"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
        response=array(_MEETING),
    ),
]
