"""Every query of provider events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import ProviderEvent


async def claim(
    session: AsyncSession, provider: str, event_id: str, type_: str, now: datetime
) -> ProviderEvent | None:
    """Record the event as being handled; None when it was handled (or is being) already.

    A concurrent delivery of the same event waits here on the primary key until the first
    commits (then gets None) or rolls back (then claims it).
    """
    claimed = await session.scalar(
        insert(ProviderEvent)
        .values(provider=provider, event_id=event_id, type=type_, status="applied", received_at=now)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(ProviderEvent.event_id)
    )
    if claimed is None:
        return None
    return await session.get(ProviderEvent, (provider, event_id))


async def parked(session: AsyncSession, provider: str, waiting_for: str) -> list[ProviderEvent]:
    """Events waiting for a payment, in the order they arrived (locked)."""
    rows = await session.scalars(
        select(ProviderEvent)
        .where(
            ProviderEvent.provider == provider,
            ProviderEvent.status == "parked",
            ProviderEvent.waiting_for == waiting_for,
        )
        .order_by(ProviderEvent.received_at, ProviderEvent.event_id)
        .with_for_update()
    )
    return list(rows)
