"""What a change of an account tells its organization: credits low, credits exhausted.

Called in the transaction of the change, with the account still locked, so two concurrent
debits cannot both announce (nor both miss) a crossing.

- `billing.credits.low` once when `available` falls below the low mark; the account remembers
  it (`low_credit_notified`) until `available` is back at or above the mark.
- `billing.credits.exhausted` when the balance goes from above zero to zero or below; its
  event id is made from the entry that crossed, so a replay is the same event.
"""

from __future__ import annotations

from datetime import datetime

from skiff_contracts.events.billing import CreditsExhausted, CreditsLow
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import Account
from skiff_billing.outbox import OUTBOX


def exhausted_event_id(entry_id: str) -> str:
    """The id of the `credits.exhausted` caused by the entry that took the balance to ≤ 0."""
    return f"exhausted_{entry_id}"


async def after_change(
    session: AsyncSession,
    account: Account,
    *,
    balance_before: int,
    crossing_entry_id: str | None,
    low_mark: int,
    now: datetime,
) -> None:
    """Announce the crossings this change made (the account is locked and already changed)."""
    org = account.organization_id
    if balance_before > 0 >= account.balance and crossing_entry_id is not None:
        await OUTBOX.record(
            session,
            CreditsExhausted(organization_id=org, balance=account.balance, exhausted_at=now),
            subject=org,
            organization_id=org,
            event_id=exhausted_event_id(crossing_entry_id),
        )
    available = account.available
    if available >= low_mark:
        account.low_credit_notified = False
        return
    if account.low_credit_notified or account.balance <= 0:
        # Exhaustion says it louder; a low note on top of it would be noise.
        account.low_credit_notified = True
        return
    account.low_credit_notified = True
    await OUTBOX.record(
        session,
        CreditsLow(
            organization_id=org, available=available, threshold=low_mark, balance=account.balance
        ),
        subject=org,
        organization_id=org,
    )
