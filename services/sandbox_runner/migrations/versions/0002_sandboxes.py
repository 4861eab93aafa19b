"""The sandboxes a runner holds and the tasks it runs.

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


def upgrade() -> None:
    op.create_table(
        "sandboxes",
        sa.Column("sandbox_id", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(40), unique=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("runner_id", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(20), nullable=False),
        sa.Column("handle", sa.Text, nullable=False, server_default=""),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_seconds_before", sa.Float, nullable=False, server_default="0"),
        sa.Column("running_since", sa.DateTime(timezone=True)),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes_reported", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.Column("stop_reason", sa.Text),
        sa.CheckConstraint(
            "status in ('starting', 'running', 'paused', 'stopped', 'failed')",
            name="ck_sandboxes_status",
        ),
    )
    op.create_index("ix_sandboxes_runner_id", "sandboxes", ["runner_id", "status"])
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(40), nullable=False),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("runner_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_tasks_session_id", "tasks", ["session_id"])
    op.create_index("ix_tasks_runner_id", "tasks", ["runner_id", "status"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("sandboxes")
