"""Organisations: creating one with its first administrator, and its policy."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.errors import ConflictError, InvalidRequestError, NotFoundError
from cloudlink.store.models import Account, Organisation

__all__ = ["POLICY_FIELDS", "create_organisation", "get_organisation", "update_policy"]

# Settings an administrator may change, with their allowed ranges.
POLICY_FIELDS: Final[dict[str, tuple[type, int, int]]] = {
    "max_devices_per_account": (int, 1, 100),
    "session_lifetime_s": (int, 300, 365 * 86400),
    "default_collect_quality": (bool, 0, 1),
    "default_collect_events": (bool, 0, 1),
    "retention_quality_days": (int, 1, 3650),
    "retention_events_days": (int, 1, 3650),
    "retention_feedback_days": (int, 1, 3650),
    "retention_sessions_days": (int, 1, 3650),
    "retention_meetings_days": (int, 1, 3650),
    "retention_audit_days": (int, 1, 3650),
}


def create_organisation(
    session: Session,
    *,
    name: str,
    admin_account_name: str,
    admin_display_name: str,
    admin_password_hash: str,
) -> tuple[Organisation, Account]:
    """Creates an organisation and its first administrator."""
    name = name.strip()
    if not name:
        raise InvalidRequestError("organisation name is empty", code="invalid_name")
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(f"organisation {name!r} exists", code="organisation_exists")
    now = utc_now()
    organisation = Organisation(
        name=name,
        created_at=now,
        max_devices_per_account=3,
        session_lifetime_s=7 * 86400,
        default_collect_quality=True,
        default_collect_events=True,
        retention_quality_days=90,
        retention_events_days=90,
        retention_feedback_days=180,
        retention_sessions_days=30,
        retention_meetings_days=365,
        retention_audit_days=730,
    )
    session.add(organisation)
    session.flush()
    admin = Account(
        organisation_id=organisation.id,
        account_name=admin_account_name,
        display_name=admin_display_name,
        is_admin=True,
        password_hash=admin_password_hash,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
        failed_logins=0,
        processing_restricted=False,
    )
    session.add(admin)
    session.flush()
    return organisation, admin


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation with ``organisation_id``."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError("no such organisation")
    return organisation


def update_policy(session: Session, organisation_id: int, changes: dict[str, Any]) -> Organisation:
    """Applies policy ``changes`` (keys from POLICY_FIELDS) and returns the organisation."""
    organisation = get_organisation(session, organisation_id)
    for key, value in changes.items():
        if key not in POLICY_FIELDS:
            raise InvalidRequestError(f"unknown policy setting {key!r}", code="invalid_field")
        kind, low, high = POLICY_FIELDS[key]
        if kind is bool:
            if not isinstance(value, bool):
                raise InvalidRequestError(f"{key} must be true or false", code="invalid_field")
        elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidRequestError(f"{key} must be an integer in [{low}, {high}]")
        setattr(organisation, key, value)
    return organisation
