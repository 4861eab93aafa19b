"""HTTP bodies of the holds route."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec


class HoldOut(msgspec.Struct):
    id: str
    amount: int
    captured: int
    status: Literal["pending", "captured", "released", "expired"]
    reference: str
    description: str
    expires_at: datetime | None
    created_at: datetime
    resolved_at: datetime | None
