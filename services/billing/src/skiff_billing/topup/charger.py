"""Charging the saved card for a started auto top-up: billing's consumer of its own
`billing.autotopup.started` (durable `billing--autotopup`).

The charge runs here rather than in the debit's transaction: the debit only records that a
top-up is due. The PaymentIntent's idempotency key is the attempt id, so a redelivery (a crash
after Stripe answered, before the commit) confirms the same intent instead of charging twice.
Stripe unreachable: the handler fails and the event is retried. A declined card is a failed
attempt (the `payment_intent.payment_failed` webhook that follows finds it failed already).
"""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts import Envelope
from skiff_contracts.events.billing import AutoTopupStarted
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.policy import Policy
from skiff_billing.providers.base import ChargeRequest, ProviderRefused
from skiff_billing.providers.registry import Providers
from skiff_billing.purchases import service as purchases
from skiff_billing.topup import repository, service


def charger(providers: Providers, policy: Policy) -> Handler:
    """The handler of `billing.autotopup.started`."""

    async def handle(session: AsyncSession, envelope: Envelope, event: AutoTopupStarted) -> None:
        attempt = await repository.attempt(session, event.attempt_id)
        if attempt is None or attempt.status != "pending" or attempt.payment_intent_id:
            return
        config = await repository.config(session, event.organization_id)
        customer = await purchases.customer_of(session, event.organization_id, "stripe")
        reason = None
        if providers.stripe is None:
            reason = "Stripe is not configured"
        elif config is None or config.payment_method_id is None or customer is None:
            reason = "no saved card"
        payment_id = None
        if reason is None and providers.stripe is not None and config and customer:
            try:
                payment_id = await providers.stripe.charge(
                    ChargeRequest(
                        key=f"skiff-topup-{attempt.id}",
                        customer_id=customer,
                        payment_method_id=config.payment_method_id or "",
                        amount=event.amount,
                        currency=event.currency,
                        metadata={
                            "purchase_id": event.purchase_id,
                            "organization_id": event.organization_id,
                            "attempt_id": attempt.id,
                            "kind": "auto_topup",
                        },
                    )
                )
            except ProviderRefused as refused:
                reason, payment_id = str(refused), refused.payment_id
        await _record(session, event, payment_id, reason, policy)

    return handle


async def _record(
    session: AsyncSession,
    event: AutoTopupStarted,
    payment_id: str | None,
    reason: str | None,
    policy: Policy,
) -> None:
    locked = await purchases.locked(session, event.purchase_id)
    if locked is None:
        return
    _, purchase = locked
    if payment_id and purchase.provider_payment_id is None:
        purchase.provider_payment_id = payment_id
    attempt = await repository.attempt_of_purchase(session, purchase.id)
    if attempt is not None and payment_id and attempt.payment_intent_id is None:
        attempt.payment_intent_id = payment_id
    if reason is not None:
        now = datetime.now(UTC)
        await service.attempt_failed(
            session, purchase=purchase, reason=reason, policy=policy, now=now
        )
        await purchases.mark_unpaid(session, purchase, status="failed", reason=reason)
