"""Every query of sessions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from skiff_kit.pagination import newest_first
from skiff_kit.sql_constant import constant
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.models import LIVE_SESSION_STATUSES, Session


async def lock_organization(db_session: AsyncSession, organization_id: str) -> None:
    """Serialize session creation within one organization until the transaction ends."""
    await db_session.execute(
        text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"orchestrator.sessions:{organization_id}"},
    )


async def count_live(db_session: AsyncSession, organization_id: str) -> int:
    count = await db_session.scalar(
        select(func.count())
        .select_from(Session)
        .where(
            Session.organization_id == organization_id,
            Session.status.in_(LIVE_SESSION_STATUSES),
        )
    )
    return int(count or 0)


async def of_organization(
    db_session: AsyncSession, organization_id: str, session_id: str, *, for_update: bool = False
) -> Session | None:
    query = select(Session).where(
        Session.id == session_id, Session.organization_id == organization_id
    )
    if for_update:
        query = query.with_for_update()
    return await db_session.scalar(query)


async def by_id_for_update(db_session: AsyncSession, session_id: str) -> Session | None:
    return await db_session.scalar(
        select(Session).where(Session.id == session_id).with_for_update()
    )


async def page(
    db_session: AsyncSession,
    organization_id: str,
    *,
    status: str | None,
    metadata: Mapping[str, str],
    before_id: str | None,
    limit: int,
) -> Sequence[Session]:
    """Newest first; `metadata` pairs must all match (JSONB containment)."""
    query = select(Session).where(Session.organization_id == organization_id)
    if status is not None:
        query = query.where(Session.status == status)
    if metadata:
        query = query.where(Session.metadata_.contains(dict(metadata)))
    return list(await db_session.scalars(newest_first(query, Session.id, before_id, limit)))


async def live_of_organization_for_update(
    db_session: AsyncSession, organization_id: str
) -> Sequence[Session]:
    query = (
        select(Session)
        .where(
            Session.organization_id == organization_id,
            Session.status.in_(("starting", "running", "paused")),
        )
        .order_by(Session.id)
        .with_for_update()
    )
    return list(await db_session.scalars(query))


async def live_with_runner(db_session: AsyncSession) -> Sequence[Session]:
    """Live sessions pinned to a runner (the reaper checks those runners are still there).
    The statuses are constants, so the plan reads the partial `ix_sessions_live`."""
    query = select(Session).where(
        Session.status.in_([constant(status) for status in LIVE_SESSION_STATUSES]),
        Session.runner_id.is_not(None),
    )
    return list(await db_session.scalars(query))


async def starting_since_for_update(
    db_session: AsyncSession, created_before: datetime
) -> Sequence[Session]:
    query = (
        select(Session)
        .where(
            Session.status == constant("starting"),  # reads the partial `ix_sessions_live`
            Session.runner_id.is_(None),
            Session.created_at < created_before,
        )
        .order_by(Session.id)
        .with_for_update(skip_locked=True)
    )
    return list(await db_session.scalars(query))
