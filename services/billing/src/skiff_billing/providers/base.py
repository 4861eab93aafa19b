"""What billing asks of a payment provider, whichever it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from skiff_kit.errors import BadGateway


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A hosted checkout for one purchase; `purchase_id` is also the idempotency key."""

    purchase_id: str
    organization_id: str
    customer_id: str | None
    credits: int
    amount: int  # minor units
    currency: str
    name: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    save_card: bool = False


@dataclass(frozen=True, slots=True)
class CheckoutCreated:
    checkout_id: str
    url: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Card:
    """A saved card: what the user sees of it, and the id to charge it with."""

    id: str
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """An off-session charge of a saved card; `key` is the idempotency key."""

    key: str
    customer_id: str
    payment_method_id: str
    amount: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not do it now (network, 5xx, rate limit): try again later."""


class ProviderRefused(ProviderError):
    """The provider refused for good (bad request, declined card): trying again will not help.

    `payment_id` is the payment the refusal left behind, when there is one.
    """

    def __init__(self, message: str, *, code: str = "refused", payment_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.payment_id = payment_id


def as_http(error: ProviderError, provider: str) -> Exception:
    """A provider's failure as the API answers it: 502 `provider_error`, naming the provider."""
    return BadGateway(
        f"{provider.capitalize()} did not accept the request: {error}",
        code="provider_error",
        details={"provider": provider},
    )
