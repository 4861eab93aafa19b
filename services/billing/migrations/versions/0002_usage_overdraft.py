"""Usage may overdraw an account: the documented overdraft of running sessions.

A running minute is charged even when it takes the balance below zero (docs/sandboxes.md,
Metering: at most one credit per live session). The database still refuses any other debit
that would leave a negative balance, and reservations stay within a positive balance.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("ck_accounts_balance_not_negative", "accounts", type_="check")
    op.drop_constraint("ck_accounts_reserved", "accounts", type_="check")
    op.create_check_constraint(
        "ck_accounts_reserved", "accounts", "reserved >= 0 and reserved <= greatest(balance, 0)"
    )
    op.create_check_constraint(
        "ck_ledger_entries_only_usage_overdraws",
        "ledger_entries",
        "amount >= 0 or balance_after >= 0 or type = 'usage'",
    )


def downgrade() -> None:
    op.drop_constraint("ck_ledger_entries_only_usage_overdraws", "ledger_entries", type_="check")
    op.drop_constraint("ck_accounts_reserved", "accounts", type_="check")
    op.create_check_constraint(
        "ck_accounts_reserved", "accounts", "reserved >= 0 and reserved <= balance"
    )
    op.create_check_constraint("ck_accounts_balance_not_negative", "accounts", "balance >= 0")
