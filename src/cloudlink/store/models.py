"""The organisation's data: one SQLAlchemy 2 declarative schema for SQLite and PostgreSQL.

Every table but ``organisations`` carries ``organisation_id``: a row belongs
to exactly one organisation, and the services above always filter by the
caller's organisation, so a record of another organisation reads as absent.
Times are stored as naive UTC and read back as aware UTC (``UtcDateTime``),
which both databases hold the same way. IP addresses are stored only after
anonymisation (``ip_prefix``, see cloudlink.privacy.ip_anonymiser).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import JSON, TypeDecorator

__all__ = [
    "Account",
    "AuditEntry",
    "AuthSession",
    "Base",
    "ClientEvent",
    "ClientRelease",
    "Contact",
    "Device",
    "Feedback",
    "Meeting",
    "MeetingCoHost",
    "MeetingInvitation",
    "MeetingParticipant",
    "Organisation",
    "QualityReport",
    "UtcDateTime",
]

# Constraint names that Alembic can find again on both databases.
_NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime, stored as naive UTC, read back with ``tzinfo=UTC``."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    """The declarative base; its metadata is what the migrations build."""

    metadata = MetaData(naming_convention=_NAMING_CONVENTION)


def _org_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class Organisation(Base):
    """A tenant: its policy, privacy defaults and retention periods."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Device policy: how many devices of one account may be signed in at once.
    max_devices_per_account: Mapped[int] = mapped_column(Integer, default=3)
    session_lifetime_s: Mapped[int] = mapped_column(Integer, default=7 * 86400)
    # Privacy defaults for members who have not chosen for themselves.
    default_collect_quality: Mapped[bool] = mapped_column(Boolean, default=True)
    default_collect_events: Mapped[bool] = mapped_column(Boolean, default=True)
    # Retention per kind of data, enforced by cloudlink.privacy.retention.
    retention_quality_days: Mapped[int] = mapped_column(Integer, default=90)
    retention_events_days: Mapped[int] = mapped_column(Integer, default=90)
    retention_feedback_days: Mapped[int] = mapped_column(Integer, default=180)
    retention_sessions_days: Mapped[int] = mapped_column(Integer, default=30)
    retention_meetings_days: Mapped[int] = mapped_column(Integer, default=365)
    retention_audit_days: Mapped[int] = mapped_column(Integer, default=730)


class Account(Base):
    """A member or administrator of one organisation."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("organisation_id", "account_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Lockout after repeated wrong passwords (cloudlink.accounts.login).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Privacy: None follows the organisation's default.
    collect_quality: Mapped[bool | None] = mapped_column(Boolean)
    collect_events: Mapped[bool | None] = mapped_column(Boolean)
    # A data-subject restriction: nothing is collected, the account stays usable.
    processing_restricted: Mapped[bool] = mapped_column(Boolean, default=False)


class Device(Base):
    """A device an account has signed in from, named by the client's device id."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("account_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(100))
    platform: Mapped[str | None] = mapped_column(String(32))
    client_version: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ip_prefix: Mapped[str | None] = mapped_column(String(64))


class AuthSession(Base):
    """A signed-in session; only the SHA-256 of its bearer token is kept."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Contact(Base):
    """A personal contact in one account's own address book."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    owner_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # The directory member this contact stands for, if any.
    member_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Meeting(Base):
    """An instant or scheduled (possibly recurring) meeting."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    # The public meeting id: nine digits, unique across the server.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # instant | scheduled
    host_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    duration_min: Mapped[int] = mapped_column(Integer)
    recurrence: Mapped[str] = mapped_column(String(16), default="none")
    recurrence_count: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_room: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # scheduled | active | ended | cancelled
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class MeetingCoHost(Base):
    """An account the host has made co-host of a meeting."""

    __tablename__ = "meeting_cohosts"
    __table_args__ = (UniqueConstraint("meeting_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )


class MeetingInvitation(Base):
    """Someone invited to a meeting: a member of the directory or an email address."""

    __tablename__ = "meeting_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class MeetingParticipant(Base):
    """One attendance of a meeting: its history, kept anonymous once the account is gone."""

    __tablename__ = "meeting_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # host | cohost | attendee
    state: Mapped[str] = mapped_column(String(16))  # waiting | admitted | left
    joined_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ip_prefix: Mapped[str | None] = mapped_column(String(64))


class QualityReport(Base):
    """Audiovisual quality figures a client measured; no call content."""

    __tablename__ = "quality_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    media: Mapped[str] = mapped_column(String(8))  # audio | video
    loss_pct: Mapped[float] = mapped_column(Float)
    jitter_ms: Mapped[float] = mapped_column(Float)
    rtt_ms: Mapped[float] = mapped_column(Float)
    mos: Mapped[float | None] = mapped_column(Float)
    volume_dbov: Mapped[float | None] = mapped_column(Float)
    concealment_pct: Mapped[float | None] = mapped_column(Float)
    ip_prefix: Mapped[str | None] = mapped_column(String(64))


class ClientEvent(Base):
    """An event a client logged: error, crash, restart or upgrade."""

    __tablename__ = "client_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(2000))
    client_version: Mapped[str | None] = mapped_column(String(32))
    ip_prefix: Mapped[str | None] = mapped_column(String(64))


class Feedback(Base):
    """A problem report a user sent, with an optional (size-limited) log file."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    description: Mapped[str] = mapped_column(Text)
    log_file_name: Mapped[str | None] = mapped_column(String(200))
    log_file: Mapped[bytes | None] = mapped_column(LargeBinary)
    ip_prefix: Mapped[str | None] = mapped_column(String(64))


class ClientRelease(Base):
    """A client version the organisation offers, and where to download it."""

    __tablename__ = "client_releases"
    __table_args__ = (UniqueConstraint("organisation_id", "platform", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    platform: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(32))
    download_url: Mapped[str] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(String(2000))
    released_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """One administrator action. ``details`` never holds personal data, only ids and settings."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = _org_fk()
    actor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
