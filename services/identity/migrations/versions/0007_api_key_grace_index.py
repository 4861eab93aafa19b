"""Look keys up by their in-grace secret too (the gateway's lookups on a miss).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_api_keys_grace_secret_hash", "api_keys", ["grace_secret_hash"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_grace_secret_hash", "api_keys")
