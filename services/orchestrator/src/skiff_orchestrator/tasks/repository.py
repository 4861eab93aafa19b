"""Every query of tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from skiff_kit.pagination import newest_first
from skiff_kit.sql_constant import constant
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.models import Task

UNFINISHED = ("queued", "running")


async def of_organization(
    db_session: AsyncSession, organization_id: str, task_id: str, *, for_update: bool = False
) -> Task | None:
    query = select(Task).where(Task.id == task_id, Task.organization_id == organization_id)
    if for_update:
        query = query.with_for_update()
    return await db_session.scalar(query)


async def by_id_for_update(db_session: AsyncSession, task_id: str) -> Task | None:
    return await db_session.scalar(select(Task).where(Task.id == task_id).with_for_update())


async def page_of_session(
    db_session: AsyncSession,
    session_id: str,
    *,
    status: str | None,
    before_id: str | None,
    limit: int,
) -> Sequence[Task]:
    """Newest first; with `status`, only the tasks in it."""
    query = select(Task).where(Task.session_id == session_id)
    if status is not None:
        query = query.where(Task.status == status)
    return list(await db_session.scalars(newest_first(query, Task.id, before_id, limit)))


async def fail_unfinished(
    db_session: AsyncSession, session_id: str, *, error: str, at: datetime
) -> None:
    """A session that ended takes its unfinished tasks with it."""
    await db_session.execute(
        update(Task)
        .where(Task.session_id == session_id, Task.status.in_(UNFINISHED))
        .values(status="failed", error=error, finished_at=at)
    )


async def mark_accepted(db_session: AsyncSession, task_id: str, *, at: datetime) -> None:
    """The runner took the task: `running`, unless its end was already recorded."""
    await db_session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status == "queued")
        .values(status="running", accepted_at=at, started_at=at)
    )


async def never_accepted_for_update(
    db_session: AsyncSession, created_before: datetime
) -> Sequence[Task]:
    """Queued tasks the runner never took. `queued` goes out as a constant: a generic plan then
    knows the queued tasks are few and seeks them in `ix_tasks_status`; with a parameter it
    guessed a status's share of every task and read the whole table."""
    query = (
        select(Task)
        .where(
            Task.status == constant("queued"),
            Task.accepted_at.is_(None),
            Task.created_at < created_before,
        )
        .with_for_update(skip_locked=True)
    )
    return list(await db_session.scalars(query))
