"""A user's unread notifications are found without reading the ones already read.

Why: the unread count (the bell, which dashboards poll) and `GET /api/v1/notifications?read=false`
read every notification of the user through `(organization_id, user_id, id)` and threw away the
read ones: the count's cost grew with everything the user was ever told, on every poll. A
partial index of the unread ones makes both read only the unread (an index-only count). Marking
read moves a notification out of it: one more index write per notification, not on any hot path.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["organization_id", "user_id", "id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unread", table_name="notifications")
