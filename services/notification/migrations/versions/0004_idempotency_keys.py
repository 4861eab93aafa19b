"""Idempotency-Key records, written with the webhook endpoint (or new secret) they made.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op
from skiff_kit.idempotency import create_idempotency_table

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
