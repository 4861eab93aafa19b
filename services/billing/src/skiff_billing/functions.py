"""Calls of the hot paths' database functions (migration 0005) and what they answer.

Each is one statement, prepared once per connection by asyncpg: a usage charge and each hold
call cost one round trip, whatever they write. The rules that decide on events stay in
Python (ledger.thresholds, topup.guards), fed by the account's state the function answers.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from skiff_billing.topup.guards import TopupSettings

CHARGE_USAGE = "SELECT * FROM charge_usage($1, $2, $3, $4, $5, $6, $7)"
# Each hold function ends with the rules' inputs (migration 0006): given them, it refuses a
# change after which the rules would write (holds.alone); NO_RULES, it never refuses.
HOLD_RESERVE = "SELECT * FROM hold_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
HOLD_CAPTURE = "SELECT * FROM hold_capture($1, $2, $3, $4, $5, $6, $7, $8)"
HOLD_RELEASE = "SELECT * FROM hold_release($1, $2, $3, $4, $5, $6, $7)"
NO_RULES = (None, None, None)
# The threshold rules (ledger.thresholds) remember a sent low-credit note on the account.
SET_LOW_CREDIT_NOTIFIED = "UPDATE accounts SET low_credit_notified = $2 WHERE id = $1"


class AccountState(msgspec.Struct, frozen=True):
    """The locked account after the function's change, and its auto top-up settings."""

    account_id: str
    balance_before: int
    balance: int
    reserved: int
    low_credit_notified: bool
    topup: TopupSettings | None

    @property
    def available(self) -> int:
        """What may be spent or reserved now: never below zero (as `Account.available`)."""
        return max(self.balance - self.reserved, 0)

    @classmethod
    def of(cls, row: asyncpg.Record) -> AccountState:
        topup = None
        if row["topup_enabled"] is not None:
            topup = TopupSettings(
                enabled=row["topup_enabled"],
                status=row["topup_status"],
                has_card=row["topup_has_card"],
                threshold_credits=row["topup_threshold"],
                package_id=row["topup_package_id"],
                last_attempt_at=row["topup_last_attempt_at"],
            )
        return cls(
            account_id=row["account_id"],
            balance_before=row["balance_before"],
            balance=row["balance"],
            reserved=row["reserved"],
            low_credit_notified=row["low_credit_notified"],
            topup=topup,
        )


class HoldRow(msgspec.Struct, frozen=True):
    """A hold as a function answered it (the columns an RPC reply carries)."""

    id: str
    organization_id: str
    amount: int
    captured: int
    status: str
    reference: str
    expires_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> HoldRow:
        return cls(
            id=row["hold_id"],
            organization_id=row["hold_organization_id"],
            amount=row["hold_amount"],
            captured=row["hold_captured"],
            status=row["hold_status"],
            reference=row["hold_reference"],
            expires_at=row["hold_expires_at"],
        )


async def call(connection: asyncpg.Connection, statement: str, *args: object) -> asyncpg.Record:
    """A function's answer: each answers exactly one row, whatever its outcome."""
    row = await connection.fetchrow(statement, *args)
    assert row is not None
    return row
