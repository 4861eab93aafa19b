"""Every query of accounts and ledger entries."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.pagination import newest_first
from sqlalchemy import (
    String,
    any_,
    bindparam,
    func,
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


async def spent_since(session: AsyncSession, organization_id: str, since: datetime) -> int:
    """Credits consumed (usage and captured holds) since `since` (a positive number)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(-LedgerEntry.amount), 0)).where(
            LedgerEntry.organization_id == organization_id,
            LedgerEntry.type.in_(("usage", "capture")),
            LedgerEntry.created_at >= since,
        )
    )
    return int(total or 0)


async def entries_page(
    session: AsyncSession,
    organization_id: str,
    *,
    before_id: str | None,
    limit: int,
    type_: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[LedgerEntry]:
    """Newest first; `before_id` is the cursor (ids sort by creation time); [start, end)."""
    query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id)
    if type_ is not None:
        query = query.where(LedgerEntry.type == type_)
    if start is not None:
        query = query.where(LedgerEntry.created_at >= start)
    if end is not None:
        query = query.where(LedgerEntry.created_at < end)
    rows = await session.scalars(newest_first(query, LedgerEntry.id, before_id, limit))
    return list(rows)


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
