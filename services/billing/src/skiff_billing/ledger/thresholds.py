"""What a change of an account tells its organization: credits low, credits exhausted.

Called in the transaction of the change, with the account still locked, so two concurrent
debits cannot both announce (nor both miss) a crossing.

- `billing.credits.low` once when `available` falls below the low mark; the account remembers
  it (`low_credit_notified`) until `available` is back at or above the mark.
- `billing.credits.exhausted` when the balance goes from above zero to zero or below; its
  event id is made from the entry that crossed, so a replay is the same event.

The rule is `crossings`; `after_change` applies it to an ORM account, `after_function` to the
state a database function answered (ledger.usage, holds.service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from skiff_contracts.events.billing import CreditsExhausted, CreditsLow
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing import driver, functions
from skiff_billing.functions import AccountState
from skiff_billing.models import Account
from skiff_billing.outbox import OUTBOX


def exhausted_event_id(entry_id: str) -> str:
    """The id of the `credits.exhausted` caused by the entry that took the balance to ≤ 0."""
    return f"exhausted_{entry_id}"


@dataclass(frozen=True, slots=True)
class Crossings:
    """What one change crossed, and what the account remembers afterwards."""

    exhausted: bool
    low: bool
    low_credit_notified: bool


def crossings(
    *, balance_before: int, balance: int, reserved: int, low_credit_notified: bool, low_mark: int
) -> Crossings:
    """The rule: exhausted when the balance went from above zero to zero or below; low once
    when available falls below the mark, not on top of exhaustion (it says it louder)."""
    exhausted = balance_before > 0 >= balance
    if max(balance - reserved, 0) >= low_mark:
        return Crossings(exhausted, low=False, low_credit_notified=False)
    low = not low_credit_notified and balance > 0
    return Crossings(exhausted, low=low, low_credit_notified=True)


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
    crossed = crossings(
        balance_before=balance_before,
        balance=account.balance,
        reserved=account.reserved,
        low_credit_notified=account.low_credit_notified,
        low_mark=low_mark,
    )
    account.low_credit_notified = crossed.low_credit_notified
    await _announce(
        session, account.organization_id, crossed, account, crossing_entry_id, now, low_mark
    )


async def after_function(
    session: AsyncSession,
    connection: asyncpg.Connection,
    organization_id: str,
    state: AccountState,
    *,
    crossing_entry_id: str,
    low_mark: int,
    now: datetime,
) -> None:
    """The same for a change a database function made on the session's connection."""
    crossed = crossings(
        balance_before=state.balance_before,
        balance=state.balance,
        reserved=state.reserved,
        low_credit_notified=state.low_credit_notified,
        low_mark=low_mark,
    )
    notified = crossed.low_credit_notified
    if notified != state.low_credit_notified:  # only at a crossing: no write on most changes
        await connection.execute(functions.SET_LOW_CREDIT_NOTIFIED, state.account_id, notified)
    driver.refresh_loaded(
        session,
        Account,
        state.account_id,
        balance=state.balance,
        reserved=state.reserved,
        low_credit_notified=notified,
    )
    await _announce(session, organization_id, crossed, state, crossing_entry_id, now, low_mark)


async def _announce(
    session: AsyncSession,
    org: str,
    crossed: Crossings,
    account: Account | AccountState,
    crossing_entry_id: str | None,
    now: datetime,
    low_mark: int,
) -> None:
    if crossed.exhausted and crossing_entry_id is not None:
        await OUTBOX.record(
            session,
            CreditsExhausted(organization_id=org, balance=account.balance, exhausted_at=now),
            subject=org,
            organization_id=org,
            event_id=exhausted_event_id(crossing_entry_id),
        )
    if crossed.low:
        await OUTBOX.record(
            session,
            CreditsLow(
                organization_id=org,
                available=account.available,
                threshold=low_mark,
                balance=account.balance,
            ),
            subject=org,
            organization_id=org,
        )
