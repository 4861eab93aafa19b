"""Every query of notifications."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.pagination import newest_first
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.models import Notification


async def insert_once(session: AsyncSession, notification: Notification) -> bool:
    """Insert unless a notification for the same source event exists; True when inserted."""
    values = {c.key: getattr(notification, c.key) for c in Notification.__table__.columns}
    inserted = await session.scalar(
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_notifications_source_user")
        .returning(Notification.id)
    )
    return inserted is not None


def _recipient(organization_id: str, user_id: str):  # type: ignore[no-untyped-def]
    return (Notification.organization_id == organization_id) & (Notification.user_id == user_id)


async def page(
    session: AsyncSession,
    *,
    organization_id: str,
    user_id: str,
    read: bool | None,
    type_: str | None,
    before_id: str | None,
    limit: int,
) -> list[Notification]:
    query = select(Notification).where(_recipient(organization_id, user_id))
    if read is not None:
        query = query.where(
            Notification.read_at.is_not(None) if read else Notification.read_at.is_(None)
        )
    if type_ is not None:
        query = query.where(Notification.type == type_)
    return list(await session.scalars(newest_first(query, Notification.id, before_id, limit)))


async def unread_count(session: AsyncSession, *, organization_id: str, user_id: str) -> int:
    count = await session.scalar(
        select(func.count()).where(
            _recipient(organization_id, user_id), Notification.read_at.is_(None)
        )
    )
    return int(count or 0)


async def one(
    session: AsyncSession, notification_id: str, *, organization_id: str, user_id: str
) -> Notification | None:
    return await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, _recipient(organization_id, user_id)
        )
    )


async def mark_all_read(
    session: AsyncSession, *, organization_id: str, user_id: str, now: datetime
) -> int:
    result = await session.execute(
        update(Notification)
        .where(_recipient(organization_id, user_id), Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
