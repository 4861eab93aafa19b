"""Webhooks (endpoints, messages, attempts, recoveries), the directory, preferences.

Notifications and emails become unique per (event, recipient): one event can now tell every
owner of an organization.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    _recipients_per_event()
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("event_types", JSONB, nullable=False),
        sa.Column("rate_limit_per_second", sa.Integer),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.String(20)),
        sa.Column("disabled_at", TZ),
        sa.Column("secret", sa.String(80), nullable=False),
        sa.Column("previous_secret", sa.String(80)),
        sa.Column("previous_secret_until", TZ),
        sa.Column("failing_since", TZ),
        sa.Column("failing_notice_at", TZ),
        sa.Column("warning_notice_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_webhook_endpoints_org", "webhook_endpoints", ["organization_id", "id"])
    op.create_table(
        "webhook_messages",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "endpoint_id",
            sa.String(40),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("manual", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("next_attempt_at", TZ),
        sa.Column("last_attempt_at", TZ),
        sa.Column("succeeded_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_messages_event"),
    )
    op.create_index(
        "ix_webhook_messages_due",
        "webhook_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_messages_endpoint", "webhook_messages", ["endpoint_id", "id"])
    op.create_index("ix_webhook_messages_created", "webhook_messages", ["created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "message_id",
            sa.String(40),
            sa.ForeignKey("webhook_messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.String(20)),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("response_excerpt", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_webhook_attempts_message", "webhook_attempts", ["message_id", "id"])
    op.create_index("ix_webhook_attempts_at", "webhook_attempts", ["at"])
    op.create_table(
        "webhook_recoveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "endpoint_id",
            sa.String(40),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("since", TZ, nullable=False),
        sa.Column("until", TZ, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
    )
    _directory_and_preferences()


def _recipients_per_event() -> None:
    op.alter_column("notifications", "source_event_id", type_=sa.String(120))
    op.drop_constraint("notifications_source_event_id_key", "notifications", type_="unique")
    op.create_unique_constraint(
        "uq_notifications_source_user", "notifications", ["source_event_id", "user_id"]
    )
    op.alter_column("email_outbox", "source_event_id", type_=sa.String(120))
    op.drop_constraint("email_outbox_source_event_id_key", "email_outbox", type_="unique")
    op.create_unique_constraint(
        "uq_email_outbox_source_to", "email_outbox", ["source_event_id", "to_address"]
    )
    op.add_column("email_outbox", sa.Column("unsubscribe_url", sa.Text))


def _directory_and_preferences() -> None:
    op.create_table(
        "directory_users",
        sa.Column("user_id", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "directory_members",
        sa.Column("organization_id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), primary_key=True),
        sa.Column("role", sa.String(20)),
        sa.Column("changed_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_directory_members_org_role", "directory_members", ["organization_id", "role"]
    )
    op.create_table(
        "preferences",
        sa.Column("user_id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("key", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "signing_keys",
        "preferences",
        "directory_members",
        "directory_users",
        "webhook_recoveries",
        "webhook_attempts",
        "webhook_messages",
        "webhook_endpoints",
    ):
        op.drop_table(table)
    op.drop_column("email_outbox", "unsubscribe_url")
    op.drop_constraint("uq_email_outbox_source_to", "email_outbox", type_="unique")
    op.create_unique_constraint(
        "email_outbox_source_event_id_key", "email_outbox", ["source_event_id"]
    )
    op.drop_constraint("uq_notifications_source_user", "notifications", type_="unique")
    op.create_unique_constraint(
        "notifications_source_event_id_key", "notifications", ["source_event_id"]
    )
