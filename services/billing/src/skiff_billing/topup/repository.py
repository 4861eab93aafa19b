"""Every query of auto top-up settings and attempts."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.sql_constant import constant
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import AutoTopup, TopupAttempt


async def config(session: AsyncSession, organization_id: str) -> AutoTopup | None:
    return await session.get(AutoTopup, organization_id)


async def locked_config(session: AsyncSession, organization_id: str) -> AutoTopup | None:
    return await session.scalar(
        select(AutoTopup)
        .where(AutoTopup.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def start_attempt(
    session: AsyncSession, *, attempt_id: str, organization_id: str, purchase_id: str, now: datetime
) -> bool:
    """Insert a pending attempt; False when one is pending already (the partial unique index)."""
    inserted = await session.scalar(
        insert(TopupAttempt)
        .values(
            id=attempt_id,
            organization_id=organization_id,
            purchase_id=purchase_id,
            status="pending",
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["organization_id"],
            # A constant (tests/topup/test_attempt_arbiter.py), as the index's predicate is.
            index_where=TopupAttempt.status == constant("pending"),
        )
        .returning(TopupAttempt.id)
    )
    return inserted is not None


async def counted_since(session: AsyncSession, organization_id: str, since: datetime) -> int:
    """Attempts since `since` that charged or may still charge (pending and succeeded)."""
    total = await session.scalar(
        select(func.count()).where(
            TopupAttempt.organization_id == organization_id,
            TopupAttempt.created_at >= since,
            TopupAttempt.status.in_(("pending", "succeeded")),
        )
    )
    return int(total or 0)


async def attempt_of_purchase(session: AsyncSession, purchase_id: str) -> TopupAttempt | None:
    return await session.scalar(
        select(TopupAttempt)
        .where(TopupAttempt.purchase_id == purchase_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def attempt(session: AsyncSession, attempt_id: str) -> TopupAttempt | None:
    return await session.get(TopupAttempt, attempt_id)


async def last_attempt(session: AsyncSession, organization_id: str) -> TopupAttempt | None:
    return await session.scalar(
        select(TopupAttempt)
        .where(TopupAttempt.organization_id == organization_id)
        .order_by(TopupAttempt.created_at.desc(), TopupAttempt.id.desc())
        .limit(1)
    )
