"""HTTP bodies of the credits routes."""

from __future__ import annotations

from datetime import datetime

import msgspec


class BalanceOut(msgspec.Struct):
    credits: int
    reserved: int
    available: int
    usage_this_month: int
    last_topped_up: datetime | None


class TransactionOut(msgspec.Struct):
    id: str
    type: str
    amount: int
    balance_after: int
    description: str
    reference: str
    created_at: datetime
