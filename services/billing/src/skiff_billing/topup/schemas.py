"""HTTP bodies of the auto top-up routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Credits = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class CardOut(msgspec.Struct):
    brand: str
    last4: str


class AttemptOut(msgspec.Struct):
    id: str
    status: Literal["pending", "succeeded", "failed"]
    purchase_id: str
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None


class AutoTopupOut(msgspec.Struct):
    enabled: bool
    threshold_credits: int
    package_id: str
    max_per_month: int
    payment_method: CardOut | None
    status: Literal["active", "disabled_after_failures"]
    consecutive_failures: int
    last_attempt: AttemptOut | None


class AutoTopupIn(msgspec.Struct, forbid_unknown_fields=True):
    """`enabled: true` needs a card saved by a Stripe checkout (`save_card: true`)."""

    enabled: bool
    threshold_credits: Credits | None = None
    package_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    max_per_month: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
