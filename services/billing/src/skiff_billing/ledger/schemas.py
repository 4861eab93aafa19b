"""HTTP bodies of the credits routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

ENTRY_TYPES = (
    "purchase",
    "usage",
    "reservation",
    "capture",
    "release",
    "refund",
    "dispute",
    "bonus",
    "adjustment",
)
EntryType = Literal[
    "purchase",
    "usage",
    "reservation",
    "capture",
    "release",
    "refund",
    "dispute",
    "bonus",
    "adjustment",
]


class BalanceOut(msgspec.Struct):
    credits: int
    reserved: int
    available: int
    usage_this_month: int
    last_topped_up: datetime | None


class TransactionOut(msgspec.Struct):
    """One ledger entry; `amount` is signed (a debit is negative)."""

    id: str
    type: EntryType
    amount: int
    balance_after: int
    description: str
    reference: str
    created_at: datetime
