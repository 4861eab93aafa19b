"""Stripe through the `stripe` library, at a configurable API base (the stand-in, or Stripe)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from skiff_billing.providers.base import (
    Card,
    ChargeRequest,
    CheckoutCreated,
    CheckoutRequest,
    ProviderError,
    ProviderRefused,
)


class StripeProvider:
    """Customers, Checkout Sessions, the billing portal and off-session PaymentIntents."""

    name = "stripe"

    def __init__(self, *, api_key: str, api_base: str, timeout: float) -> None:
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=stripe.HTTPXClient(timeout=timeout),
            max_network_retries=2,
        )

    async def create_customer(self, organization_id: str) -> str:
        """One customer per organization (the idempotency key makes a retry the same one)."""
        customer = await self._call(
            self.client.v1.customers.create_async(
                params={
                    "description": f"Skiff organization {organization_id}",
                    "metadata": {"organization_id": organization_id},
                },
                options={"idempotency_key": f"skiff-customer-{organization_id}"},
            )
        )
        return str(customer.id)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        metadata = {"purchase_id": request.purchase_id, "organization_id": request.organization_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": request.amount,
                        "product_data": {"name": request.name},
                    },
                }
            ],
            "client_reference_id": request.purchase_id,
            "metadata": {**metadata, "credits": str(request.credits)},
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
        }
        if request.customer_id:
            params["customer"] = request.customer_id
        if request.save_card:
            params["payment_intent_data"]["setup_future_usage"] = "off_session"
        session = await self._call(
            self.client.v1.checkout.sessions.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"skiff-checkout-{request.purchase_id}"},
            )
        )
        expires = session.to_dict().get("expires_at")
        return CheckoutCreated(
            checkout_id=str(session.id),
            url=str(session.url),
            expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
        )

    async def portal(self, customer_id: str, return_url: str) -> str:
        portal = await self._call(
            self.client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": return_url}
            )
        )
        return str(portal.url)

    async def cards(self, customer_id: str) -> list[Card]:
        """The customer's saved cards, newest first."""
        listed = await self._call(
            self.client.v1.payment_methods.list_async(
                params={"customer": customer_id, "type": "card", "limit": 10}
            )
        )
        cards = []
        for method in listed.data:
            card = method.to_dict().get("card") or {}
            cards.append(
                Card(id=str(method.id), brand=str(card.get("brand")), last4=str(card.get("last4")))
            )
        return cards

    async def charge(self, request: ChargeRequest) -> str:
        """Confirm an off-session PaymentIntent; its id. A declined card is ProviderRefused."""
        intent = await self._call(
            self.client.v1.payment_intents.create_async(
                params={
                    "amount": request.amount,
                    "currency": request.currency,
                    "customer": request.customer_id,
                    "payment_method": request.payment_method_id,
                    "off_session": True,
                    "confirm": True,
                    "metadata": request.metadata,
                },
                options={"idempotency_key": request.key},
            )
        )
        return str(intent.id)

    @staticmethod
    async def _call(pending: Any) -> Any:
        """Await a library call; its errors as ours (transient or refused)."""
        try:
            return await pending
        except stripe.CardError as error:
            intent: Any = (error.error.payment_intent if error.error else None) or {}
            raise ProviderRefused(
                error.user_message or str(error),
                code=error.code or "card_declined",
                payment_id=intent.get("id") if isinstance(intent, dict) else None,
            ) from error
        except (stripe.InvalidRequestError, stripe.AuthenticationError) as error:
            raise ProviderRefused(error.user_message or str(error), code="invalid") from error
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
