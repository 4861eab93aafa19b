"""Every query of the `sandboxes` and `tasks` tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_sandbox_runner.models import LIVE_STATUSES, SandboxRow, TaskRow


async def sandbox_of_session(session: AsyncSession, session_id: str) -> SandboxRow | None:
    """The sandbox row of a session, on any runner, whatever its status."""
    return await session.scalar(select(SandboxRow).where(SandboxRow.session_id == session_id))


async def live_sandboxes(session: AsyncSession, runner_id: str) -> Sequence[SandboxRow]:
    """Rows of this runner whose session is still live (for adoption)."""
    query = select(SandboxRow).where(
        SandboxRow.runner_id == runner_id, SandboxRow.status.in_(LIVE_STATUSES)
    )
    return (await session.scalars(query)).all()


async def update_sandbox(session: AsyncSession, sandbox_id: str, **values: Any) -> None:
    await session.execute(
        update(SandboxRow).where(SandboxRow.sandbox_id == sandbox_id).values(**values)
    )


async def task(session: AsyncSession, task_id: str) -> TaskRow | None:
    return await session.get(TaskRow, task_id)


async def running_tasks(session: AsyncSession, runner_id: str) -> Sequence[TaskRow]:
    """Tasks this runner recorded as running (after a crash: none of them still is)."""
    query = select(TaskRow).where(TaskRow.runner_id == runner_id, TaskRow.status == "running")
    return (await session.scalars(query.with_for_update())).all()


async def finish_task(
    session: AsyncSession, task_id: str, *, status: str, finished_at: datetime
) -> None:
    await session.execute(
        update(TaskRow)
        .where(TaskRow.task_id == task_id)
        .values(status=status, finished_at=finished_at)
    )
