"""Every query of holds."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.pagination import newest_first
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import Hold


async def id_by_reference(
    session: AsyncSession, organization_id: str, reference: str
) -> str | None:
    """The id of the organization's hold `reference`, if any (no object loaded: the hold's
    changes are made by database functions, holds.service)."""
    return await session.scalar(
        select(Hold.id).where(Hold.organization_id == organization_id, Hold.reference == reference)
    )


async def due(session: AsyncSession, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(hold id, organization id) of pending holds past their `expires_at`, oldest first."""
    rows = await session.execute(
        select(Hold.id, Hold.organization_id)
        .where(Hold.status == "pending", Hold.expires_at.is_not(None), Hold.expires_at <= now)
        .order_by(Hold.expires_at)
        .limit(limit)
    )
    return [(hold_id, org) for hold_id, org in rows]


async def page(
    session: AsyncSession,
    organization_id: str,
    *,
    status: str | None,
    before_id: str | None,
    limit: int,
) -> list[Hold]:
    """Newest first; `before_id` is the cursor."""
    query = select(Hold).where(Hold.organization_id == organization_id)
    if status is not None:
        query = query.where(Hold.status == status)
    return list(await session.scalars(newest_first(query, Hold.id, before_id, limit)))
