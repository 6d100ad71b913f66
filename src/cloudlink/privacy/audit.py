"""The audit log of administrator actions.

An entry names the acting administrator (by account id), the action, the
target (type and id) and the settings changed. It never copies personal data
(names, numbers, addresses): the ids stop pointing at a person once the
person is erased, and the entry stays as a record of what was done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.principal import Principal
from cloudlink.store.models import AuditEntry

__all__ = ["list_entries", "record"]


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Adds one entry in the actor's organisation."""
    session.add(
        AuditEntry(
            organisation_id=actor.organisation_id,
            actor_account_id=actor.account_id,
            at=utc_now(),
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
    )


def list_entries(
    session: Session, organisation_id: int, *, limit: int = 100, offset: int = 0
) -> list[AuditEntry]:
    """The organisation's entries, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organisation_id == organisation_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
