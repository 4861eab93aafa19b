"""Sandbox sessions and their tasks.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("image", sa.String(300), nullable=False),
        sa.Column("cpu", sa.Float, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("network", sa.String(10), nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("idle_timeout_seconds", sa.Integer, nullable=False),
        sa.Column("env", JSONB, nullable=False, server_default=EMPTY),
        sa.Column("metadata", JSONB, nullable=False, server_default=EMPTY),
        sa.Column("runner_id", sa.String(200)),
        sa.Column("stop_reason", sa.String(100)),
        sa.Column("failure_reason", sa.Text),
        sa.Column("credits_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("running_since", TIME),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("status_changed_at", TIME, nullable=False),
        sa.Column("started_at", TIME),
        sa.Column("paused_at", TIME),
        sa.Column("stopped_at", TIME),
        sa.CheckConstraint(
            "status in ('starting', 'running', 'paused', 'stopping', 'stopped', 'failed')",
            name="ck_sessions_status",
        ),
        sa.CheckConstraint("network in ('none', 'egress')", name="ck_sessions_network"),
    )
    op.create_index("ix_sessions_organization", "sessions", ["organization_id", "id"])
    op.create_index("ix_sessions_organization_status", "sessions", ["organization_id", "status"])
    op.create_index("ix_sessions_metadata", "sessions", ["metadata"], postgresql_using="gin")
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("env", JSONB, nullable=False, server_default=EMPTY),
        sa.Column("cwd", sa.Text),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("stdout", sa.Text, nullable=False, server_default=""),
        sa.Column("stderr", sa.Text, nullable=False, server_default=""),
        sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("accepted_at", TIME),
        sa.Column("started_at", TIME),
        sa.Column("finished_at", TIME),
        sa.CheckConstraint(
            "status in ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')",
            name="ck_tasks_status",
        ),
    )
    op.create_index("ix_tasks_session", "tasks", ["session_id", "id"])
    op.create_index("ix_tasks_status", "tasks", ["status"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("sessions")
