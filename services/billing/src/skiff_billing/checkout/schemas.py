"""HTTP bodies of the checkout and portal routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"^https?://[^\s]+$")]
ProviderName = Literal["stripe", "polar"]


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either `package_id` or `credits` (at least the minimum purchase, 1,000 by default)."""

    package_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    credits: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)] | None = None
    provider: ProviderName | None = None
    success_url: Url | None = None
    cancel_url: Url | None = None
    # Stripe: keep the card for auto top-up (always, once auto top-up is enabled).
    save_card: bool = False


class CheckoutOut(msgspec.Struct):
    purchase_id: str
    url: str
    provider: ProviderName
    expires_at: datetime | None


class PortalIn(msgspec.Struct, forbid_unknown_fields=True):
    provider: ProviderName | None = None
    return_url: Url | None = None


class PortalOut(msgspec.Struct):
    url: str
