"""Idempotency-Key records, written with the session or task they created.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op
from skiff_kit.idempotency import create_idempotency_table

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
