"""The rules of purchases: created pending, granted once when paid, refunded or disputed later.

Every effect is keyed by the business object, never by the provider event that reported it:
the grant by the purchase (`purchase:<id>`), a refund by the purchase's refunded total
(`refund:<id>:<credits>`), a dispute by its id (`dispute:<id>:...`). The purchase row is
locked (after its account) for each, so two events about one payment apply one after the other.
"""

from __future__ import annotations

from datetime import datetime

from skiff_contracts.events.billing import CreditsPurchased, PurchaseFailed
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.ledger import service as ledger
from skiff_billing.ledger import thresholds
from skiff_billing.models import Account, Purchase
from skiff_billing.outbox import OUTBOX
from skiff_billing.policy import Policy
from skiff_billing.purchases import repository

GRANTABLE = frozenset({"pending", "failed", "expired"})


def grant_reference(purchase_id: str) -> str:
    return f"purchase:{purchase_id}"


async def locked(session: AsyncSession, purchase_id: str) -> tuple[Account, Purchase] | None:
    """The purchase and its account, both locked (account first: the order every writer uses)."""
    found = await repository.of_any(session, purchase_id)
    if found is None:
        return None
    account = await ledger.locked_account(session, found.organization_id)
    purchase = await repository.locked(session, purchase_id)
    if account is None or purchase is None:
        return None
    return account, purchase


async def mark_paid(
    session: AsyncSession,
    account: Account,
    purchase: Purchase,
    *,
    payment_id: str | None,
    policy: Policy,
    now: datetime,
) -> bool:
    """Grant the purchase's credits, once; False when it was granted before.

    A payment that succeeds after its purchase was marked failed or expired (a late
    asynchronous success) is still money received: it is granted.
    """
    if payment_id and purchase.provider_payment_id is None:
        purchase.provider_payment_id = payment_id
    if purchase.status not in GRANTABLE or await ledger.has_entry(
        session, purchase.organization_id, grant_reference(purchase.id)
    ):
        return False
    before = account.balance
    entry = await ledger.post(
        session,
        account,
        type_="purchase",
        amount=purchase.credits,
        reference=grant_reference(purchase.id),
        description=_description(purchase),
        now=now,
    )
    purchase.status, purchase.paid_at, purchase.failure_reason = "paid", now, None
    account.last_topped_up_at = now
    await OUTBOX.record(
        session,
        CreditsPurchased(
            organization_id=purchase.organization_id,
            purchase_id=purchase.id,
            transaction_id=entry.id,
            credits=purchase.credits,
            amount=purchase.amount,
            currency=purchase.currency,
            provider=purchase.provider,
            auto_topup=purchase.kind == "auto_topup",
            balance_after=account.balance,
            paid_at=now,
        ),
        subject=purchase.id,
        organization_id=purchase.organization_id,
        event_id=f"purchased_{purchase.id}",
    )
    await thresholds.after_change(
        session,
        account,
        balance_before=before,
        crossing_entry_id=entry.id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
    return True


async def mark_unpaid(
    session: AsyncSession, purchase: Purchase, *, status: str, reason: str
) -> bool:
    """A pending purchase failed or expired; False when it was not pending any more."""
    if purchase.status != "pending":
        return False
    purchase.status, purchase.failure_reason = status, reason[:500]
    await OUTBOX.record(
        session,
        PurchaseFailed(
            organization_id=purchase.organization_id,
            purchase_id=purchase.id,
            status=status,
            reason=reason[:500],
            credits=purchase.credits,
        ),
        subject=purchase.id,
        organization_id=purchase.organization_id,
        event_id=f"purchase_{status}_{purchase.id}",
    )
    return True


def _description(purchase: Purchase) -> str:
    what = "Auto top-up" if purchase.kind == "auto_topup" else "Purchase"
    money = f"{purchase.amount / 100:.2f} {purchase.currency.upper()}"
    return f"{what}: {purchase.credits} credits ({money} via {purchase.provider.capitalize()})"


def new(
    *,
    purchase_id: str,
    organization_id: str,
    kind: str,
    provider: str,
    package_id: str | None,
    credits: int,
    amount: int,
    currency: str,
    now: datetime,
) -> Purchase:
    """A pending purchase (not yet added to a session)."""
    return Purchase(
        id=purchase_id,
        organization_id=organization_id,
        status="pending",
        kind=kind,
        package_id=package_id,
        credits=credits,
        amount=amount,
        currency=currency,
        provider=provider,
        refunded_credits=0,
        disputed_credits=0,
        created_at=now,
    )


def add(session: AsyncSession, purchase: Purchase) -> None:
    """Record a new purchase in the caller's transaction."""
    repository.add(session, purchase)


async def customer_of(session: AsyncSession, organization_id: str, provider: str) -> str | None:
    """The organization's customer id at `provider`, once it has one."""
    return await repository.customer_id(session, organization_id, provider)


async def keep_customer(
    session: AsyncSession, organization_id: str, provider: str, customer_id: str
) -> str:
    """Remember the organization's customer at `provider`; the first one stored wins."""
    return await repository.keep_customer(session, organization_id, provider, customer_id)


async def of_organization(
    session: AsyncSession, organization_id: str, purchase_id: str
) -> Purchase | None:
    """The organization's purchase (None for another organization's)."""
    return await repository.of_organization(session, organization_id, purchase_id)
