"""Polar's events: `order.paid` grants, `order.refunded` takes back (Polar may refund on its
own), `order.created` alone grants nothing, `checkout.updated` to `expired`/`failed` ends a
purchase. Orders carry the checkout's metadata, so the purchase id travels with them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.policy import Policy
from skiff_billing.webhooks import payments
from skiff_billing.webhooks.outcome import Outcome, ignored
from skiff_billing.webhooks.polar_objects import Checkout, Order, PolarEvent, purchase_id_of
from skiff_billing.webhooks.service import Apply

POLAR = "polar"


def polar_apply(policy: Policy) -> Apply:
    """The function that applies one verified Polar event body."""

    async def apply(session: AsyncSession, body: bytes) -> Outcome:
        event = msgspec.json.decode(body, type=PolarEvent)
        now = datetime.now(UTC)
        if event.type in ("order.paid", "order.refunded"):
            order = msgspec.json.decode(event.data, type=Order)
            purchase_id = await payments.find(
                session,
                POLAR,
                purchase_id=purchase_id_of(order.metadata),
                checkout_id=order.checkout_id,
                payment_id=order.id,
            )
            if event.type == "order.paid":
                return await payments.paid(session, purchase_id, order.id, policy, now)
            return await payments.refunded(
                session,
                purchase_id,
                payment_id=order.id,
                refunded_money=order.refunded_amount,
                policy=policy,
                now=now,
            )
        if event.type == "checkout.updated":
            checkout = msgspec.json.decode(event.data, type=Checkout)
            if checkout.status not in ("expired", "failed"):
                return ignored(f"checkout {checkout.status}")
            purchase_id = await payments.find(
                session,
                POLAR,
                purchase_id=purchase_id_of(checkout.metadata),
                checkout_id=checkout.id,
            )
            return await payments.unpaid(
                session,
                purchase_id,
                status=checkout.status,
                reason=f"the checkout {checkout.status}",
                payment_id=None,
                policy=policy,
                now=now,
            )
        return ignored(f"{event.type} grants nothing")

    return apply
