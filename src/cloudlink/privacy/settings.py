"""Per-user collection settings over the organisation's defaults.

A member chooses whether quality data and event logs are collected about
them; a choice of None follows the organisation's default. A restriction of
processing (a data-subject request) overrides both: nothing optional is
collected while it stands. Telemetry asks ``collection_allowed`` before it
stores anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy.orm import Session

from cloudlink.accounts.members import get_member
from cloudlink.accounts.organisations import get_organisation
from cloudlink.errors import InvalidRequestError
from cloudlink.store.models import Account, Organisation

__all__ = [
    "SETTING_FIELDS",
    "CollectionKind",
    "PrivacySettings",
    "collection_allowed",
    "privacy_settings",
    "update_privacy_settings",
]

CollectionKind = Literal["quality", "events", "feedback"]
SETTING_FIELDS: Final = ("collect_quality", "collect_events", "processing_restricted")


@dataclass(frozen=True, kw_only=True)
class PrivacySettings:
    """A member's own choices and what follows from them with the defaults."""

    collect_quality: bool | None
    collect_events: bool | None
    processing_restricted: bool
    quality_collected: bool
    events_collected: bool


def _effective(account: Account, organisation: Organisation) -> PrivacySettings:
    restricted = account.processing_restricted

    def choose(own: bool | None, default: bool) -> bool:
        return not restricted and (default if own is None else own)

    return PrivacySettings(
        collect_quality=account.collect_quality,
        collect_events=account.collect_events,
        processing_restricted=restricted,
        quality_collected=choose(account.collect_quality, organisation.default_collect_quality),
        events_collected=choose(account.collect_events, organisation.default_collect_events),
    )


def privacy_settings(session: Session, organisation_id: int, account_id: int) -> PrivacySettings:
    """The member's settings and their effect."""
    account = get_member(session, organisation_id, account_id)
    return _effective(account, get_organisation(session, organisation_id))


def update_privacy_settings(
    session: Session, organisation_id: int, account_id: int, changes: dict[str, Any]
) -> PrivacySettings:
    """Applies ``changes`` (keys from SETTING_FIELDS)."""
    account = get_member(session, organisation_id, account_id)
    for key, value in changes.items():
        if key not in SETTING_FIELDS:
            raise InvalidRequestError(f"unknown privacy setting {key!r}", code="invalid_field")
        setattr(account, key, value)
    return _effective(account, get_organisation(session, organisation_id))


def collection_allowed(
    session: Session, organisation_id: int, account_id: int, kind: CollectionKind
) -> bool:
    """Whether data of ``kind`` may be stored about the member now.

    Feedback is sent by the user on purpose and is refused only under a
    restriction; quality data and events follow the member's settings.
    """
    settings = privacy_settings(session, organisation_id, account_id)
    if kind == "quality":
        return settings.quality_collected
    if kind == "events":
        return settings.events_collected
    return not settings.processing_restricted
