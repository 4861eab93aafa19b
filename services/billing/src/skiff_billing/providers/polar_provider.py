"""Polar through the `polar-sdk` library, at a configurable API base (the stand-in, or Polar)."""

from __future__ import annotations

from datetime import datetime

from polar import PolarClientError, PolarError
from polar.v2026_10 import PolarAsync

from skiff_billing.providers.base import (
    CheckoutCreated,
    CheckoutRequest,
    ProviderError,
    ProviderRefused,
)


class PolarProvider:
    """Checkouts of one product at the package's price, and the customer portal.

    Polar creates the customer at the first checkout from `external_customer_id` (the
    organization), so there is nothing to create beforehand.
    """

    name = "polar"

    def __init__(self, *, api_key: str, api_base: str, product_id: str, timeout: float) -> None:
        self.client = PolarAsync(api_key, base_url=api_base.rstrip("/"), timeout=timeout)
        self.product_id = product_id

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        try:
            checkout = await self.client.checkouts.create(
                products=[self.product_id],
                prices={
                    self.product_id: [
                        {
                            "amount_type": "fixed",
                            "price_amount": request.amount,
                            "price_currency": request.currency,  # type: ignore[typeddict-item]
                        }
                    ]
                },
                metadata={
                    "purchase_id": request.purchase_id,
                    "organization_id": request.organization_id,
                    "credits": request.credits,
                },
                external_customer_id=request.organization_id,
                success_url=request.success_url,
                return_url=request.cancel_url,
            )
        except PolarClientError as error:
            raise ProviderRefused(str(error), code="invalid") from error
        except PolarError as error:
            raise ProviderError(str(error)) from error
        return CheckoutCreated(
            checkout_id=checkout.id,
            url=checkout.url,
            expires_at=datetime.fromisoformat(checkout.expires_at),
        )

    async def portal(self, organization_id: str, return_url: str) -> str:
        try:
            created = await self.client.customer_sessions.create(
                external_customer_id=organization_id, return_url=return_url
            )
        except PolarClientError as error:
            raise ProviderRefused(str(error), code="no_customer") from error
        except PolarError as error:
            raise ProviderError(str(error)) from error
        return created.customer_portal_url
