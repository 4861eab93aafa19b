"""The reaper's sweeps read the live sessions, not every session ever made.

Why: every few seconds the reaper looks for live sessions on a runner (`live_with_runner`) and
for `starting` ones nobody scheduled (`starting_since_for_update`). No sessions index led with
`status`, so both read the whole table: the sweep grew with every session of every
organization, one tenant's history slowing it for all. A partial index over the live statuses,
`(status, created_at)`, holds only the live sessions: the first reads them all, the second
seeks `starting` ones created before its deadline. Both queries send their statuses as
constants: a generic plan cannot prove a bound parameter is a live status, so could not use it.

Writers: a session is inserted `starting` (one new, small entry) and each change to another
live status (running, paused, stopping, back to running) writes one more; changes to `stopped`
or `failed` write none, and those rows leave the index at the next vacuum. No update becomes
non-HOT: status changes already rewrote `(organization_id, status, id)`, and `created_at` never
changes. The index stays the size of the live sessions (plus dead entries until vacuum).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_sessions_live"


def upgrade() -> None:
    op.create_index(
        NAME,
        "sessions",
        ["status", "created_at"],
        postgresql_where=sa.text("status IN ('starting', 'running', 'paused', 'stopping')"),
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="sessions")
