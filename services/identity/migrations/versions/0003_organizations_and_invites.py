"""Organization lifecycle and invites.

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
    op.add_column("organizations", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.create_table(
        "invites",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "organization_id",
            sa.String(40),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_by", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("accepted_by", sa.String(40)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "role in ('owner', 'admin', 'member', 'viewer')", name="ck_invites_role"
        ),
    )
    op.create_index("ix_invites_organization", "invites", ["organization_id", "id"])
    op.create_index(
        "ix_refresh_tokens_user_organization", "refresh_tokens", ["user_id", "organization_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_user_organization", table_name="refresh_tokens")
    op.drop_table("invites")
    op.drop_column("organizations", "deleted_at")
