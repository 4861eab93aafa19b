"""Every query of accounts and ledger entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    String,
    any_,
    bindparam,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import Account, LedgerEntry


async def insert_account_once(
    session: AsyncSession, *, account_id: str, organization_id: str, now: datetime
) -> bool:
    """Insert the organization's account; False when it already had one."""
    inserted = await session.scalar(
        insert(Account)
        .values(
            id=account_id, organization_id=organization_id, balance=0, reserved=0, created_at=now
        )
        .on_conflict_do_nothing(index_elements=[Account.organization_id])
        .returning(Account.id)
    )
    return inserted is not None


async def account_for_update(session: AsyncSession, organization_id: str) -> Account | None:
    return await session.scalar(
        select(Account)
        .where(Account.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def account_of(session: AsyncSession, organization_id: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.organization_id == organization_id))


async def existing_references(
    session: AsyncSession, organization_id: str, references: list[str]
) -> set[str]:
    """Which of `references` the organization's ledger already has (one array parameter)."""
    wanted = bindparam("references", references, type_=ARRAY(String))
    rows = await session.scalars(
        select(LedgerEntry.reference).where(
            LedgerEntry.organization_id == organization_id, LedgerEntry.reference == any_(wanted)
        )
    )
    return set(rows)


async def position(
    session: AsyncSession, organization_id: str, entry_id: str
) -> tuple[datetime, str] | None:
    """Where the organization's entry `entry_id` sorts in its ledger: `(created_at, id)`."""
    row = (
        await session.execute(
            select(LedgerEntry.created_at, LedgerEntry.id).where(
                LedgerEntry.id == entry_id, LedgerEntry.organization_id == organization_id
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def entries_page(
    session: AsyncSession,
    organization_id: str,
    *,
    before: tuple[datetime, str] | None,
    limit: int,
    type_: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[LedgerEntry]:
    """Newest first by `(created_at, id)`, from just before `before` (the cursor's
    `position`); [start, end). One index range, read backwards (migration 0010)."""
    query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id)
    if type_ is not None:
        query = query.where(LedgerEntry.type == type_)
    if start is not None:
        query = query.where(LedgerEntry.created_at >= start)
    if end is not None:
        query = query.where(LedgerEntry.created_at < end)
    if before is not None:
        query = query.where(tuple_(LedgerEntry.created_at, LedgerEntry.id) < tuple_(*before))
    query = query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def entries_between(
    session: AsyncSession,
    organization_id: str,
    *,
    start: datetime,
    end: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[LedgerEntry]:
    """Oldest first in [start, end), after the (created_at, id) of the last one read."""
    query = select(LedgerEntry).where(
        LedgerEntry.organization_id == organization_id,
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    )
    if after is not None:
        query = query.where(tuple_(LedgerEntry.created_at, LedgerEntry.id) > tuple_(*after))
    query = query.order_by(LedgerEntry.created_at, LedgerEntry.id).limit(limit)
    return list(await session.scalars(query))
