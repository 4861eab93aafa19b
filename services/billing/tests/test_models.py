"""The database keeps the ledger honest even if code does not: only usage and clawbacks (refunds,
disputes, captures of holds reserved before them) overdraw; no repeats; holds resolve once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from skiff_billing.ledger import service
from skiff_billing.models import Account, Hold, LedgerEntry
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


@pytest.mark.parametrize("type_", ["adjustment", "purchase", "bonus", "reservation", "release"])
async def test_only_usage_and_clawbacks_may_overdraw_the_balance(
    sessions: async_sessionmaker[AsyncSession], type_: str
) -> None:
    # docs/sandboxes.md, Metering: a running minute may take the balance below zero; so may a
    # refund or a lost dispute of credits already spent (docs/billing.md).
    account = await open_with(sessions, bonus=1)
    async with sessions() as session:
        session.add(entry(account, reference="debit-1", type_=type_, amount=-2, after=-1))
        with pytest.raises(IntegrityError, match="ck_ledger_entries_only_usage_overdraws"):
            await session.flush()
    async with sessions() as session, session.begin():
        session.add(entry(account, reference="refund:1", type_="refund", amount=-2, after=-1))
    async with sessions() as session, session.begin():
        session.add(entry(account, reference="usage:ses_1:1", type_="usage", amount=-2, after=-1))
        await session.execute(
            update(Account).where(Account.id == account.id).values(balance=Account.balance - 2)
        )
    assert await balance_of(sessions, account) == -1
    async with sessions() as session, session.begin():  # a credit may land below zero too
        session.add(entry(account, reference="grant-1", amount=1, after=0))


async def test_spending_exactly_the_balance_is_allowed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Account).where(Account.id == account.id).values(balance=Account.balance - 100)
        )
    assert await balance_of(sessions, account) == 0


async def test_reserved_credits_are_never_negative(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await open_with(sessions, bonus=100)
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="ck_accounts_reserved"):
            await session.execute(
                update(Account).where(Account.id == account.id).values(reserved=-1)
            )
    # A refund may shrink the balance under a hold reserved before it: reserve() checks
    # `available` under the account's lock; the database only refuses a negative reservation.
    async with sessions() as session, session.begin():
        await session.execute(
            update(Account).where(Account.id == account.id).values(balance=-1, reserved=1)
        )


def entry(
    account: Account,
    *,
    reference: str,
    type_: str = "adjustment",
    amount: int = 1,
    after: int = 101,
) -> LedgerEntry:
    return LedgerEntry(
        id=new_id("txn"),
        account_id=account.id,
        organization_id=account.organization_id,
        type=type_,
        amount=amount,
        balance_after=after,
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


@pytest.mark.parametrize(
    ("status", "resolved"), [("pending", False), ("captured", True), ("expired", True)]
)
async def test_known_hold_statuses_are_stored(
    sessions: async_sessionmaker[AsyncSession], status: str, resolved: bool
) -> None:
    async with sessions() as session, session.begin():
        session.add(hold(status=status, resolved_at=datetime.now(UTC) if resolved else None))


async def test_only_known_hold_statuses_are_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(hold(status="frozen", resolved_at=datetime.now(UTC)))
        with pytest.raises(IntegrityError, match="ck_holds_status"):
            await session.flush()


def hold(*, status: str, resolved_at: datetime | None) -> Hold:
    return Hold(
        id=new_id("hld"),
        organization_id=new_id("org"),
        amount=5,
        captured=0,
        status=status,
        reference=new_id("ref"),
        description="a test hold",
        resolved_at=resolved_at,
    )
