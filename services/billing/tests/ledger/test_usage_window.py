"""A usage charge looks up only a session's latest minutes, and still charges each minute once:
after a gap wider than that window, every missed minute; replays and late events, nothing."""

from __future__ import annotations

from billing_support import open_account, session_usage
from skiff_billing.ledger.usage import WINDOW, Charge, charge_usage, usage_reference
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SessionUsage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def charge(
    sessions: async_sessionmaker[AsyncSession], org: str, ses: str, minutes: int
) -> Charge | None:
    event = session_usage(org, ses, minutes).payload(SessionUsage)
    async with sessions() as session, session.begin():
        return await charge_usage(session, event)


async def ledger(sessions: async_sessionmaker[AsyncSession], org: str) -> tuple[int, list[str]]:
    """(balance, usage references in the order they were written)."""
    async with sessions() as session:
        account = await session.scalar(select(Account).where(Account.organization_id == org))
        references = await session.scalars(
            select(LedgerEntry.reference)
            .where(LedgerEntry.organization_id == org, LedgerEntry.type == "usage")
            .order_by(LedgerEntry.id)
        )
        assert account is not None
        return account.balance, list(references)


async def test_a_gap_wider_than_the_window_charges_every_missed_minute(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org, ses = await open_account(sessions, bonus=1000), new_id("ses")
    last = 3 * WINDOW  # the runner reported minutes 1..2, then was away

    await charge(sessions, org, ses, 2)
    caught_up = await charge(sessions, org, ses, last)

    assert caught_up is not None
    assert (caught_up.minutes, caught_up.session_total) == (last - 2, last)
    balance, references = await ledger(sessions, org)
    assert balance == 1000 - last
    assert references == [usage_reference(ses, m) for m in range(1, last + 1)]


async def test_replays_and_late_events_of_a_long_session_charge_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org, ses = await open_account(sessions, bonus=1000), new_id("ses")
    for minute in range(1, 2 * WINDOW + 3):
        await charge(sessions, org, ses, minute)
    balance, references = await ledger(sessions, org)

    replays = [await charge(sessions, org, ses, m) for m in (2 * WINDOW + 2, WINDOW, 1)]

    assert replays == [None, None, None]
    assert await ledger(sessions, org) == (balance, references)
    assert balance == 1000 - (2 * WINDOW + 2)
    assert len(set(references)) == len(references) == 2 * WINDOW + 2
    one_more = await charge(sessions, org, ses, 2 * WINDOW + 3)
    assert one_more is not None
    assert one_more.minutes == 1
