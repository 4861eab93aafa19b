"""Add an author to notes."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("author", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("notes", "author")
