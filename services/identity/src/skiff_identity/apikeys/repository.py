"""Every query of API keys and their usage."""

from __future__ import annotations

from datetime import date

from skiff_kit.pagination import newest_first
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.apikeys.models import ApiKey, ApiKeyUsage


async def page(
    session: AsyncSession, *, organization_id: str, before_id: str | None, limit: int
) -> list[ApiKey]:
    """The organization's keys that are not deleted, newest first."""
    query = select(ApiKey).where(
        ApiKey.organization_id == organization_id, ApiKey.deleted_at.is_(None)
    )
    return list(await session.scalars(newest_first(query, ApiKey.id, before_id, limit)))


async def for_update(session: AsyncSession, *, organization_id: str, key_id: str) -> ApiKey | None:
    """A key of this organization (not deleted), locked until the transaction ends."""
    return await session.scalar(
        select(ApiKey)
        .where(
            ApiKey.id == key_id,
            ApiKey.organization_id == organization_id,
            ApiKey.deleted_at.is_(None),
        )
        .with_for_update()
    )


async def get(session: AsyncSession, *, organization_id: str, key_id: str) -> ApiKey | None:
    return await session.scalar(
        select(ApiKey).where(
            ApiKey.id == key_id,
            ApiKey.organization_id == organization_id,
            ApiKey.deleted_at.is_(None),
        )
    )


async def add_usage(
    session: AsyncSession,
    *,
    key_id: str,
    organization_id: str,
    day: date,
    status_class: str,
    requests: int,
) -> None:
    """Add `requests` to the day's counter (created at the first report)."""
    statement = insert(ApiKeyUsage).values(
        key_id=key_id,
        organization_id=organization_id,
        day=day,
        status_class=status_class,
        requests=requests,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key_id", "day", "status_class"],
            set_={"requests": ApiKeyUsage.requests + statement.excluded.requests},
        )
    )


async def usage(
    session: AsyncSession, *, key_id: str, start: date, end: date
) -> list[tuple[date, str, int]]:
    """(day, status class, requests) of a key between two days, inclusive, oldest first."""
    rows = await session.execute(
        select(ApiKeyUsage.day, ApiKeyUsage.status_class, func.sum(ApiKeyUsage.requests))
        .where(ApiKeyUsage.key_id == key_id, ApiKeyUsage.day.between(start, end))
        .group_by(ApiKeyUsage.day, ApiKeyUsage.status_class)
        .order_by(ApiKeyUsage.day, ApiKeyUsage.status_class)
    )
    return [(day, status_class, int(total)) for day, status_class, total in rows.all()]
