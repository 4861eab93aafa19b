"""Webhook endpoints carry their limits across replicas: the live leases, the rate's GCRA time.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhook_endpoints",
        sa.Column("leases", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column("webhook_endpoints", sa.Column("rate_tat", sa.DateTime(timezone=True)))
    # An endpoint's due messages, for the outcome writer's "is anyone waiting for its room?"
    op.create_index(
        "ix_webhook_messages_endpoint_due",
        "webhook_messages",
        ["endpoint_id", "next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_messages_endpoint_due", "webhook_messages")
    op.drop_column("webhook_endpoints", "rate_tat")
    op.drop_column("webhook_endpoints", "leases")
