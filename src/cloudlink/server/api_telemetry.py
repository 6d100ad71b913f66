"""Telemetry and client versions over HTTP.

Clients post quality reports, events and problem feedback (a log file goes
as base64 in the JSON body, at most ServerSettings.max_log_file_bytes once
decoded); each answer says how much was stored, since the member's privacy
settings may drop it. Administrators read them back for the quality
dashboard. Clients ask for the newest version of their platform.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from sqlalchemy.orm import Session

from cloudlink.errors import InvalidRequestError
from cloudlink.privacy import audit
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, ID, array, nullable, obj, text
from cloudlink.server.timestamps import parse_timestamp
from cloudlink.store.models import ClientEvent, ClientRelease, Feedback, QualityReport
from cloudlink.telemetry import releases, reports

__all__ = ["ENDPOINTS"]


def _number(low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


_MEETING_CODE: Final = {"type": "string", "pattern": "^[0-9]{9}$"}
_QUALITY_IN: Final = obj(
    {
        "meeting_code": _MEETING_CODE,
        "media": {"enum": ["audio", "video"]},
        "loss_pct": _number(0, 100),
        "jitter_ms": _number(0, 60_000),
        "rtt_ms": _number(0, 60_000),
        "mos": _number(1, 5),
        "volume_dbov": _number(-127, 0),
        "concealment_pct": _number(0, 100),
    },
    required=("media", "loss_pct", "jitter_ms", "rtt_ms"),
)
_QUALITY_OUT: Final = obj(
    {
        "id": ID,
        "account_id": nullable(ID),
        "meeting_code": nullable({"type": "string"}),
        "device_id": nullable({"type": "string"}),
        "received_at": DATETIME,
        "media": {"type": "string"},
        "loss_pct": {"type": "number"},
        "jitter_ms": {"type": "number"},
        "rtt_ms": {"type": "number"},
        "mos": nullable({"type": "number"}),
        "volume_dbov": nullable({"type": "number"}),
        "concealment_pct": nullable({"type": "number"}),
        "ip_prefix": nullable({"type": "string"}),
    }
)
_EVENT_IN: Final = obj(
    {
        "kind": {"enum": list(reports.EVENT_KINDS)},
        "message": text(2000, min_length=0),
        "client_version": text(32),
    },
    required=("kind", "message"),
)
_EVENT_OUT: Final = obj(
    {
        "id": ID,
        "account_id": nullable(ID),
        "device_id": nullable({"type": "string"}),
        "received_at": DATETIME,
        "kind": {"type": "string"},
        "message": {"type": "string"},
        "client_version": nullable({"type": "string"}),
        "ip_prefix": nullable({"type": "string"}),
    }
)
_FEEDBACK_OUT: Final = obj(
    {
        "id": ID,
        "account_id": nullable(ID),
        "device_id": nullable({"type": "string"}),
        "received_at": DATETIME,
        "description": {"type": "string"},
        "log_file_name": nullable({"type": "string"}),
        "log_size_bytes": nullable({"type": "integer"}),
    }
)
_STORED: Final = obj({"stored": {"type": "integer", "minimum": 0}})
_PLATFORM: Final = {"enum": list(releases.PLATFORMS)}
_VERSION: Final = {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$"}
_RELEASE: Final = obj(
    {
        "id": ID,
        "platform": {"type": "string"},
        "version": {"type": "string"},
        "download_url": {"type": "string"},
        "notes": nullable({"type": "string"}),
        "released_at": DATETIME,
    }
)
_LATEST: Final = obj(
    {
        "platform": {"type": "string"},
        "latest": nullable(_RELEASE),
        "update_available": {"type": "boolean"},
    }
)


def _quality_view(report: QualityReport, meeting_code: str | None) -> dict[str, Any]:
    return {
        "id": report.id,
        "account_id": report.account_id,
        "meeting_code": meeting_code,
        "device_id": report.device_id,
        "received_at": report.received_at.isoformat(),
        "media": report.media,
        "loss_pct": report.loss_pct,
        "jitter_ms": report.jitter_ms,
        "rtt_ms": report.rtt_ms,
        "mos": report.mos,
        "volume_dbov": report.volume_dbov,
        "concealment_pct": report.concealment_pct,
        "ip_prefix": report.ip_prefix,
    }


def _event_view(event: ClientEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "account_id": event.account_id,
        "device_id": event.device_id,
        "received_at": event.received_at.isoformat(),
        "kind": event.kind,
        "message": event.message,
        "client_version": event.client_version,
        "ip_prefix": event.ip_prefix,
    }


def _feedback_view(feedback: Feedback) -> dict[str, Any]:
    return {
        "id": feedback.id,
        "account_id": feedback.account_id,
        "device_id": feedback.device_id,
        "received_at": feedback.received_at.isoformat(),
        "description": feedback.description,
        "log_file_name": feedback.log_file_name,
        "log_size_bytes": len(feedback.log_file) if feedback.log_file is not None else None,
    }


def _release_view(release: ClientRelease) -> dict[str, Any]:
    return {
        "id": release.id,
        "platform": release.platform,
        "version": release.version,
        "download_url": release.download_url,
        "notes": release.notes,
        "released_at": release.released_at.isoformat(),
    }


async def _post_quality(call: Call) -> Reply:
    stored = await call.context.db.run(
        lambda s: reports.store_quality(
            s, call.caller, call.body["reports"], ip_prefix=call.ip_prefix
        )
    )
    return Reply(payload={"stored": stored}, status=202)


async def _post_events(call: Call) -> Reply:
    stored = await call.context.db.run(
        lambda s: reports.store_events(
            s, call.caller, call.body["events"], ip_prefix=call.ip_prefix
        )
    )
    return Reply(payload={"stored": stored}, status=202)


async def _post_feedback(call: Call) -> Reply:
    body = call.body
    log_file = None
    if "log_base64" in body:
        try:
            log_file = base64.b64decode(body["log_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError("log_base64 is not base64", code="invalid_body") from None
        limit = call.context.settings.max_log_file_bytes
        if len(log_file) > limit:
            raise InvalidRequestError(f"the log file exceeds {limit} bytes", code="log_too_large")
    outcome = await call.context.db.run(
        lambda s: reports.store_feedback(
            s,
            call.caller,
            description=body["description"],
            log_file_name=body.get("log_file_name"),
            log_file=log_file,
            ip_prefix=call.ip_prefix,
        )
    )
    return Reply(
        payload={
            "stored": outcome.feedback is not None,
            "id": outcome.feedback.id if outcome.feedback else None,
            "log_stored": outcome.log_stored,
        },
        status=202,
    )


async def _list_quality(call: Call) -> Reply:
    since = call.query.get("since")
    rows = await call.context.db.run(
        lambda s: reports.list_quality(
            s,
            call.caller.organisation_id,
            meeting_code=call.query.get("meeting_code"),
            since=parse_timestamp(since, field="since") if since else None,
            limit=call.query.get("limit", 1000),
        )
    )
    return Reply(payload=[_quality_view(r, code) for r, code in rows])


async def _list_events(call: Call) -> Reply:
    events = await call.context.db.run(
        lambda s: reports.list_events(
            s, call.caller.organisation_id, limit=call.query.get("limit", 1000)
        )
    )
    return Reply(payload=[_event_view(e) for e in events])


async def _list_feedback(call: Call) -> Reply:
    feedback = await call.context.db.run(
        lambda s: reports.list_feedback(
            s, call.caller.organisation_id, limit=call.query.get("limit", 1000)
        )
    )
    return Reply(payload=[_feedback_view(f) for f in feedback])


async def _feedback_log(call: Call) -> Reply:
    caller = call.caller
    feedback_id = call.path["feedback_id"]

    def work(session: Session) -> dict[str, Any]:
        feedback = reports.get_feedback(session, caller.organisation_id, feedback_id)
        # Reading someone's log is an administrator action like any other.
        audit.record(
            session, caller, "feedback.read_log", target_type="feedback", target_id=feedback.id
        )
        return {
            "id": feedback.id,
            "log_file_name": feedback.log_file_name,
            "log_base64": base64.b64encode(feedback.log_file).decode("ascii")
            if feedback.log_file is not None
            else None,
        }

    return Reply(payload=await call.context.db.run(work))


async def _latest_version(call: Call) -> Reply:
    platform = call.query["platform"]
    current = call.query.get("current")
    latest = await call.context.db.run(
        lambda s: releases.latest_release(s, call.caller.organisation_id, platform)
    )
    update = latest is not None and (
        current is None or releases.version_key(latest.version) > releases.version_key(current)
    )
    return Reply(
        payload={
            "platform": platform,
            "latest": _release_view(latest) if latest else None,
            "update_available": update,
        }
    )


async def _list_releases(call: Call) -> Reply:
    found = await call.context.db.run(
        lambda s: releases.list_releases(s, call.caller.organisation_id)
    )
    return Reply(payload=[_release_view(r) for r in found])


async def _publish_release(call: Call) -> Reply:
    caller = call.caller
    body = call.body

    def work(session: Session) -> ClientRelease:
        release = releases.publish_release(
            session,
            caller.organisation_id,
            platform=body["platform"],
            version=body["version"],
            download_url=body["download_url"],
            notes=body.get("notes"),
        )
        audit.record(
            session,
            caller,
            "release.publish",
            target_type="release",
            target_id=release.id,
            details={"platform": release.platform, "version": release.version},
        )
        return release

    return Reply(payload=_release_view(await call.context.db.run(work)), status=201)


async def _delete_release(call: Call) -> Reply:
    caller = call.caller
    release_id = call.path["release_id"]

    def work(session: Session) -> None:
        releases.delete_release(session, caller.organisation_id, release_id)
        audit.record(session, caller, "release.delete", target_type="release", target_id=release_id)

    await call.context.db.run(work)
    return Reply(payload=None, status=204)


_LIMIT: Final = {"limit": {"type": "integer", "minimum": 1, "maximum": 10_000}}

ENDPOINTS: Final = [
    Endpoint(
        method="POST",
        path="/api/telemetry/quality",
        handler=_post_quality,
        tag="telemetry",
        status=202,
        response=_STORED,
        errors=(404,),
        summary="Quality reports (loss, jitter, round-trip time, MOS, volume, "
        "concealment); stored only when the member's settings allow",
        body=obj(
            {"reports": {"type": "array", "items": _QUALITY_IN, "minItems": 1, "maxItems": 100}}
        ),
    ),
    Endpoint(
        method="POST",
        path="/api/telemetry/events",
        handler=_post_events,
        tag="telemetry",
        status=202,
        response=_STORED,
        summary="Client events (error, crash, restart, upgrade); stored only when the "
        "member's settings allow",
        body=obj({"events": {"type": "array", "items": _EVENT_IN, "minItems": 1, "maxItems": 100}}),
    ),
    Endpoint(
        method="POST",
        path="/api/telemetry/feedback",
        handler=_post_feedback,
        tag="telemetry",
        status=202,
        errors=(413,),
        summary="Problem feedback with an optional log file (base64, size-limited)",
        body=obj(
            {
                "description": text(10_000),
                "log_file_name": text(200),
                "log_base64": {"type": "string", "contentEncoding": "base64"},
            },
            required=("description",),
        ),
        response=obj(
            {"stored": {"type": "boolean"}, "id": nullable(ID), "log_stored": {"type": "boolean"}}
        ),
    ),
    Endpoint(
        method="GET",
        path="/api/telemetry/quality",
        handler=_list_quality,
        tag="telemetry",
        access="admin",
        summary="Quality reports for the dashboard, oldest first",
        query={
            "meeting_code": _MEETING_CODE,
            "since": {"type": "string", "format": "date-time", "maxLength": 40},
            **_LIMIT,
        },
        response=array(_QUALITY_OUT),
    ),
    Endpoint(
        method="GET",
        path="/api/telemetry/events",
        handler=_list_events,
        tag="telemetry",
        access="admin",
        summary="Client events, newest first",
        query=_LIMIT,
        response=array(_EVENT_OUT),
    ),
    Endpoint(
        method="GET",
        path="/api/telemetry/feedback",
        handler=_list_feedback,
        tag="telemetry",
        access="admin",
        summary="Problem feedback, newest first",
        query=_LIMIT,
        response=array(_FEEDBACK_OUT),
    ),
    Endpoint(
        method="GET",
        path="/api/telemetry/feedback/{feedback_id}/log",
        handler=_feedback_log,
        tag="telemetry",
        access="admin",
        summary="The log file attached to a feedback (base64)",
        response=obj(
            {
                "id": ID,
                "log_file_name": nullable({"type": "string"}),
                "log_base64": nullable({"type": "string"}),
            }
        ),
    ),
    Endpoint(
        method="GET",
        path="/api/client-versions/latest",
        handler=_latest_version,
        tag="client versions",
        summary="The newest client for a platform and where to get it",
        query={"platform": _PLATFORM, "current": _VERSION},
        required_query=("platform",),
        response=_LATEST,
    ),
    Endpoint(
        method="GET",
        path="/api/client-versions",
        handler=_list_releases,
        tag="client versions",
        access="admin",
        summary="Published client versions",
        response=array(_RELEASE),
    ),
    Endpoint(
        method="POST",
        path="/api/client-versions",
        handler=_publish_release,
        tag="client versions",
        access="admin",
        status=201,
        errors=(409,),
        summary="Publish a client version and its download URL",
        body=obj(
            {
                "platform": _PLATFORM,
                "version": _VERSION,
                "download_url": {
                    "type": "string",
                    "pattern": "^https?://[^\\s]+$",
                    "maxLength": 500,
                },
                "notes": text(2000, min_length=0),
            },
            required=("platform", "version", "download_url"),
        ),
        response=_RELEASE,
    ),
    Endpoint(
        method="DELETE",
        path="/api/client-versions/{release_id}",
        handler=_delete_release,
        tag="client versions",
        access="admin",
        status=204,
        summary="Withdraw a client version",
    ),
]
