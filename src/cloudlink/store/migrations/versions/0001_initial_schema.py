"""Initial schema: organisations, accounts, devices, sessions, contacts, meetings, telemetry, audit.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("max_devices_per_account", sa.Integer(), nullable=False),
        sa.Column("session_lifetime_s", sa.Integer(), nullable=False),
        sa.Column("default_collect_quality", sa.Boolean(), nullable=False),
        sa.Column("default_collect_events", sa.Boolean(), nullable=False),
        sa.Column("retention_quality_days", sa.Integer(), nullable=False),
        sa.Column("retention_events_days", sa.Integer(), nullable=False),
        sa.Column("retention_feedback_days", sa.Integer(), nullable=False),
        sa.Column("retention_sessions_days", sa.Integer(), nullable=False),
        sa.Column("retention_meetings_days", sa.Integer(), nullable=False),
        sa.Column("retention_audit_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("collect_quality", sa.Boolean(), nullable=True),
        sa.Column("collect_events", sa.Boolean(), nullable=True),
        sa.Column("processing_restricted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_accounts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint(
            "organisation_id", "account_name", name=op.f("uq_accounts_organisation_id")
        ),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounts_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "client_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("download_url", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_client_releases_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_releases")),
        sa.UniqueConstraint(
            "organisation_id",
            "platform",
            "version",
            name=op.f("uq_client_releases_organisation_id"),
        ),
    )
    with op.batch_alter_table("client_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_releases_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("actor_account_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_account_id"],
            ["accounts.id"],
            name=op.f("fk_audit_log_actor_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_log_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_actor_account_id"), ["actor_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "client_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("client_version", sa.String(length=32), nullable=True),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_client_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_client_events_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_events")),
    )
    with op.batch_alter_table("client_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_events_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_client_events_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_client_events_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("owner_account_id", sa.Integer(), nullable=False),
        sa.Column("member_account_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_account_id"],
            ["accounts.id"],
            name=op.f("fk_contacts_member_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_contacts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["accounts.id"],
            name=op.f("fk_contacts_owner_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_member_account_id"), ["member_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_owner_account_id"), ["owner_account_id"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("client_version", sa.String(length=32), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_devices_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_devices_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("account_id", "device_id", name=op.f("uq_devices_account_id")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_devices_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("log_file_name", sa.String(length=200), nullable=True),
        sa.Column("log_file", sa.LargeBinary(), nullable=True),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_feedback_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_feedback_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feedback_received_at"), ["received_at"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host_account_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("recurrence_count", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("waiting_room", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_account_id"],
            ["accounts.id"],
            name=op.f("fk_meetings_host_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meetings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("code", name=op.f("uq_meetings_code")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meetings_host_account_id"), ["host_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meetings_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_auth_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_pk"],
            ["devices.id"],
            name=op.f("fk_auth_sessions_device_pk_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_auth_sessions_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_auth_sessions_token_sha256")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_sessions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_auth_sessions_device_pk"), ["device_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_auth_sessions_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "meeting_cohosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meeting_cohosts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_cohosts_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meeting_cohosts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_cohosts")),
        sa.UniqueConstraint("meeting_id", "account_id", name=op.f("uq_meeting_cohosts_meeting_id")),
    )
    with op.batch_alter_table("meeting_cohosts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_cohosts_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_cohosts_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_cohosts_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "meeting_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meeting_invitations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_invitations_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meeting_invitations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_invitations")),
    )
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_invitations_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_invitations_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_invitations_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "meeting_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meeting_participants_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_participants_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meeting_participants_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_participants")),
    )
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "quality_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("media", sa.String(length=8), nullable=False),
        sa.Column("loss_pct", sa.Float(), nullable=False),
        sa.Column("jitter_ms", sa.Float(), nullable=False),
        sa.Column("rtt_ms", sa.Float(), nullable=False),
        sa.Column("mos", sa.Float(), nullable=True),
        sa.Column("volume_dbov", sa.Float(), nullable=True),
        sa.Column("concealment_pct", sa.Float(), nullable=True),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_quality_reports_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_quality_reports_meeting_id_meetings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_quality_reports_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_reports")),
    )
    with op.batch_alter_table("quality_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_reports_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_reports_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_reports_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_reports_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quality_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_reports_received_at"))
        batch_op.drop_index(batch_op.f("ix_quality_reports_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reports_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reports_account_id"))

    op.drop_table("quality_reports")
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_participants_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_participants_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_participants_account_id"))

    op.drop_table("meeting_participants")
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_invitations_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_invitations_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_invitations_account_id"))

    op.drop_table("meeting_invitations")
    with op.batch_alter_table("meeting_cohosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_cohosts_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_cohosts_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_cohosts_account_id"))

    op.drop_table("meeting_cohosts")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_device_pk"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_account_id"))

    op.drop_table("auth_sessions")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_meetings_host_account_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_received_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_account_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_devices_account_id"))

    op.drop_table("devices")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_owner_account_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_member_account_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("client_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_events_received_at"))
        batch_op.drop_index(batch_op.f("ix_client_events_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_client_events_account_id"))

    op.drop_table("client_events")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_account_id"))

    op.drop_table("audit_log")
    with op.batch_alter_table("client_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_releases_organisation_id"))

    op.drop_table("client_releases")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_organisation_id"))

    op.drop_table("accounts")
    op.drop_table("organisations")
