"""The audit log filtered by action reads the entries of that action, not the whole log.

Why: `GET /api/v1/audit-log?action=` walked the organization's whole log newest first and
dropped the other actions. Sign-ins are audited (`auth.login`, `auth.login_failed`), so the
log grows with every sign-in and every guess at a password, and a search for a rare action
(`member.role_changed`) read all of it. `(organization_id, action, id)` gives an exact action
its entries in order, and a family (`member.*`) is a range of it: `['member.', 'member/')`.
The action is indexed (and compared) in the "C" collation, byte order, where that range is
exactly the actions starting with `member.`; under a linguistic collation it need not be.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        'CREATE INDEX ix_audit_log_action ON audit_log (organization_id, action COLLATE "C", id)'
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", "audit_log")
