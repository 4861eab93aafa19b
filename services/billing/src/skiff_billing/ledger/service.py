"""The rules of the ledger: every change of a balance is an entry. Never commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_contracts.events.billing import AccountOpened
from skiff_kit.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.ledger import repository
from skiff_billing.models import Account, LedgerEntry
from skiff_billing.outbox import OUTBOX
from skiff_billing.usage import rollups

SIGNUP_BONUS_REFERENCE = "signup_bonus"


async def open_account(session: AsyncSession, *, organization_id: str, bonus: int) -> bool:
    """Open the organization's account with its signup bonus, once; False if it was open."""
    now = datetime.now(UTC)
    account_id = new_id("acc")
    if not await repository.insert_account_once(
        session, account_id=account_id, organization_id=organization_id, now=now
    ):
        return False
    account = await repository.account_for_update(session, organization_id)
    assert account is not None
    if bonus > 0:
        await post(
            session,
            account,
            type_="bonus",
            amount=bonus,
            reference=SIGNUP_BONUS_REFERENCE,
            description="Signup bonus",
            now=now,
        )
    await OUTBOX.record(
        session,
        AccountOpened(
            organization_id=organization_id,
            account_id=account.id,
            bonus_credits=bonus,
            balance=account.balance,
            opened_at=now,
        ),
        subject=account.id,
        organization_id=organization_id,
    )
    return True


async def account(session: AsyncSession, organization_id: str) -> Account:
    """The organization's account, or 404 when billing has not opened it (yet)."""
    found = await repository.account_of(session, organization_id)
    if found is None:
        raise NotFound("This organization has no credit account yet.", code="account_not_found")
    return found


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def used_this_month(session: AsyncSession, organization_id: str, now: datetime) -> int:
    """Credits spent this month (UTC): usage charges and captured holds. Read from the daily
    `credits_used` rollups, which every such entry bumps in its own transaction (the charge
    and capture functions): a month's handful of rows, not its entries."""
    start, today = month_start(now).date(), now.date()
    return await rollups.total(
        session, organization_id, "credits_used", start, today + timedelta(days=1)
    )


async def locked_account(session: AsyncSession, organization_id: str) -> Account | None:
    """The organization's account, row-locked until the transaction ends (None if none).

    Every change of a balance or of `reserved` takes this lock first, so changes of one
    organization apply one after the other and each sees the previous one's result.
    """
    return await repository.account_for_update(session, organization_id)


async def has_entry(session: AsyncSession, organization_id: str, reference: str) -> bool:
    """True when the organization's ledger already holds `reference`."""
    found = await repository.existing_references(session, organization_id, [reference])
    return reference in found


async def post(
    session: AsyncSession,
    account: Account,
    *,
    type_: str,
    amount: int,
    reference: str,
    description: str,
    now: datetime,
) -> LedgerEntry:
    """Append one entry to a locked account's ledger and move its balance by `amount`."""
    account.balance += amount
    entry = LedgerEntry(
        id=new_id("txn"),
        account_id=account.id,
        organization_id=account.organization_id,
        type=type_,
        amount=amount,
        balance_after=account.balance,
        description=description,
        reference=reference,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry
