"""Large task transcripts staged until they are in the Object Store and announced.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_outputs",
        sa.Column("task_id", sa.String(40), primary_key=True),
        sa.Column("runner_id", sa.String(200), nullable=False),
        sa.Column("completed", sa.LargeBinary, nullable=False),
        sa.Column(
            "staged_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("task_outputs")
