"""JetStream handlers of `sandbox.task.*`: the task row follows, never leaving a final status."""

from __future__ import annotations

from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.sandbox import TaskCompleted, TaskStarted
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.models import TERMINAL_TASK_STATUSES
from skiff_orchestrator.tasks import repository

FINAL = frozenset(TERMINAL_TASK_STATUSES)


async def on_started(db_session: AsyncSession, _: Envelope, event: TaskStarted) -> None:
    task = await repository.by_id_for_update(db_session, event.task_id)
    if task is None or task.status in FINAL:
        return
    task.status = "running"
    task.started_at = event.started_at


async def on_completed(db_session: AsyncSession, _: Envelope, event: TaskCompleted) -> None:
    task = await repository.by_id_for_update(db_session, event.task_id)
    if task is None or task.status in FINAL:
        return
    task.status = event.status if event.status in FINAL else "failed"
    task.exit_code = event.exit_code
    task.stdout = event.stdout
    task.stderr = event.stderr
    task.truncated = event.truncated
    task.error = event.error
    task.duration_ms = event.duration_ms
    task.finished_at = event.finished_at
    task.started_at = task.started_at or event.finished_at


SANDBOX_TASK_HANDLERS: dict[str, tuple[type[EventPayload], Any]] = {
    TaskStarted.event_type: (TaskStarted, on_started),
    TaskCompleted.event_type: (TaskCompleted, on_completed),
}
