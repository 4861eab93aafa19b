"""OAuth accounts linked to users, and pending OAuth sign-ins.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("select 1")  # filled in by the OAuth work


def downgrade() -> None:
    pass
