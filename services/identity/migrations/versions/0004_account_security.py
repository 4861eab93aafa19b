"""Email verification, password reset, login throttling, locks and the audit log.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("select 1")  # filled in by the account security work


def downgrade() -> None:
    pass
