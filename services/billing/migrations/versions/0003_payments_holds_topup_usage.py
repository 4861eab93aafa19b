"""Purchases, provider customers and events, holds, auto top-up, daily usage rollups.

The ledger learns `capture` and `dispute` entries. A refund or a lost dispute takes credits
back even when they were spent (the balance goes below zero and spending stops), and a hold
reserved before such a clawback is still captured, so `refund`, `dispute` and `capture` may
overdraw like usage; and `reserved` may then exceed a balance that shrank under it.

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

NOW = sa.text("now()")
TYPES = (
    "'purchase', 'usage', 'reservation', 'capture', 'release', 'refund', 'dispute', 'bonus',"
    " 'adjustment'"
)
OLD_TYPES = "'purchase', 'usage', 'reservation', 'release', 'refund', 'bonus', 'adjustment'"


def _ledger_rules() -> None:
    op.drop_constraint("ck_ledger_entries_type", "ledger_entries", type_="check")
    op.create_check_constraint("ck_ledger_entries_type", "ledger_entries", f"type in ({TYPES})")
    op.drop_constraint("ck_ledger_entries_only_usage_overdraws", "ledger_entries", type_="check")
    op.create_check_constraint(
        "ck_ledger_entries_only_usage_overdraws",
        "ledger_entries",
        "amount >= 0 or balance_after >= 0 or type in ('usage', 'refund', 'dispute', 'capture')",
    )
    op.drop_constraint("ck_accounts_reserved", "accounts", type_="check")
    op.create_check_constraint("ck_accounts_reserved", "accounts", "reserved >= 0")
    op.add_column(
        "accounts",
        sa.Column("low_credit_notified", sa.Boolean, nullable=False, server_default="false"),
    )


def _payments() -> None:
    op.create_table(
        "purchases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("package_id", sa.String(64)),
        sa.Column("credits", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_checkout_id", sa.String(255)),
        sa.Column("provider_payment_id", sa.String(255)),
        sa.Column("checkout_url", sa.String(2048)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("refunded_credits", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("disputed_credits", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("failure_reason", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("provider", "provider_checkout_id", name="uq_purchases_checkout"),
        sa.UniqueConstraint("provider", "provider_payment_id", name="uq_purchases_payment"),
        sa.CheckConstraint("credits > 0 and amount >= 0", name="ck_purchases_positive"),
        sa.CheckConstraint(
            "refunded_credits >= 0 and refunded_credits <= credits", name="ck_purchases_refunded"
        ),
    )
    op.create_index("ix_purchases_organization_id", "purchases", ["organization_id", "id"])
    op.create_table(
        "provider_customers",
        sa.Column("organization_id", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(16), primary_key=True),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("provider", "customer_id", name="uq_provider_customers_customer"),
    )
    op.create_table(
        "provider_events",
        sa.Column("provider", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("waiting_for", sa.String(255)),
        sa.Column("payload", sa.LargeBinary),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_provider_events_parked",
        "provider_events",
        ["provider", "waiting_for"],
        postgresql_where=sa.text("status = 'parked'"),
    )


def _holds_and_topups() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("captured", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("organization_id", "reference", name="uq_holds_reference"),
        sa.CheckConstraint("amount > 0", name="ck_holds_amount"),
        sa.CheckConstraint("captured >= 0 and captured <= amount", name="ck_holds_captured"),
        sa.CheckConstraint(
            "status in ('pending', 'captured', 'released', 'expired')", name="ck_holds_status"
        ),
        # A resolved hold says when; a pending one does not (resolved exactly once).
        sa.CheckConstraint(
            "(status = 'pending') = (resolved_at is null)", name="ck_holds_resolved_once"
        ),
    )
    op.create_index("ix_holds_organization_id", "holds", ["organization_id", "id"])
    op.create_index(
        "ix_holds_expiring",
        "holds",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending' and expires_at is not null"),
    )
    op.create_table(
        "auto_topups",
        sa.Column("organization_id", sa.String(40), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("threshold_credits", sa.BigInteger, nullable=False),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("max_per_month", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("payment_method_id", sa.String(255)),
        sa.Column("card_brand", sa.String(32)),
        sa.Column("card_last4", sa.String(4)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "topup_attempts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("purchase_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_intent_id", sa.String(255)),
        sa.Column("failure_reason", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_topup_attempts_organization", "topup_attempts", ["organization_id", "created_at"]
    )
    # At most one charge in flight per organization, whatever the code does.
    op.create_index(
        "uq_topup_attempts_one_pending",
        "topup_attempts",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "usage_daily",
        sa.Column("organization_id", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("metric", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False, server_default="0"),
    )


def upgrade() -> None:
    _ledger_rules()
    _payments()
    _holds_and_topups()


def downgrade() -> None:
    for table in (
        "usage_daily",
        "topup_attempts",
        "auto_topups",
        "holds",
        "provider_events",
        "provider_customers",
        "purchases",
    ):
        op.drop_table(table)
    op.drop_column("accounts", "low_credit_notified")
    op.drop_constraint("ck_accounts_reserved", "accounts", type_="check")
    op.create_check_constraint(
        "ck_accounts_reserved", "accounts", "reserved >= 0 and reserved <= greatest(balance, 0)"
    )
    op.drop_constraint("ck_ledger_entries_only_usage_overdraws", "ledger_entries", type_="check")
    op.create_check_constraint(
        "ck_ledger_entries_only_usage_overdraws",
        "ledger_entries",
        "amount >= 0 or balance_after >= 0 or type = 'usage'",
    )
    op.drop_constraint("ck_ledger_entries_type", "ledger_entries", type_="check")
    op.create_check_constraint("ck_ledger_entries_type", "ledger_entries", f"type in ({OLD_TYPES})")
