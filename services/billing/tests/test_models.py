"""The database keeps the ledger honest even if code does not: no negative balance, no repeats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from skiff_billing.ledger import service
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import new_id
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def open_with(sessions: async_sessionmaker[AsyncSession], bonus: int) -> Account:
    org = new_id("org")
    async with sessions() as session, session.begin():
        await service.open_account(session, organization_id=org, bonus=bonus)
    async with sessions() as session:
        return await service.account(session, org)


async def balance_of(sessions: async_sessionmaker[AsyncSession], account: Account) -> int:
    async with sessions() as session:
        return (await service.account(session, account.organization_id)).balance


async def test_the_balance_never_goes_below_zero(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="ck_accounts_balance_not_negative"):
            await session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(balance=Account.balance - 101)
            )
    assert await balance_of(sessions, account) == 100


async def test_spending_exactly_the_balance_is_allowed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Account).where(Account.id == account.id).values(balance=Account.balance - 100)
        )
    assert await balance_of(sessions, account) == 0


async def test_reserved_credits_stay_within_the_balance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    for reserved in (101, -1):
        async with sessions() as session:
            with pytest.raises(IntegrityError, match="ck_accounts_reserved"):
                await session.execute(
                    update(Account).where(Account.id == account.id).values(reserved=reserved)
                )


def entry(account: Account, *, reference: str, type_: str = "adjustment") -> LedgerEntry:
    return LedgerEntry(
        id=new_id("txn"),
        account_id=account.id,
        organization_id=account.organization_id,
        type=type_,
        amount=1,
        balance_after=101,
        description="test",
        reference=reference,
        created_at=datetime.now(UTC),
    )


async def test_a_reference_counts_once_per_organization(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session:
        session.add(entry(account, reference="signup_bonus"))
        with pytest.raises(IntegrityError, match="uq_ledger_entries_reference"):
            await session.flush()

    other = await open_with(sessions, bonus=100)  # its own signup_bonus reference: allowed
    assert await balance_of(sessions, other) == 100


async def test_only_known_entry_types_are_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session:
        session.add(entry(account, reference="gift-1", type_="gift"))
        with pytest.raises(IntegrityError, match="ck_ledger_entries_type"):
            await session.flush()
