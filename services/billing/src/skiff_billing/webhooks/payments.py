"""The effects provider events share: paid, unpaid, refunded, disputed (by purchase id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.policy import Policy
from skiff_billing.purchases import clawbacks, repository
from skiff_billing.purchases import service as purchases
from skiff_billing.topup import service as topup
from skiff_billing.webhooks.outcome import Outcome, applied, ignored, parked


async def find(
    session: AsyncSession,
    provider: str,
    *,
    purchase_id: str | None = None,
    checkout_id: str | None = None,
    payment_id: str | None = None,
) -> str | None:
    """The purchase an event is about: by the id we put in its metadata, else by the
    provider's checkout or payment id."""
    if purchase_id and await repository.of_any(session, purchase_id) is not None:
        return purchase_id
    if checkout_id and (found := await repository.id_by_checkout(session, provider, checkout_id)):
        return found
    if payment_id:
        return await repository.id_by_payment(session, provider, payment_id)
    return None


async def paid(
    session: AsyncSession, purchase_id: str | None, payment_id: str, policy: Policy, now: datetime
) -> Outcome:
    """Grant the purchase (once) and let the events that waited for this payment apply."""
    locked = await purchases.locked(session, purchase_id) if purchase_id else None
    if locked is None:
        return ignored("no such purchase")
    account, purchase = locked
    if await purchases.mark_paid(
        session, account, purchase, payment_id=payment_id, policy=policy, now=now
    ):
        await topup.attempt_succeeded(session, purchase=purchase, now=now)
    return applied(paid=payment_id)


async def unpaid(
    session: AsyncSession,
    purchase_id: str | None,
    *,
    status: str,
    reason: str,
    payment_id: str | None,
    policy: Policy,
    now: datetime,
) -> Outcome:
    """The purchase failed or expired (an auto top-up's failure counts against it)."""
    locked = await purchases.locked(session, purchase_id) if purchase_id else None
    if locked is None:
        return ignored("no such purchase")
    _, purchase = locked
    if payment_id and purchase.provider_payment_id is None:
        purchase.provider_payment_id = payment_id
    if purchase.kind == "auto_topup":
        await topup.attempt_failed(
            session, purchase=purchase, reason=reason, policy=policy, now=now
        )
    await purchases.mark_unpaid(session, purchase, status=status, reason=reason)
    return applied()


async def refunded(
    session: AsyncSession,
    purchase_id: str | None,
    *,
    payment_id: str,
    refunded_money: int,
    policy: Policy,
    now: datetime,
) -> Outcome:
    """Take back the refunded share, or park until the payment is known paid."""
    locked = await purchases.locked(session, purchase_id) if purchase_id else None
    if locked is None or locked[1].status not in clawbacks.PAID:
        return parked(payment_id)
    account, purchase = locked
    await clawbacks.refund_up_to(
        session, account, purchase, refunded_money=refunded_money, policy=policy, now=now
    )
    return applied()


async def disputed(
    session: AsyncSession,
    purchase_id: str | None,
    *,
    payment_id: str,
    dispute_id: str,
    disputed_money: int,
    closed: str | None,
    policy: Policy,
    now: datetime,
) -> Outcome:
    """A dispute opened (`closed` None) or closed (`won` / `lost`); parked until paid."""
    locked = await purchases.locked(session, purchase_id) if purchase_id else None
    if locked is None or locked[1].status not in clawbacks.PAID:
        return parked(payment_id)
    account, purchase = locked
    if closed is None:
        await clawbacks.dispute_opened(
            session,
            account,
            purchase,
            dispute_id=dispute_id,
            disputed_money=disputed_money,
            policy=policy,
            now=now,
        )
    else:
        await clawbacks.dispute_closed(
            session,
            account,
            purchase,
            dispute_id=dispute_id,
            disputed_money=disputed_money,
            won=closed == "won",
            policy=policy,
            now=now,
        )
    return applied()


async def learn_payment(session: AsyncSession, purchase_id: str | None, payment_id: str) -> Outcome:
    """A checkout completed unpaid (an asynchronous method): remember its payment, grant later."""
    locked = await purchases.locked(session, purchase_id) if purchase_id else None
    if locked is None:
        return ignored("no such purchase")
    purchase = locked[1]
    if purchase.provider_payment_id is None:
        purchase.provider_payment_id = payment_id
    return applied()
