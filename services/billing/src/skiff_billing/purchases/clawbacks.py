"""Taking credits back: refunds (any share of a purchase) and disputes (chargebacks).

A refund is applied as the purchase's refunded total: the provider reports the cumulative
amount refunded, the purchase keeps the credits already taken back, and only the difference
is debited (reference `refund:<purchase>:<total credits>`). Repeats and reordered events
change nothing. A dispute holds the disputed credits (a hold `dispute:<id>`, as much as is
available); won, the hold is released; lost, the hold is released and the credits debited.
Both may take the balance below zero: the money is gone, spending stops until a purchase.
"""

from __future__ import annotations

from datetime import datetime

from skiff_contracts.events.billing import CreditsDisputed, CreditsRefunded
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.holds import service as holds
from skiff_billing.ledger import service as ledger
from skiff_billing.ledger import thresholds
from skiff_billing.models import Account, Purchase
from skiff_billing.outbox import OUTBOX
from skiff_billing.policy import Policy

PAID = frozenset({"paid", "partially_refunded", "refunded", "disputed"})


def share(purchase: Purchase, money: int) -> int:
    """The credits `money` (minor units) of the purchase's amount bought, rounded down."""
    if purchase.amount <= 0 or money >= purchase.amount:
        return purchase.credits
    return purchase.credits * max(money, 0) // purchase.amount


async def refund_up_to(
    session: AsyncSession,
    account: Account,
    purchase: Purchase,
    *,
    refunded_money: int,
    policy: Policy,
    now: datetime,
) -> int:
    """Take back credits until `refunded_money` of the purchase is covered; credits taken."""
    target = share(purchase, refunded_money)
    due = target - purchase.refunded_credits
    if due <= 0:
        return 0
    before = account.balance
    entry = await ledger.post(
        session,
        account,
        type_="refund",
        amount=-due,
        reference=f"refund:{purchase.id}:{target}",
        description=f"Refund of purchase {purchase.id}: {due} credits taken back",
        now=now,
    )
    purchase.refunded_credits = target
    if purchase.status != "disputed":
        purchase.status = "refunded" if target >= purchase.credits else "partially_refunded"
    await OUTBOX.record(
        session,
        CreditsRefunded(
            organization_id=purchase.organization_id,
            purchase_id=purchase.id,
            transaction_id=entry.id,
            credits=due,
            refunded_credits_total=target,
            fully_refunded=target >= purchase.credits,
            balance_after=account.balance,
        ),
        subject=purchase.id,
        organization_id=purchase.organization_id,
        event_id=f"refunded_{purchase.id}_{target}",
    )
    await _crossings(session, account, before, entry.id, policy, now)
    return due


async def dispute_opened(
    session: AsyncSession,
    account: Account,
    purchase: Purchase,
    *,
    dispute_id: str,
    disputed_money: int,
    policy: Policy,
    now: datetime,
) -> None:
    """Hold the disputed credits (what is available of them); the purchase is `disputed`."""
    if purchase.status == "disputed" or await _closed(session, purchase, dispute_id):
        return
    credits = share(purchase, disputed_money)
    purchase.status, purchase.disputed_credits = "disputed", credits
    held = min(credits, account.available)
    if held > 0:
        await holds.reserve(
            session,
            organization_id=purchase.organization_id,
            amount=held,
            reference=_hold_reference(dispute_id),
            expires_at=None,  # a dispute takes weeks; it ends with its `closed` event
            description=f"Disputed payment of purchase {purchase.id}",
            policy=policy,
            now=now,
        )
    await _announce(session, purchase, dispute_id, "opened", credits, account)


async def dispute_closed(
    session: AsyncSession,
    account: Account,
    purchase: Purchase,
    *,
    dispute_id: str,
    disputed_money: int,
    won: bool,
    policy: Policy,
    now: datetime,
) -> None:
    """Won: the held credits are available again. Lost: they are debited. Once per dispute."""
    if await _closed(session, purchase, dispute_id):
        return
    await holds.release_if_pending(
        session,
        organization_id=purchase.organization_id,
        reference=_hold_reference(dispute_id),
        policy=policy,
        now=now,
    )
    credits = purchase.disputed_credits or share(purchase, disputed_money)
    purchase.disputed_credits = credits
    if won:
        purchase.status = "paid" if purchase.refunded_credits == 0 else "partially_refunded"
    else:
        purchase.status = "disputed"
    before = account.balance
    outcome = "won" if won else "lost"
    entry = await ledger.post(
        session,
        account,
        type_="dispute",
        amount=0 if won else -credits,
        reference=f"dispute:{dispute_id}:{outcome}",
        description=(
            f"Dispute {outcome} on purchase {purchase.id}: "
            + ("the held credits are available again" if won else f"{credits} credits taken back")
        ),
        now=now,
    )
    await _crossings(session, account, before, entry.id, policy, now)
    await _announce(session, purchase, dispute_id, "won" if won else "lost", credits, account)


async def _closed(session: AsyncSession, purchase: Purchase, dispute_id: str) -> bool:
    org = purchase.organization_id
    return await ledger.has_entry(session, org, f"dispute:{dispute_id}:won") or (
        await ledger.has_entry(session, org, f"dispute:{dispute_id}:lost")
    )


def _hold_reference(dispute_id: str) -> str:
    return f"dispute:{dispute_id}"


async def _announce(
    session: AsyncSession,
    purchase: Purchase,
    dispute_id: str,
    status: str,
    credits: int,
    account: Account,
) -> None:
    await OUTBOX.record(
        session,
        CreditsDisputed(
            organization_id=purchase.organization_id,
            purchase_id=purchase.id,
            dispute_id=dispute_id,
            status=status,
            credits=credits,
            balance_after=account.balance,
        ),
        subject=purchase.id,
        organization_id=purchase.organization_id,
        event_id=f"disputed_{dispute_id}_{status}",
    )


async def _crossings(
    session: AsyncSession,
    account: Account,
    before: int,
    entry_id: str,
    policy: Policy,
    now: datetime,
) -> None:
    await thresholds.after_change(
        session,
        account,
        balance_before=before,
        crossing_entry_id=entry_id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
