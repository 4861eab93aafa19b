"""The webhook queue is vacuumed as a queue: after a few hundred changes, not a fifth of it.

Every send rewrites its message twice (the lease, the outcome) and its endpoint's row once or
twice (leases, rate). PostgreSQL's defaults wait until a fifth of a table is dead, so after a
burst the partial "due" indexes carry thousands of dead entries that every claim walks past.
These settings let autovacuum clear them within seconds, at no cost while the queue is quiet.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE = (
    "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,"
    " autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_insert_threshold = 500,"
    " autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0"
)
RESET = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,"
    " autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,"
    " autovacuum_analyze_scale_factor, autovacuum_vacuum_cost_delay"
)


def upgrade() -> None:
    for table in ("webhook_messages", "webhook_endpoints"):
        op.execute(f"ALTER TABLE {table} SET ({QUEUE})")


def downgrade() -> None:
    for table in ("webhook_messages", "webhook_endpoints"):
        op.execute(f"ALTER TABLE {table} RESET ({RESET})")
