"""Stripe's events, each turned into its effect on a purchase (webhooks.payments).

- `checkout.session.completed`: grants when `payment_status` is `paid`; an unpaid one (an
  asynchronous method) only learns its PaymentIntent and waits.
- `checkout.session.async_payment_succeeded` / `_failed`, `checkout.session.expired`.
- `payment_intent.succeeded` / `.payment_failed`: auto top-ups (and a checkout's intent,
  which grants the same purchase once); a checkout's failed attempt does not fail it, the
  customer may try another card.
- `charge.refunded`, `charge.dispute.created`, `charge.dispute.closed`: by PaymentIntent,
  parked until it is paid.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.policy import Policy
from skiff_billing.webhooks import payments
from skiff_billing.webhooks.outcome import Outcome, ignored
from skiff_billing.webhooks.service import Apply
from skiff_billing.webhooks.stripe_objects import (
    Charge,
    CheckoutSession,
    Dispute,
    PaymentIntent,
    StripeEvent,
    decode,
)

STRIPE = "stripe"
CHECKOUT_UNPAID = {
    "checkout.session.async_payment_failed": ("failed", "the payment failed"),
    "checkout.session.expired": ("expired", "the checkout expired unpaid"),
}


def stripe_apply(policy: Policy) -> Apply:
    """The function that applies one verified Stripe event body."""

    async def apply(session: AsyncSession, body: bytes) -> Outcome:
        event = msgspec.json.decode(body, type=StripeEvent)
        now = datetime.now(UTC)
        kind = event.type
        if kind.startswith("checkout.session."):
            return await _checkout(session, event, policy, now)
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            return await _intent(session, event, policy, now)
        if kind == "charge.refunded":
            charge = decode(event.data.object, Charge)
            assert isinstance(charge, Charge)
            if charge.payment_intent is None:
                return ignored("a charge without a PaymentIntent")
            return await payments.refunded(
                session,
                await payments.find(session, STRIPE, payment_id=charge.payment_intent),
                payment_id=charge.payment_intent,
                refunded_money=charge.amount_refunded,
                policy=policy,
                now=now,
            )
        if kind in ("charge.dispute.created", "charge.dispute.closed"):
            return await _dispute(session, event, policy, now)
        return ignored(f"{kind} is not handled")

    return apply


async def _checkout(
    session: AsyncSession, event: StripeEvent, policy: Policy, now: datetime
) -> Outcome:
    checkout = decode(event.data.object, CheckoutSession)
    assert isinstance(checkout, CheckoutSession)
    purchase_id = await payments.find(
        session,
        STRIPE,
        purchase_id=checkout.metadata.get("purchase_id") or checkout.client_reference_id,
        checkout_id=checkout.id,
    )
    payment_id = checkout.payment_intent or checkout.id
    if event.type == "checkout.session.completed":
        if checkout.payment_status in ("paid", "no_payment_required"):
            return await payments.paid(session, purchase_id, payment_id, policy, now)
        return await payments.learn_payment(session, purchase_id, payment_id)
    if event.type == "checkout.session.async_payment_succeeded":
        return await payments.paid(session, purchase_id, payment_id, policy, now)
    if event.type in CHECKOUT_UNPAID:
        status, reason = CHECKOUT_UNPAID[event.type]
        return await payments.unpaid(
            session,
            purchase_id,
            status=status,
            reason=reason,
            payment_id=checkout.payment_intent,
            policy=policy,
            now=now,
        )
    return ignored(f"{event.type} is not handled")


async def _intent(
    session: AsyncSession, event: StripeEvent, policy: Policy, now: datetime
) -> Outcome:
    intent = decode(event.data.object, PaymentIntent)
    assert isinstance(intent, PaymentIntent)
    purchase_id = await payments.find(
        session, STRIPE, purchase_id=intent.metadata.get("purchase_id"), payment_id=intent.id
    )
    if event.type == "payment_intent.succeeded":
        return await payments.paid(session, purchase_id, intent.id, policy, now)
    if intent.metadata.get("kind") != "auto_topup":
        return ignored("a checkout's failed attempt: the customer may try again")
    error = intent.last_payment_error
    return await payments.unpaid(
        session,
        purchase_id,
        status="failed",
        reason=(error.message if error and error.message else "the card was declined"),
        payment_id=intent.id,
        policy=policy,
        now=now,
    )


async def _dispute(
    session: AsyncSession, event: StripeEvent, policy: Policy, now: datetime
) -> Outcome:
    dispute = decode(event.data.object, Dispute)
    assert isinstance(dispute, Dispute)
    if dispute.payment_intent is None:
        return ignored("a dispute without a PaymentIntent")
    closed = None
    if event.type == "charge.dispute.closed":
        closed = "lost" if dispute.status == "lost" else "won"
    return await payments.disputed(
        session,
        await payments.find(session, STRIPE, payment_id=dispute.payment_intent),
        payment_id=dispute.payment_intent,
        dispute_id=dispute.id,
        disputed_money=dispute.amount,
        closed=closed,
        policy=policy,
        now=now,
    )
