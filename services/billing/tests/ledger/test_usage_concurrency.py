"""Usage events applied at the same time, as two billing replicas would: each minute once.

The consumer's own path (`EventConsumer.apply`: inbox claim + handler in one transaction, on
a bare connection or, when a rule writes, a session) is run concurrently on separate
connections, so the inbox, the account lock and the unique references are all exercised
against real PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest
from billing_support import deliver_usage, open_account, session_usage
from skiff_billing.ledger import usage
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_messaging.errors import PermanentError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def deliver(sessions: async_sessionmaker[AsyncSession], envelope: Envelope) -> bool:
    """What the consumer does with one delivery: False when the inbox had it."""
    return await deliver_usage(sessions, envelope)


async def outbox_types(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(text("select subject from outbox order by subject")))


async def test_concurrent_duplicate_deliveries_charge_each_minute_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions, bonus=100)
    ses = new_id("ses")
    minute_two = session_usage(org, ses, 2)
    final = session_usage(org, ses, 2, final=True, seconds=61.0)
    # The same event delivered to several replicas, plus the same minutes under other ids.
    fresh = Envelope.wrap(minute_two.payload(SessionUsage), source="skiff/sandbox_runner")
    deliveries = [minute_two] * 4 + [final] * 4 + [fresh] * 2

    applied = await asyncio.gather(*(deliver(sessions, e) for e in deliveries))

    assert sum(applied) == 3  # one per distinct event id; the inbox stopped the rest
    async with sessions() as session:
        entries = list(
            await session.scalars(
                select(LedgerEntry).where(LedgerEntry.organization_id == org).order_by("id")
            )
        )
        account = await session.scalar(select(Account).where(Account.organization_id == org))
    assert [e.reference for e in entries if e.type == "usage"] == [
        f"usage:{ses}:1",
        f"usage:{ses}:2",
    ]
    assert account is not None
    assert account.balance == 98
    # Only the delivery that charged announced it.
    assert await outbox_types(sessions) == ["billing.account.opened", "billing.usage.charged"]


async def test_many_sessions_of_one_organization_charged_at_once_add_up(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions, bonus=5)
    events = [session_usage(org, new_id("ses"), 1) for _ in range(8)]

    await asyncio.gather(*(deliver(sessions, e) for e in events))

    async with sessions() as session:
        account = await session.scalar(select(Account).where(Account.organization_id == org))
        balances = sorted(
            await session.scalars(
                select(LedgerEntry.balance_after).where(
                    LedgerEntry.organization_id == org, LedgerEntry.type == "usage"
                )
            )
        )
    assert account is not None
    assert account.balance == -3
    assert balances == [-3, -2, -1, 0, 1, 2, 3, 4]  # serialized by the account lock
    assert (await outbox_types(sessions)).count("billing.credits.exhausted") == 1


async def test_usage_of_an_organization_without_an_account_is_retried(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    envelope = session_usage(new_id("org"), new_id("ses"), 1)

    with pytest.raises(usage.NoAccountYet):
        await deliver(sessions, envelope)

    assert await outbox_types(sessions) == []


async def test_an_absurd_minute_count_is_refused_for_good(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions)
    envelope = session_usage(org, new_id("ses"), usage.MAX_MINUTES + 1)

    with pytest.raises(PermanentError):
        await deliver(sessions, envelope)


async def test_zero_minutes_charge_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = await open_account(sessions)

    assert await deliver(sessions, session_usage(org, new_id("ses"), 0, final=True, seconds=0))

    assert await outbox_types(sessions) == ["billing.account.opened"]
