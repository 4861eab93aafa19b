"""HTTP bodies of the purchases routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

PurchaseStatus = Literal[
    "pending", "paid", "failed", "expired", "refunded", "partially_refunded", "disputed"
]


class PurchaseOut(msgspec.Struct):
    id: str
    status: PurchaseStatus
    kind: Literal["checkout", "auto_topup"]
    credits: int
    amount: int
    currency: str
    provider: Literal["stripe", "polar"]
    package_id: str | None
    refunded_credits: int
    checkout_url: str | None
    expires_at: datetime | None
    failure_reason: str | None
    created_at: datetime
    paid_at: datetime | None
