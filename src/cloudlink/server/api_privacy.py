"""Privacy over HTTP: collection settings, data-subject requests, retention purge, audit log.

Members read and change their own settings and export their data;
administrators do the same for any member of their organisation (requests
that reach them by other channels), run the retention purge and read the
audit log. Erasure is cancellation: DELETE /api/accounts/{id}.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final

from sqlalchemy.orm import Session

from cloudlink.privacy import audit, export, retention, settings
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, ID, array, nullable, obj
from cloudlink.store.models import AuditEntry

__all__ = ["ENDPOINTS"]

_SETTINGS: Final = obj(
    {
        "collect_quality": nullable({"type": "boolean"}),
        "collect_events": nullable({"type": "boolean"}),
        "processing_restricted": {"type": "boolean"},
        "quality_collected": {"type": "boolean"},
        "events_collected": {"type": "boolean"},
    }
)
_SETTING_CHANGES: Final = obj(
    {
        "collect_quality": nullable({"type": "boolean"}),
        "collect_events": nullable({"type": "boolean"}),
        "processing_restricted": {"type": "boolean"},
    },
    required=(),
    min_properties=1,
)
_EXPORT: Final = obj(
    {
        "format": {"const": export.EXPORT_FORMAT},
        "exported_at": DATETIME,
        "account": {"type": "object"},
        "tables": {"type": "object", "additionalProperties": array({"type": "object"})},
    }
)
_AUDIT_ENTRY: Final = obj(
    {
        "id": ID,
        "at": DATETIME,
        "actor_account_id": nullable(ID),
        "action": {"type": "string"},
        "target_type": nullable({"type": "string"}),
        "target_id": nullable({"type": "integer"}),
        "details": {"type": "object"},
    }
)
_PURGED: Final = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


def _audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_account_id": entry.actor_account_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
    }


async def _my_privacy(call: Call) -> Reply:
    caller = call.caller
    current = await call.context.db.run(
        lambda s: settings.privacy_settings(s, caller.organisation_id, caller.account_id)
    )
    return Reply(payload=asdict(current))


async def _update_my_privacy(call: Call) -> Reply:
    caller = call.caller
    current = await call.context.db.run(
        lambda s: settings.update_privacy_settings(
            s, caller.organisation_id, caller.account_id, call.body
        )
    )
    return Reply(payload=asdict(current))


async def _export_me(call: Call) -> Reply:
    caller = call.caller
    return Reply(
        payload=await call.context.db.run(
            lambda s: export.export_account(s, caller.organisation_id, caller.account_id)
        )
    )


async def _account_privacy(call: Call) -> Reply:
    caller = call.caller
    current = await call.context.db.run(
        lambda s: settings.privacy_settings(s, caller.organisation_id, call.path["account_id"])
    )
    return Reply(payload=asdict(current))


async def _update_account_privacy(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]

    def work(session: Session) -> dict[str, Any]:
        current = settings.update_privacy_settings(
            session, caller.organisation_id, account_id, call.body
        )
        audit.record(
            session,
            caller,
            "privacy.update",
            target_type="account",
            target_id=account_id,
            details=dict(call.body),
        )
        return asdict(current)

    return Reply(payload=await call.context.db.run(work))


async def _export_account(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]

    def work(session: Session) -> dict[str, Any]:
        data = export.export_account(session, caller.organisation_id, account_id)
        audit.record(session, caller, "privacy.export", target_type="account", target_id=account_id)
        return data

    return Reply(payload=await call.context.db.run(work))


async def _purge(call: Call) -> Reply:
    caller = call.caller

    def work(session: Session) -> dict[str, int]:
        counts = retention.purge_expired(session, organisation_id=caller.organisation_id)
        audit.record(session, caller, "retention.purge", details=counts)
        return counts

    return Reply(payload=await call.context.db.run(work))


async def _audit_log(call: Call) -> Reply:
    caller = call.caller
    entries = await call.context.db.run(
        lambda s: audit.list_entries(
            s,
            caller.organisation_id,
            limit=call.query.get("limit", 100),
            offset=call.query.get("offset", 0),
        )
    )
    return Reply(payload=[_audit_view(e) for e in entries])


_A: Final = "/api/accounts/{account_id}"

ENDPOINTS: Final = [
    Endpoint(
        method="GET",
        path="/api/me/privacy",
        handler=_my_privacy,
        tag="privacy",
        summary="The caller's collection settings and their effect",
        response=_SETTINGS,
    ),
    Endpoint(
        method="PATCH",
        path="/api/me/privacy",
        handler=_update_my_privacy,
        tag="privacy",
        summary="Choose what is collected (null follows the organisation's default), "
        "or restrict processing",
        body=_SETTING_CHANGES,
        response=_SETTINGS,
    ),
    Endpoint(
        method="GET",
        path="/api/me/export",
        handler=_export_me,
        tag="privacy",
        summary="Everything stored about the caller, as JSON",
        response=_EXPORT,
    ),
    Endpoint(
        method="GET",
        path=f"{_A}/privacy",
        handler=_account_privacy,
        tag="privacy",
        access="admin",
        summary="A member's collection settings",
        response=_SETTINGS,
    ),
    Endpoint(
        method="PATCH",
        path=f"{_A}/privacy",
        handler=_update_account_privacy,
        tag="privacy",
        access="admin",
        summary="Change a member's settings or restrict processing on their request",
        body=_SETTING_CHANGES,
        response=_SETTINGS,
    ),
    Endpoint(
        method="GET",
        path=f"{_A}/export",
        handler=_export_account,
        tag="privacy",
        access="admin",
        summary="Everything stored about a member, as JSON",
        response=_EXPORT,
    ),
    Endpoint(
        method="POST",
        path="/api/privacy/purge",
        handler=_purge,
        tag="privacy",
        access="admin",
        summary="Delete the organisation's data older than its retention "
        "periods now (the server also does this hourly)",
        response=_PURGED,
    ),
    Endpoint(
        method="GET",
        path="/api/audit",
        handler=_audit_log,
        tag="privacy",
        access="admin",
        summary="The audit log of administrator actions, newest first",
        query={
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
        response=array(_AUDIT_ENTRY),
    ),
]
