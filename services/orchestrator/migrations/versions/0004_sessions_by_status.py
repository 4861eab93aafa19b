"""Sessions listed by status read a page of that status, in order.

Why: `GET /api/v1/sessions?status=` had `(organization_id, status)`, which finds the sessions of
a status but not in id order: a page of a status sorted every session of it (all the stopped
ones, say) first. `(organization_id, status, id)` gives them newest first, and serves the
lookups by status the old index served. Status changes rewrote the old index too: no new writes.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_sessions_organization_status"


def _index(columns: list[str]) -> None:
    op.drop_index(NAME, table_name="sessions")
    op.create_index(NAME, "sessions", columns)


def upgrade() -> None:
    _index(["organization_id", "status", "id"])


def downgrade() -> None:
    _index(["organization_id", "status"])
